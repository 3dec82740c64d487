"""Change plans: build → review (live reads) → submit (policy, conflicts) → approve → apply → retry / revert / expire.

Every write to an instance made by a plan goes through :func:`plan_apply`: operations grouped per connection, the
connections in parallel on a bounded pool, each connection's operations in order. Worker threads only talk to the
instance (read, compare with ``planned``, write, re-read); the calling thread owns the database — it writes each
operation's outcome and audit row as results arrive, so the progress page fills in live.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.policy import decide, operator_is_admin
from apps.accounts.scope import operator_scope
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectoryUser
from apps.directory.services import index_remove_invite, index_upsert_user
from apps.plans.actions import OpInput, get_action
from apps.plans.models import Operation, Plan
from apps.providers.errors import ProviderError
from apps.providers.http import fan_out

logger = logging.getLogger(__name__)

OpState = Operation.State


class PlanError(Exception):
    """A plan cannot move on (a refusal the operator can read)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class OpSpec:
    connection: Connection
    target_id: str
    action: str
    params: dict[str, Any]
    label: str = ""
    email: str = ""
    message: str = (
        ""  # set: the operation is recorded as skipped with this reason (e.g. a revert that cannot be)
    )
    line: int | None = None  # the CSV line it came from


def plan_create(
    *, actor, title: str, source: str, specs: Iterable[OpSpec], ticket: str = "", **fields
) -> Plan:
    """A draft plan with one operation per spec, in order (what every builder ends with)."""
    with transaction.atomic():
        plan = Plan.objects.create(
            title=title[:200], author=actor, source=source, ticket=ticket[:100], **fields
        )
        Operation.objects.bulk_create(
            Operation(
                plan=plan,
                position=n,
                connection=s.connection,
                target_kind=get_action(s.action).target_kind,
                target_id=s.target_id,
                target_label=s.label[:300],
                target_email=s.email.lower(),
                action=s.action,
                params=s.params,
                state=OpState.SKIPPED if s.message else OpState.PENDING,
                message=s.message,
                source_line=s.line,
            )
            for n, s in enumerate(specs, start=1)
        )
    return plan


def _index_rows(email: str, actor=None) -> list[DirectoryUser]:
    """The person's index rows, on the connections ``actor``'s scope covers (a plan never reaches past it)."""
    rows = DirectoryUser.objects.filter(email=email.strip().lower())
    if getattr(actor, "is_authenticated", False):
        rows = rows.filter(operator_scope(actor).q("connection__"))
    return list(rows.select_related("connection").order_by("connection__name"))


def _invite_revoke_spec(row: DirectoryUser) -> OpSpec:
    return OpSpec(
        connection=row.connection,
        target_id=str(row.invite["id"]),
        action="invite.revoke",
        params={"email": row.email},
        label=f"Invite of {row.email}",
        email=row.email,
    )


def plan_build_offboard(*, actor, email: str, include_groups: bool = True, ticket: str = "") -> Plan:
    """Every instance the directory index has this person on: remove them from their custom groups (optional),
    then deactivate them (ToolJet archives the account, Retool disables it); and revoke each of their pending
    Retool invites, so a link sent before the offboarding cannot let them in afterwards."""
    rows = _index_rows(email, actor)
    if not rows:
        raise PlanError(f"{email} is on no indexed instance.")
    specs: list[OpSpec] = []
    for row in rows:
        if row.invite:
            if row.invite.get("state") == "pending":
                specs.append(_invite_revoke_spec(row))
            continue
        who = {
            "connection": row.connection,
            "target_id": row.remote_id,
            "label": row.name,
            "email": row.email,
        }
        if include_groups:
            for m in row.memberships:
                for name in m.get("groups", ()):
                    specs.append(
                        OpSpec(
                            **who,
                            action="group.member_remove",
                            params={"workspace_id": m["workspace_id"], "group_name": name},
                        )
                    )
            for g in row.groups:
                specs.append(
                    OpSpec(
                        **who,
                        action="group.member_remove",
                        params={"group_id": str(g["id"]), "group_name": g.get("name", "")},
                    )
                )
        specs.append(OpSpec(**who, action="user.status", params={"status": "archived"}))
    if not specs:
        raise PlanError(f"{email} has no account and no pending invite on any indexed instance.")
    return plan_create(
        actor=actor, title=f"Offboard {email.lower()}", source=Plan.Source.PERSON, specs=specs, ticket=ticket
    )


def _who(row: DirectoryUser) -> dict[str, Any]:
    return {"connection": row.connection, "target_id": row.remote_id, "label": row.name, "email": row.email}


def _memberships(row: DirectoryUser, workspace: str = "") -> list[dict[str, Any]]:
    """The person's ToolJet memberships on this row, or only the one named ``workspace`` (id or name)."""
    if not workspace:
        return list(row.memberships)
    wanted = workspace.strip().lower()
    return [
        m
        for m in row.memberships
        if wanted in (str(m.get("workspace_id", "")).lower(), str(m.get("workspace_name", "")).lower())
    ]


def account_specs(
    row: DirectoryUser,
    action: str,
    *,
    role: str = "",
    status: str = "",
    group: str = "",
    key: str = "",
    value: str = "",
    workspace: str = "",
) -> list[OpSpec]:
    """The operations one builder action makes for one account (a directory index row). ``action`` is one of
    :data:`BUILDER_ACTIONS`; ``workspace`` (ToolJet, id or name) narrows it to one membership, otherwise every
    membership the index knows is concerned. Whether it would change anything is decided at review, live."""
    if row.invite:
        # a pending Retool invite, not an account: offboarding revokes it; nothing else applies to it yet
        if action == "offboard" and row.invite.get("state") == "pending":
            return [_invite_revoke_spec(row)]
        raise PlanError(f"{row.email} has only an invite on {row.connection.name}, no account yet.")
    who = _who(row)
    spaces = _memberships(row, workspace)
    tooljet = bool(row.memberships)
    if workspace and not spaces:
        raise PlanError(f"{row.email} is not in a workspace named {workspace} on {row.connection.name}.")
    if action == "offboard":
        return [OpSpec(**who, action="user.status", params={"status": "archived"})]
    if action == "status":
        wanted = "active" if status == "active" else "archived"
        if workspace:
            return [
                OpSpec(
                    **who, action="user.status", params={"status": wanted, "workspace_id": m["workspace_id"]}
                )
                for m in spaces
            ]
        return [OpSpec(**who, action="user.status", params={"status": wanted})]
    if action == "role":
        roles = connection_capabilities(row.connection).roles
        missing = f"{row.connection.name} has no role named {role}." if roles and role not in roles else ""
        if tooljet:
            return [
                OpSpec(
                    **who,
                    action="user.role",
                    params={"role": role, "workspace_id": m["workspace_id"]},
                    message=missing,
                )
                for m in spaces
            ]
        return [OpSpec(**who, action="user.role", params={"role": role}, message=missing)]
    if action in ("group_add", "group_remove"):
        name = "group.member_add" if action == "group_add" else "group.member_remove"
        if not tooljet:
            return [OpSpec(**who, action=name, params={"group_name": group})]
        if action == "group_remove" and not workspace:
            # only where the index says they are in it; everywhere (the review says "not in it") otherwise
            spaces = [m for m in spaces if group in m.get("groups", ())] or spaces
        return [
            OpSpec(**who, action=name, params={"workspace_id": m["workspace_id"], "group_name": group})
            for m in spaces
        ]
    if action == "metadata":
        if not tooljet:
            return [OpSpec(**who, action="user.attribute", params={"name": key, "value": value})]
        return [
            OpSpec(
                **who,
                action="user.metadata",
                params={"workspace_id": m["workspace_id"], "items": {key: value}},
            )
            for m in spaces
        ]
    raise PlanError(f"Unknown action {action}.")


# what each builder action needs of an instance (a CSV row or a selection is refused where it is missing)
BUILDER_ACTIONS: dict[str, str] = {
    "offboard": "user.status",
    "status": "user.status",
    "role": "user.role",
    "group_add": "group.member_add",
    "group_remove": "group.member_remove",
    "metadata": "user.metadata",
}


def plan_build_role(*, actor, email: str, role: str, ticket: str = "") -> Plan:
    """Every instance the person is on: the role in every workspace (ToolJet) or the instance role (Retool). An
    instance without that role gets a skipped operation saying so. An invite has no role yet: left out."""
    rows = [r for r in _index_rows(email, actor) if not r.invite]
    if not rows:
        raise PlanError(f"{email} is on no indexed instance.")
    specs = [spec for row in rows for spec in account_specs(row, "role", role=role)]
    return plan_create(
        actor=actor,
        title=f"Change role of {email.lower()} to {role}",
        source=Plan.Source.PERSON,
        specs=specs,
        ticket=ticket,
    )


MAX_SELECTION = 1000


def plan_build_selection(
    *, actor, account_ids: list[int], action: str, role: str = "", group: str = "", ticket: str = ""
) -> Plan:
    """From a multi-select on the search results: one operation per selected account (one per workspace for a
    ToolJet role or group change), reviewed like any plan."""
    if action not in ("offboard", "role", "group_add", "group_remove"):
        raise PlanError("Pick what to change for the selected people.")
    if action == "role" and not role:
        raise PlanError("Pick the role to give the selected people.")
    if action in ("group_add", "group_remove") and not group.strip():
        raise PlanError("Name the group.")
    rows = list(
        DirectoryUser.objects.filter(pk__in=account_ids[:MAX_SELECTION])
        .filter(operator_scope(actor).q("connection__"))
        .select_related("connection")
        .order_by("email", "connection__name")
    )
    if not rows:
        raise PlanError("Select at least one person first.")
    specs = [s for row in rows for s in account_specs(row, action, role=role, group=group.strip())]
    people = len({row.email for row in rows})
    what = {
        "offboard": "Offboard",
        "role": f"Role {role} for",
        "group_add": f"Add to {group.strip()}:",
        "group_remove": f"Remove from {group.strip()}:",
    }[action]
    return plan_create(
        actor=actor,
        title=f"{what} {people} selected {'person' if people == 1 else 'people'}",
        source=Plan.Source.SELECTION,
        specs=specs,
        ticket=ticket,
    )


def plan_build_copy_access(*, actor, email: str, source_email: str, ticket: str = "") -> Plan:
    """Give ``email`` the workspaces' roles and the groups ``source_email`` has, instance by instance, where both
    have an account (and, on ToolJet, workspace by workspace where both are members). What cannot be copied is
    kept as the plan's notes, shown on the review."""
    email, source_email = email.strip().lower(), source_email.strip().lower()
    if email == source_email:
        raise PlanError("Pick another person to copy access from.")
    sources = _index_rows(source_email, actor)
    if not sources:
        raise PlanError(f"{source_email} is on no indexed instance.")
    mine = {row.connection_id: row for row in _index_rows(email, actor)}
    specs: list[OpSpec] = []
    notes: list[str] = []
    for src in sources:
        name = src.connection.name
        row = mine.get(src.connection_id)
        if row is None:
            notes.append(f"{name}: {email} has no account there; invite them first.")
            continue
        who = _who(row)
        if not src.memberships:
            role = "admin" if src.is_admin else next(iter(src.role_list), "")
            if role:
                specs.append(OpSpec(**who, action="user.role", params={"role": role}))
            for g in src.groups:
                if g.get("name", "").strip().lower() == "all users":
                    continue  # everyone is in it
                specs.append(
                    OpSpec(
                        **who,
                        action="group.member_add",
                        params={"group_id": str(g["id"]), "group_name": g.get("name", "")},
                    )
                )
            continue
        theirs = {m["workspace_id"]: m for m in row.memberships}
        for m in src.memberships:
            ws_name = m.get("workspace_name") or m["workspace_id"]
            if m.get("status") != "active":
                notes.append(
                    f"{name}: {source_email} is {m.get('status') or 'not active'} in {ws_name}; not copied."
                )
                continue
            if m["workspace_id"] not in theirs:
                notes.append(
                    f"{name}: {email} is not a member of workspace {ws_name}; add them to it on their user page first."
                )
                continue
            if m.get("role"):
                specs.append(
                    OpSpec(
                        **who,
                        action="user.role",
                        params={"role": m["role"], "workspace_id": m["workspace_id"]},
                    )
                )
            for group in m.get("groups", ()):
                specs.append(
                    OpSpec(
                        **who,
                        action="group.member_add",
                        params={"workspace_id": m["workspace_id"], "group_name": group},
                    )
                )
    if not specs:
        raise PlanError("Nothing to copy. " + " ".join(notes))
    return plan_create(
        actor=actor,
        title=f"Copy access from {source_email} to {email}",
        source=Plan.Source.PERSON,
        specs=specs,
        ticket=ticket,
        source_report={"notes": notes} if notes else None,
    )


# ---------------------------------------------------------------------------------------------------------------
# Review: live reads and the policy's answer per operation
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class OpReview:
    op: Operation
    label: str = ""
    before: str = ""
    after: str = ""
    skip: str = ""  # the operation will not be sent: why
    denied: str = ""  # the policy refuses it for this operator
    approval: str = ""  # why a second approver is needed
    warnings: list[str] = field(default_factory=list)
    already: bool = False  # skipped because it is already so (not because it cannot be done)

    @property
    def will_apply(self) -> bool:
        return not (self.skip or self.denied) and self.op.state == OpState.PENDING


class _ReadOnce:
    """A provider for one review pass: each person, group and group search is read once however many operations
    name it (an offboarding's group removals and deactivation all read the same person). Everything else is the
    provider's own."""

    def __init__(self, provider) -> None:
        self._provider = provider
        self._seen: dict[tuple, Any] = {}

    def _once(self, key: tuple, read) -> Any:
        if key not in self._seen:
            try:
                self._seen[key] = read()
            except ProviderError as exc:
                self._seen[key] = exc
        value = self._seen[key]
        if isinstance(value, ProviderError):
            raise value
        return value

    def get_user(self, user_id: str):
        return self._once(("user", user_id), lambda: self._provider.get_user(user_id))

    def get_group(self, group_id: str, *, workspace_id: str | None = None):
        return self._once(
            ("group", group_id, workspace_id),
            lambda: self._provider.get_group(group_id, workspace_id=workspace_id),
        )

    def iter_groups(self, workspace_id: str | None = None, *, search: str | None = None):
        key = ("groups", workspace_id, search)
        return iter(self._once(key, lambda: list(self._provider.iter_groups(workspace_id, search=search))))

    def get_user_metadata(self, workspace_id: str, user_id: str):
        return self._once(
            ("metadata", workspace_id, user_id),
            lambda: self._provider.get_user_metadata(workspace_id, user_id),
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


def _read_connection(ops: list[Operation]) -> dict[int, dict[str, Any]]:
    """On a worker thread: read every operation's target on one connection (no database access here)."""
    out: dict[int, dict[str, Any]] = {}
    with get_provider(ops[0].connection) as raw:
        provider = _ReadOnce(raw)
        for op in ops:
            try:
                snapshot, _ = get_action(op.action).read(provider, OpInput(op.target_id, op.params))
            except ProviderError as exc:
                snapshot = {"error": exc.message}
            out[op.pk] = snapshot
    return out


def _by_connection(ops: Iterable[Operation]) -> dict[int, list[Operation]]:
    groups: dict[int, list[Operation]] = defaultdict(list)
    for op in ops:
        if op.connection_id is not None:
            groups[op.connection_id].append(op)
    return groups


def plan_refresh(*, plan: Plan) -> None:
    """Read every pending operation's target live (connections in parallel) and store it as ``planned``: what the
    operator reviews is what the apply will compare with. Only drafts are re-read."""
    if plan.state != Plan.State.DRAFT:
        return
    ops = list(plan.operations.select_related("connection").filter(state=OpState.PENDING))
    groups = list(_by_connection(ops).values())
    results = fan_out(_read_connection, groups, max_workers=settings.ADMINUI_PLAN_PARALLEL)
    for result in results:
        if result.error is not None:
            message = getattr(result.error, "message", "") or type(result.error).__name__
            snapshots = {op.pk: {"error": message} for op in result.item}
        else:
            snapshots = result.value
        for op in result.item:
            op.planned = snapshots[op.pk]
            if op.planned.get("label"):
                op.target_label = op.planned["label"][:300]
    for op in ops:
        if op.connection_id is None:
            op.planned = {"error": "The connection was deleted."}
    Operation.objects.bulk_update(ops, ["planned", "target_label"])


def _review_op(op: Operation, actor, caps_cache: dict[int, Any]) -> OpReview:
    action = get_action(op.action)
    review = OpReview(op=op, label=action.label)
    planned = op.planned or {}
    readable = bool(planned) and "error" not in planned
    if readable and op.params:
        review.before, review.after = action.describe(planned, op.params)
    if op.state != OpState.PENDING:
        review.skip = op.message or op.get_state_display()
        return review
    if op.connection is None:
        review.skip = "The connection was deleted."
        return review
    if not readable:
        review.skip = f"Could not read it: {planned['error']}" if planned else "Not read yet."
        return review
    caps = caps_cache.get(op.connection_id)
    if caps is None:
        caps = caps_cache[op.connection_id] = connection_capabilities(op.connection)
    missing = action.missing_capability(caps)
    review.skip = f"Not possible here: {missing}" if missing else action.skip_reason(planned, op.params)
    # skip reasons that say the target is already as wanted ("Already …", "Not in … any more")
    review.already = not missing and review.skip.startswith(("Already", "Not in "))
    target = action.policy_target(op.connection, planned, op.params)
    if target.protected:
        review.warnings.append("Holds admin upstream (protected account).")
    if actor is not None:
        decision = decide(operator=actor, action=action.policy_action, target=target)
        review.denied = "" if decision.allowed else decision.reason
        review.approval = decision.approval_reason
    return review


def plan_review_rows(*, plan: Plan, actor=None) -> list[OpReview]:
    """Each operation with before → after from its recorded ``planned``, and the policy's answer for ``actor``
    (the author at review, the approver in the queue)."""
    caps: dict[int, Any] = {}
    return [_review_op(op, actor, caps) for op in plan.operations.select_related("connection")]


@dataclass
class Summary:
    per_connection: list[tuple[str, int, int]]  # (connection name, will apply, skipped)
    apply: int
    skipped: int
    denied: int
    approval: list[str]


def plan_summary(rows: list[OpReview]) -> Summary:
    counts: dict[str, list[int]] = {}
    for r in rows:
        name = r.op.connection.name if r.op.connection else "(deleted connection)"
        c = counts.setdefault(name, [0, 0])
        c[0 if r.will_apply else 1] += 1
    approval = sorted({r.approval for r in rows if r.will_apply and r.approval})
    return Summary(
        per_connection=[(n, a, s) for n, (a, s) in counts.items()],
        apply=sum(1 for r in rows if r.will_apply),
        skipped=sum(1 for r in rows if not r.will_apply and not r.denied),
        denied=sum(1 for r in rows if r.denied and not r.skip),
        approval=approval,
    )


def plan_conflict(*, plan: Plan) -> str:
    """A sentence naming the first active plan that holds one of this plan's targets, or "". Two queries however
    many operations the plan has: the active plans' open operations on the same connections are few."""
    mine = list(
        plan.operations.filter(state=OpState.PENDING)
        .order_by("position")
        .values_list("connection_id", "target_id")
    )
    if not mine:
        return ""
    wanted = set(mine)
    held: dict[tuple[int, str], int] = {}
    others = (
        Operation.objects.filter(
            plan__state__in=Plan.ACTIVE,
            state__in=(OpState.PENDING, OpState.UNKNOWN),
            connection_id__in={c for c, _ in wanted},
        )
        .exclude(plan=plan)
        .order_by("plan_id", "position")
        .values_list("pk", "connection_id", "target_id")
    )
    for pk, connection_id, target_id in others.iterator():
        if (connection_id, target_id) in wanted:
            held.setdefault((connection_id, target_id), pk)
    first = next((held[key] for key in mine if key in held), None)
    if first is None:
        return ""
    other = Operation.objects.select_related("plan", "plan__author", "connection").get(pk=first)
    p = other.plan
    return (
        f"Plan #{p.pk} “{p.title}” ({p.get_state_display().lower()}, by {p.actor_name}) already changes "
        f"{other.target_label or other.target_id} on {other.connection.name}. Wait for it to finish "
        "or have it rejected first."
    )


# ---------------------------------------------------------------------------------------------------------------
# Submit, approve, reject
# ---------------------------------------------------------------------------------------------------------------


def _enqueue_apply(plan: Plan) -> None:
    from apps.plans.tasks import plan_apply_task

    plan_id = plan.pk
    transaction.on_commit(lambda: plan_apply_task.enqueue(plan_id))


def plan_submit(*, plan: Plan, actor, reason: str, ticket: str, expires_in_hours: int | None = None) -> Plan:
    """The author confirms the reviewed plan with one reason and ticket. Operations that would be skipped or that
    the policy refuses are recorded as skipped (with why); a conflict with another active plan refuses the whole
    plan. Then: waiting for approval when any remaining operation needs it, otherwise approved and queued."""
    if plan.state != Plan.State.DRAFT:
        raise PlanError("This plan was already submitted.")
    if plan.author_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the author can submit this plan.")
    reason = reason.strip()
    if settings.ADMINUI_REQUIRE_REASON and not reason:
        raise ValidationError("Give a reason: it is recorded with every change of this plan.")
    rows = plan_review_rows(plan=plan, actor=actor)
    if not any(r.will_apply for r in rows):
        denied = next((r.denied for r in rows if r.denied and not r.skip), "")
        raise PlanError(f"Not allowed: {denied}" if denied else "Nothing in this plan would change anything.")
    conflict = plan_conflict(plan=plan)
    if conflict:
        raise PlanError(conflict)
    skipped = []
    for r in rows:
        if r.op.state != OpState.PENDING:
            continue
        r.op.needs_approval = bool(r.approval) and r.will_apply and not r.denied
        r.op.warnings = r.warnings
        if r.skip or r.denied:
            r.op.state = OpState.SKIPPED
            r.op.message = r.skip or f"Not allowed: {r.denied}"
        skipped.append(r.op)
    Operation.objects.bulk_update(skipped, ["state", "message", "needs_approval", "warnings"])
    plan.reason, plan.ticket = reason, ticket.strip()[:100]
    if expires_in_hours:
        plan.expires_at = timezone.now() + timedelta(hours=expires_in_hours)
    approval = sorted({r.approval for r in rows if r.will_apply and not r.denied and r.approval})
    with transaction.atomic():
        if approval:
            plan.state = Plan.State.PENDING_APPROVAL
            plan.approval_reasons = approval
            plan.request_expires_at = timezone.now() + timedelta(seconds=settings.ADMINUI_PLAN_APPROVAL_TTL)
        else:
            plan.state = Plan.State.APPROVED
            _enqueue_apply(plan)
        plan.save()
    return plan


def _plan_audit(action: str, plan: Plan, actor, **kw) -> AuditEvent:
    return audit_record(
        action=action,
        actor=actor,
        target_type="plan",
        target_id=str(plan.pk),
        target_repr=plan.title,
        reason=plan.reason,
        ticket=plan.ticket,
        extra={
            "plan_id": plan.pk,
            "requested_by": plan.author.get_username() if plan.author_id else "",
            "on_behalf_of": plan.on_behalf_of.get_username() if plan.on_behalf_of_id else "",
            "approved_by": plan.approved_by.get_username() if plan.approved_by_id else "",
            "source": plan.source,
            "reverts": plan.reverts_id,
            **kw.pop("extra", {}),
        },
        **kw,
    )


def approval_requests_expire(*, now=None) -> int:
    """Requests nobody approved in time expire (they never apply)."""
    now = now or timezone.now()
    return Plan.objects.filter(state=Plan.State.PENDING_APPROVAL, request_expires_at__lte=now).update(
        state=Plan.State.EXPIRED, updated_at=now
    )


def plan_approve(*, plan: Plan, approver) -> Plan:
    """A second operator approves: an admin, not the author, allowed by the policy for every operation. The plan
    then applies by itself."""
    approval_requests_expire()
    plan.refresh_from_db()
    if plan.state != Plan.State.PENDING_APPROVAL:
        raise PlanError(f"This plan is {plan.get_state_display().lower()}, not waiting for approval.")
    if not operator_is_admin(approver):
        raise PermissionDenied("Only admin operators can approve plans.")
    if plan.author_id == approver.pk or plan.on_behalf_of_id == approver.pk:
        raise PermissionDenied("You cannot approve your own plan: another admin has to.")
    rows = plan_review_rows(plan=plan, actor=approver)
    denied = [r for r in rows if r.op.state == OpState.PENDING and r.denied and not r.skip]
    if denied:
        raise PermissionDenied(denied[0].denied)
    with transaction.atomic():
        updated = Plan.objects.filter(pk=plan.pk, state=Plan.State.PENDING_APPROVAL).update(
            state=Plan.State.APPROVED,
            approved_by=approver,
            approved_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not updated:
            raise PlanError("Someone else decided on this plan a moment ago.")
        plan.refresh_from_db()
        _enqueue_apply(plan)
    _plan_audit(AuditEvent.Action.PLAN_APPROVE, plan, approver)
    return plan


def plan_reject(*, plan: Plan, approver, note: str = "") -> Plan:
    if plan.state != Plan.State.PENDING_APPROVAL:
        raise PlanError(f"This plan is {plan.get_state_display().lower()}, not waiting for approval.")
    if not (operator_is_admin(approver) or plan.author_id == approver.pk):
        raise PermissionDenied("Only admin operators (or the author, to withdraw it) can reject a plan.")
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.REJECTED, updated_at=timezone.now())
    plan.refresh_from_db()
    _plan_audit(AuditEvent.Action.PLAN_REJECT, plan, approver, error=note[:1000])
    return plan


# ---------------------------------------------------------------------------------------------------------------
# Apply
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    op: Operation
    state: str
    message: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    user: Any = None  # the re-read RemoteUser, for the index
    sent: bool = False
    upstream_status: int | None = None
    upstream_request_id: str = ""
    duration_ms: int | None = None


def _reread(action, provider, op: Operation, item: OpInput, outcome: _Outcome) -> None:
    try:
        outcome.after, outcome.user = action.read(provider, item)
    except ProviderError:
        logger.warning(
            "re-reading %s on %s after an unknown outcome failed", op.target_id, op.connection.slug
        )


def _apply_one(provider, op: Operation) -> _Outcome:
    """Re-read, compare with ``planned``, write, re-read. Never touches the database."""
    action = get_action(op.action)
    item = OpInput(op.target_id, op.params, op.planned)
    try:
        current, _ = action.read(provider, item)
    except ProviderError as exc:
        return _Outcome(op, OpState.FAILURE, f"Could not read it before the change: {exc.message}")
    already = action.skip_reason(current, op.params)
    if already:
        if op.state == OpState.UNKNOWN:  # a resumed apply: the lost answer had been applied
            return _Outcome(
                op,
                OpState.SUCCESS,
                "It had been applied (found on re-reading).",
                before=op.planned,
                after=current,
            )
        return _Outcome(op, OpState.SKIPPED, already, before=current)
    if action.fingerprint(current, op.params) != action.fingerprint(op.planned or {}, op.params):
        return _Outcome(
            op,
            OpState.SKIPPED,
            "Changed upstream since the plan was reviewed; not overwritten. Review a new plan.",
            before=current,
        )
    outcome = _Outcome(op, OpState.SUCCESS, before=current, sent=True)
    try:
        action.apply(provider, item)
    except ProviderError as exc:
        outcome.upstream_status = getattr(exc, "status_code", None)
        outcome.upstream_request_id = getattr(exc, "upstream_request_id", "") or ""
        if exc.may_have_applied:
            outcome.state, outcome.message = OpState.UNKNOWN, exc.message
            _reread(action, provider, op, item, outcome)
            if outcome.after is not None and action.skip_reason(outcome.after, op.params):
                outcome.state = OpState.SUCCESS
                outcome.message = "The answer was lost, but re-reading shows it was applied."
        else:
            outcome.state, outcome.message = OpState.FAILURE, exc.message
        return outcome
    try:
        outcome.after, outcome.user = action.read(provider, item)
    except ProviderError as exc:
        outcome.message = f"Applied; re-reading it failed: {exc.message}"
    return outcome


def _apply_connection(ops: list[Operation], results: queue.Queue) -> None:
    """On a worker thread: one connection's operations, in order."""
    reported = 0
    try:
        with get_provider(ops[0].connection) as provider:
            for op in ops:
                started = time.monotonic()
                try:
                    outcome = _apply_one(provider, op)
                except Exception as exc:  # noqa: BLE001 - one operation's bug must not stop the others
                    logger.exception("plan operation %s failed", op.pk)
                    outcome = _Outcome(op, OpState.FAILURE, f"Internal error: {type(exc).__name__}")
                outcome.duration_ms = int((time.monotonic() - started) * 1000)
                results.put(outcome)
                reported += 1
    except ProviderError as exc:  # the connection itself is unusable (token unreadable)
        for op in ops[reported:]:
            results.put(_Outcome(op, OpState.FAILURE, exc.message))
    finally:
        results.put(None)


def _actor(plan: Plan):
    if plan.author_id:
        return plan.author
    return f"system (for {plan.on_behalf_of.get_username()})" if plan.on_behalf_of_id else "system"


def _record(plan: Plan, outcome: _Outcome) -> None:
    """On the calling thread: the operation's outcome, its audit row (when something was sent) and the index."""
    op = outcome.op
    op.state, op.message, op.after = outcome.state, outcome.message[:10_000], outcome.after
    fields = ["state", "message", "after"]
    if outcome.sent:
        action = get_action(op.action)
        event = audit_record(
            action=action.audit_action,
            actor=_actor(plan),
            connection=op.connection,
            target_type=op.target_kind,
            target_id=op.target_id,
            target_repr=op.target_label,
            before=outcome.before,
            after=outcome.after,
            reason=plan.reason,
            ticket=plan.ticket,
            outcome={
                OpState.SUCCESS: AuditEvent.Outcome.SUCCESS,
                OpState.UNKNOWN: AuditEvent.Outcome.UNKNOWN,
            }.get(outcome.state, AuditEvent.Outcome.FAILURE),
            error="" if outcome.state == OpState.SUCCESS else outcome.message,
            upstream_status=outcome.upstream_status,
            upstream_request_id=outcome.upstream_request_id,
            duration_ms=outcome.duration_ms,
            extra={
                "plan_id": plan.pk,
                "operation": op.position,
                "plan_action": op.action,
                "params": op.params,
            },
        )
        op.audit_event_id = event.pk
        fields.append("audit_event_id")
    op.save(update_fields=fields)
    if outcome.user is not None and op.connection is not None:
        index_upsert_user(connection=op.connection, user=outcome.user)
    if op.target_kind == "invite" and op.state == OpState.SUCCESS and op.connection is not None:
        index_remove_invite(connection=op.connection, invite_id=op.target_id)


def plan_apply(*, plan_id: int, resume: bool = False) -> str:
    """Apply an approved plan; returns its final state. Claiming it (approved → applying) is atomic, so a second
    run of the same task does nothing. ``resume=True`` continues a plan left ``applying`` by a worker that died:
    its ``pending`` and ``unknown`` operations are re-read before anything is sent."""
    claimable = (Plan.State.APPROVED, Plan.State.APPLYING) if resume else (Plan.State.APPROVED,)
    with transaction.atomic():
        updated = Plan.objects.filter(pk=plan_id, state__in=claimable).update(
            state=Plan.State.APPLYING, updated_at=timezone.now()
        )
    plan = Plan.objects.select_related("author", "on_behalf_of", "approved_by").get(pk=plan_id)
    if not updated:
        return plan.state
    ops = list(
        plan.operations.select_related("connection").filter(state__in=(OpState.PENDING, OpState.UNKNOWN))
    )
    for op in ops:
        if op.connection is None:
            _record(plan, _Outcome(op, OpState.FAILURE, "The connection was deleted."))
    groups = list(_by_connection(o for o in ops if o.connection is not None).values())
    results: queue.Queue = queue.Queue()
    if groups:
        with ThreadPoolExecutor(max_workers=max(1, min(settings.ADMINUI_PLAN_PARALLEL, len(groups)))) as pool:
            for group in groups:
                pool.submit(_apply_connection, group, results)
            running = len(groups)
            while running:
                outcome = results.get()
                if outcome is None:
                    running -= 1
                else:
                    _record(plan, outcome)
    return _finish(plan)


def _finish(plan: Plan) -> str:
    states = list(plan.operations.values_list("state", flat=True))
    failed = sum(1 for s in states if s in (OpState.FAILURE, OpState.UNKNOWN))
    succeeded = sum(1 for s in states if s == OpState.SUCCESS)
    if failed and succeeded:
        state = Plan.State.PARTLY_FAILED
    elif failed:
        state = Plan.State.FAILED
    else:
        state = Plan.State.DONE
    counts = {s: states.count(s) for s in OpState.values}
    plan.state, plan.finished_at = state, timezone.now()
    event = _plan_audit(
        AuditEvent.Action.PLAN_APPLY,
        plan,
        _actor(plan),
        after={"state": state, "operations": counts},
        outcome=AuditEvent.Outcome.SUCCESS if state == Plan.State.DONE else AuditEvent.Outcome.FAILURE,
        error="" if state == Plan.State.DONE else f"{failed} of {len(states)} operations did not succeed.",
    )
    plan.audit_event_id = event.pk
    plan.save(update_fields=["state", "finished_at", "audit_event_id", "updated_at"])
    return state


# ---------------------------------------------------------------------------------------------------------------
# Retry, revert, expiry
# ---------------------------------------------------------------------------------------------------------------


def _spec(op: Operation, action: str, params: dict[str, Any], message: str = "") -> OpSpec:
    return OpSpec(
        connection=op.connection,
        target_id=op.target_id,
        action=action,
        params=params,
        label=op.target_label,
        email=op.target_email,
        message=message,
    )


def plan_retry_build(*, plan: Plan, actor) -> Plan:
    """A new draft of only the failed (and unknown) operations, reviewed again like any plan."""
    failed = list(
        plan.operations.select_related("connection").filter(state__in=(OpState.FAILURE, OpState.UNKNOWN))
    )
    if not plan.is_finished or not failed:
        raise PlanError("There is nothing to retry in this plan.")
    return plan_create(
        actor=actor,
        title=f"Retry of #{plan.pk}: {plan.title}"[:200],
        source=Plan.Source.RETRY,
        specs=[_spec(op, op.action, op.params) for op in failed],
        ticket=plan.ticket,
        retry_of=plan,
    )


def _revert_specs(plan: Plan) -> list[OpSpec]:
    specs = []
    for op in (
        plan.operations.select_related("connection").filter(state=OpState.SUCCESS).order_by("-position")
    ):
        inverse = get_action(op.action).inverse(op.params, op.planned)
        if isinstance(inverse, str):
            specs.append(_spec(op, op.action, {}, message=f"Cannot be reverted: {inverse}"))
        else:
            specs.append(_spec(op, inverse[0], inverse[1]))
    return specs


def plan_revert_build(*, plan: Plan, actor, source: str = Plan.Source.REVERT, **fields) -> Plan:
    """A new draft that puts back what ``plan`` changed, from the recorded before-states (last change first)."""
    if not plan.is_finished:
        raise PlanError("Only a finished plan can be reverted.")
    specs = _revert_specs(plan)
    if not specs:
        raise PlanError("This plan changed nothing that could be reverted.")
    return plan_create(
        actor=actor,
        title=f"Revert #{plan.pk}: {plan.title}"[:200],
        source=source,
        specs=specs,
        ticket=plan.ticket,
        reverts=plan,
        **fields,
    )


def plans_time_boxed_holding() -> Any:
    """Finished time-boxed plans whose effect still holds: no revert of them is on its way or applied (a revert
    draft someone left, or one rejected, does not count)."""
    from django.db.models import Exists, OuterRef

    reverting = Plan.objects.filter(reverts=OuterRef("pk"), state__in=(*Plan.ACTIVE, *Plan.FINISHED))
    return Plan.objects.filter(state__in=Plan.FINISHED, expires_at__isnull=False).exclude(Exists(reverting))


def _revert_approved(plan: Plan, *, actor, reason: str, source: str) -> Plan | None:
    """Build the revert of ``plan``, read its targets, record what would be skipped, and mark it approved (the
    caller applies it). None when there is nothing to revert (the plan's time box is then cleared)."""
    try:
        revert = plan_revert_build(
            plan=plan, actor=actor, source=source, on_behalf_of=None if actor else plan.author
        )
    except PlanError as exc:
        logger.info("plan %s ended with nothing to revert: %s", plan.pk, exc.message)
        Plan.objects.filter(pk=plan.pk).update(expires_at=None)
        return None
    plan_refresh(plan=revert)
    caps: dict[int, Any] = {}
    reviews = [
        _review_op(op, actor, caps)
        for op in revert.operations.select_related("connection").filter(state=OpState.PENDING)
    ]
    denied = next((r.denied for r in reviews if r.denied and not r.skip), "")
    if denied:  # an operator ending access early may do only what the policy allows them (no second approver)
        revert.delete()
        raise PlanError(f"Not allowed: {denied}")
    for review in reviews:
        if review.skip:
            review.op.state, review.op.message = OpState.SKIPPED, review.skip
            review.op.save(update_fields=["state", "message"])
    revert.reason = reason
    revert.state = Plan.State.APPROVED
    revert.approved_at = timezone.now()
    revert.save(update_fields=["reason", "state", "approved_at", "updated_at"])
    return revert


def plans_expire(*, now=None) -> list[int]:
    """For the scheduler: requests nobody approved in time expire; every finished plan past its ``expires_at``
    gets its revert built and applied at once (actor: the system on behalf of the author; reason: "time-boxed
    access ended"). Returns the ids of the revert plans applied."""
    now = now or timezone.now()
    approval_requests_expire(now=now)
    applied = []
    for plan in plans_time_boxed_holding().filter(expires_at__lte=now).select_related("author"):
        revert = _revert_approved(
            plan, actor=None, reason="time-boxed access ended", source=Plan.Source.EXPIRY
        )
        if revert is not None:
            plan_apply(plan_id=revert.pk)
            applied.append(revert.pk)
    return applied


def plan_end_now(*, plan: Plan, actor) -> Plan:
    """End time-boxed access early: the same revert as expiry, built now by ``actor`` and queued for the worker
    (nothing to review: it puts back the recorded before-states, which expiry would do anyway, so no second approver
    is asked for; but every operation must be one the policy allows ``actor``)."""
    if not plans_time_boxed_holding().filter(pk=plan.pk).exists():
        raise PlanError("This plan holds no time-boxed access any more.")
    revert = _revert_approved(
        plan, actor=actor, reason="time-boxed access ended early", source=Plan.Source.EXPIRY
    )
    if revert is None:
        raise PlanError("This plan changed nothing that could be reverted.")
    with transaction.atomic():
        _enqueue_apply(revert)
    return revert


def session_ticket_set(*, session, ticket: str) -> str:
    """The ticket an operator is working on, kept for their browser session; new plans start with it."""
    ticket = ticket.strip()[:100]
    if ticket:
        session["plans_ticket"] = ticket
    else:
        session.pop("plans_ticket", None)
    return ticket
