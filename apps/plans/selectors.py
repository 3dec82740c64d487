from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.policy import operator_is_admin
from apps.accounts.scope import operator_scope
from apps.plans.models import Operation, Plan


def plan_get(*, pk: int) -> Plan:
    return Plan.objects.select_related("author", "on_behalf_of", "approved_by", "reverts", "retry_of").get(
        pk=pk
    )


def plans_visible_to(user) -> QuerySet[Plan]:
    """The plans an operator may see: none with an operation on a connection their scope does not cover."""
    scope = operator_scope(user)
    if scope.unrestricted:
        return Plan.objects.all()
    hidden = Operation.objects.exclude(scope.q("connection__")).values("plan_id")
    return Plan.objects.exclude(pk__in=hidden)


def approval_queue(*, user) -> QuerySet[Plan]:
    """Requests waiting for a second approver that have not expired (for admins; empty for everyone else)."""
    if not operator_is_admin(user):
        return Plan.objects.none()
    return (
        plans_visible_to(user)
        .filter(state=Plan.State.PENDING_APPROVAL, request_expires_at__gt=timezone.now())
        .select_related("author")
        .order_by("created_at")
    )


def approval_count(*, user) -> int:
    """How many requests this operator could approve (not their own)."""
    return approval_queue(user=user).exclude(author=user).count()


def plan_list(*, user) -> QuerySet[Plan]:
    return plans_visible_to(user).select_related("author", "on_behalf_of").order_by("-created_at")


def plan_progress(*, plan: Plan) -> dict[str, int]:
    states = list(plan.operations.values_list("state", flat=True))
    counts = {s: states.count(s) for s in Operation.State.values}
    counts["total"] = len(states)
    counts["done"] = len(states) - counts[Operation.State.PENDING]
    return counts


def person_temporary_access(*, email: str) -> list[Plan]:
    """Time-boxed plans that changed this person and are not reverted yet, soonest end first."""
    from apps.plans.services import plans_time_boxed_holding

    return list(
        plans_time_boxed_holding()
        .filter(
            operations__target_email=email.strip().lower(),
            operations__state=Operation.State.SUCCESS,
        )
        .distinct()
        .select_related("author")
        .order_by("expires_at")
    )


def person_history(*, email: str, rows, limit: int = 100) -> dict[str, list]:
    """What touched this person on any instance, newest first: plan operations (by e-mail) and audit rows of their
    accounts (``rows``: their directory index rows) — changes to the account and group member changes naming it,
    whether made by a plan, the user page or a group page."""
    from django.db.models import Q

    from apps.audit.models import AuditEvent

    email = email.strip().lower()
    operations = list(
        Operation.objects.filter(target_email=email)
        .exclude(plan__state=Plan.State.DRAFT)
        .select_related("plan", "connection")
        .order_by("-plan__created_at", "position")[:limit]
    )
    # each account's rows through the connection index (a scan of the whole trail would grow with it); group member
    # rows name the member's upstream id in ``extra.user_id``
    match = Q(pk__in=[])
    for row in rows:
        on = Q(connection_id=row.connection_id)
        match |= on & Q(target_type="user", target_id=row.remote_id)
        match |= on & Q(action__startswith="group.member_", extra__user_id=row.remote_id)
    events = list(AuditEvent.objects.filter(match).order_by("-sequence")[:limit]) if rows else []
    return {"operations": operations, "events": events}
