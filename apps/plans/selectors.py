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
