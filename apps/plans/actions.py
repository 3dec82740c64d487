"""The one registry of what a plan operation can do.

Each entry says which capability it needs, how to read its target's current state live (``read`` → a JSON
snapshot, stored as the operation's ``planned`` at review), why it would be skipped (``skip_reason``: already so,
built-in group …), how to describe before → after, which part of the snapshot the apply compares with ``planned``
(``fingerprint``), how to write through the provider (``apply``) and how to build its inverse from ``planned``
(``inverse``: ``(action, params)`` or a sentence saying why there is none).

Entries call provider methods only (vendor details stay in ``apps.providers``) and never touch the database: they
run on the apply's worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.accounts.policy import Change, Target, is_admin_group, is_protected_account
from apps.providers.base import Capabilities, RemoteUser
from apps.providers.errors import NotFoundError

INACTIVE = ("archived", "disabled")


@dataclass(frozen=True)
class OpInput:
    """What an entry sees of an operation (a plain copy, safe to hand to a worker thread)."""

    target_id: str
    params: dict[str, Any]
    planned: dict[str, Any] | None = None


def user_state(user: RemoteUser) -> dict[str, Any]:
    """The parts of a remote user every entry's snapshot starts from."""
    return {
        "email": user.email,
        "label": f"{user.name or user.email} <{user.email}>",
        "status": user.status,
        "active": user.active,
        "role": user.role,
        "protected": is_protected_account(user),
        "workspaces": {
            m.workspace_id: {
                "name": m.workspace_name or m.workspace_id,
                "role": m.role or "",
                "status": m.status or "",
                "groups": {g.id: g.name for g in m.groups},
            }
            for m in user.workspaces
        },
    }


def _everyone(name: str) -> bool:
    """The built-in group every user is in (Retool's All Users): membership follows from having an account."""
    return name.strip().lower() == "all users"


def _where(snapshot: dict[str, Any], params: dict[str, Any]) -> str:
    ws = params.get("workspace_id")
    if not ws:
        return ""
    name = (snapshot.get("workspaces") or {}).get(ws, {}).get("name") or ws
    return f" in {name}"


class PlanAction:
    name = ""
    label = ""
    capability = ""
    policy_action = ""
    audit_action = ""
    target_kind = "user"  # what ``target_id`` names (the plan's operation row and its audit row say so)

    # -- review --------------------------------------------------------------------------------------------------
    def missing_capability(self, caps: Capabilities) -> str:
        if getattr(caps, self.capability, False):
            return ""
        return caps.reason(self.capability) or "This instance cannot do this."

    def read(self, provider, op: OpInput) -> tuple[dict[str, Any], RemoteUser]:
        user = provider.get_user(op.target_id)
        return user_state(user), user

    def skip_reason(self, snapshot: dict[str, Any], params: dict[str, Any]) -> str:
        return ""

    def describe(self, snapshot: dict[str, Any], params: dict[str, Any]) -> tuple[str, str]:
        raise NotImplementedError

    def policy_target(self, connection, snapshot: dict[str, Any], params: dict[str, Any]) -> Target:
        return Target(connection=connection, protected=bool(snapshot.get("protected")))

    # -- apply ---------------------------------------------------------------------------------------------------
    def fingerprint(self, snapshot: dict[str, Any], params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def apply(self, provider, op: OpInput) -> None:
        raise NotImplementedError

    # -- revert --------------------------------------------------------------------------------------------------
    def inverse(
        self, params: dict[str, Any], planned: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any]] | str:
        return "This change cannot be reverted."


class UserStatus(PlanAction):
    """Deactivate (``archived``: ToolJet archives the account and every membership, Retool disables) or reactivate
    a person; with ``workspace_id`` only that membership. ``restore_workspaces`` reactivates those memberships."""

    name = "user.status"
    label = "Status"
    capability = "supports_status_change"
    policy_action = Change.USER_STATUS
    audit_action = "user.status"

    def _current(self, snapshot, params) -> str:
        ws = params.get("workspace_id")
        if ws:
            return (snapshot.get("workspaces") or {}).get(ws, {}).get("status", "") or "not a member"
        return snapshot.get("status", "")

    def skip_reason(self, snapshot, params) -> str:
        ws = params.get("workspace_id")
        if ws and ws not in (snapshot.get("workspaces") or {}):
            return "Not a member of that workspace any more."
        current = self._current(snapshot, params)
        if params["status"] in INACTIVE and current in INACTIVE:
            return f"Already {current}."
        if params["status"] == "active" and current == "active":
            restore = params.get("restore_workspaces") or []
            spaces = snapshot.get("workspaces") or {}
            if all(spaces.get(w, {}).get("status") == "active" for w in restore):
                return "Already active."
        return ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        where = _where(snapshot, params)
        after = "deactivated" if params["status"] in INACTIVE else "active"
        restore = params.get("restore_workspaces") or []
        if restore:
            names = [(snapshot.get("workspaces") or {}).get(w, {}).get("name", w) for w in restore]
            after += f" (workspaces {', '.join(names)} active)"
        return f"{self._current(snapshot, params)}{where}", f"{after}{where}"

    def policy_target(self, connection, snapshot, params) -> Target:
        return Target(
            connection=connection,
            protected=bool(snapshot.get("protected")),
            offboarding=params["status"] in INACTIVE,
        )

    def fingerprint(self, snapshot, params) -> Any:
        ws = params.get("workspace_id")
        spaces = snapshot.get("workspaces") or {}
        return [snapshot.get("status"), spaces.get(ws, {}).get("status") if ws else None]

    def apply(self, provider, op: OpInput) -> None:
        status, ws = op.params["status"], op.params.get("workspace_id")
        if ws and status in INACTIVE:
            provider.patch_membership(op.target_id, ws, status="archived")
            return
        restore = op.params.get("restore_workspaces") or []
        if status == "active" and restore:
            for workspace_id in restore:
                provider.set_user_status(op.target_id, "active", workspace_id=workspace_id)
            return
        provider.set_user_status(op.target_id, status, workspace_id=ws)

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        if not planned:
            return "Nothing was recorded before this change."
        ws = params.get("workspace_id")
        before = self._current(planned, params)
        if before not in ("active", *INACTIVE):
            return f"The account was {before} before; invite them again instead."
        if ws:
            return self.name, {"status": before, "workspace_id": ws}
        if before in INACTIVE:
            return self.name, {"status": "archived"}
        # reactivating an account does not reactivate its memberships: name the ones that were active
        restore = [w for w, m in (planned.get("workspaces") or {}).items() if m.get("status") == "active"]
        return self.name, {"status": "active", "restore_workspaces": restore}


class UserRole(PlanAction):
    """ToolJet: the role in one workspace (``workspace_id``). Retool: ``admin`` or ``member``."""

    name = "user.role"
    label = "Role"
    capability = "supports_role_change"
    policy_action = Change.USER_ROLE
    audit_action = "user.role"

    def _current(self, snapshot, params) -> str:
        ws = params.get("workspace_id")
        if ws:
            return (snapshot.get("workspaces") or {}).get(ws, {}).get("role", "")
        return snapshot.get("role", "")

    def skip_reason(self, snapshot, params) -> str:
        ws = params.get("workspace_id")
        if ws and ws not in (snapshot.get("workspaces") or {}):
            return "Not a member of that workspace any more."
        if self._current(snapshot, params) == params["role"]:
            return f"Already {params['role']}."
        return ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        where = _where(snapshot, params)
        return f"{self._current(snapshot, params) or '—'}{where}", f"{params['role']}{where}"

    def policy_target(self, connection, snapshot, params) -> Target:
        return Target(
            connection=connection,
            protected=bool(snapshot.get("protected")),
            grants_admin=params["role"] == "admin",
        )

    def fingerprint(self, snapshot, params) -> Any:
        return self._current(snapshot, params)

    def apply(self, provider, op: OpInput) -> None:
        provider.change_role(op.target_id, op.params["role"], workspace_id=op.params.get("workspace_id"))

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        before = self._current(planned or {}, params)
        if not before:
            return "The role before this change was not recorded."
        return self.name, {**params, "role": before}


class _GroupMember(PlanAction):
    """Membership of one custom group. Where the instance has member routes (``supports_group_members``) the group
    is read and changed through them; otherwise (ToolJet) through the person's per-workspace membership, replacing
    their custom groups there with the current list plus or minus this one. Params: ``group_id`` or
    ``group_name`` (resolved in the workspace), ``workspace_id`` for membership-routed instances."""

    capability = "supports_groups"
    adding = False

    def missing_capability(self, caps: Capabilities) -> str:
        if caps.supports_group_members or caps.supports_workspaces:
            return ""
        return caps.reason("supports_group_members") or "This instance cannot change group members."

    def read(self, provider, op: OpInput) -> tuple[dict[str, Any], RemoteUser]:
        user = provider.get_user(op.target_id)
        state = user_state(user)
        params = op.params
        ws = params.get("workspace_id")
        name = params.get("group_name", "")
        if ws:
            membership = state["workspaces"].get(ws)
            groups = membership["groups"] if membership else {}
            group_id = params.get("group_id") or next((g for g, n in groups.items() if n == name), "")
            if not group_id and membership is not None:
                group_id = self._by_name(provider, name, ws).get("id", "")
            state["group"] = {
                "id": group_id,
                "name": groups.get(group_id) or name,
                "member": group_id in groups,
                "builtin": False,
                "in_workspace": membership is not None,
                "exists": bool(group_id),
            }
            return state, user
        group_id = params.get("group_id") or self._by_name(provider, name, None).get("id", "")
        if not group_id:
            state["group"] = {"id": "", "name": name, "member": False, "in_workspace": True, "exists": False}
            return state, user
        group = provider.get_group(group_id)
        state["group"] = {
            "id": group.id,
            "name": group.name,
            "member": any(m.id == op.target_id for m in group.members),
            "builtin": group.is_builtin,
            "in_workspace": True,
            "exists": True,
        }
        return state, user

    @staticmethod
    def _by_name(provider, name: str, workspace_id: str | None) -> dict[str, str]:
        """The group named ``name`` (exactly, then case-insensitively) in the workspace or organisation: a group
        given by name (a CSV row, a selection) is looked up when the target is read."""
        if not name:
            return {}
        found = [g for g in provider.iter_groups(workspace_id, search=name) if g.name.lower() == name.lower()]
        best = next((g for g in found if g.name == name), found[0] if found else None)
        return {"id": best.id, "name": best.name} if best else {}

    def skip_reason(self, snapshot, params) -> str:
        group = snapshot.get("group") or {}
        if not group.get("in_workspace"):
            return "Not a member of that workspace any more."
        if not group.get("exists", True):
            where = _where(snapshot, params) or " here"
            return f"There is no group named {group.get('name') or params.get('group_name')}{where}."
        # a built-in group's members are not taken away one by one (deactivating is what ends access); adding is a
        # grant like any other (Retool's editor and viewer), except to the group everyone is in
        if group.get("builtin") and (not self.adding or _everyone(group.get("name", ""))):
            return f"{group.get('name')} is a built-in group."
        if self.adding and group.get("member"):
            return f"Already in {group.get('name')}."
        if not self.adding and not group.get("member"):
            return f"Not in {group.get('name') or params.get('group_name')} any more."
        return ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        group = snapshot.get("group") or {}
        name = group.get("name") or params.get("group_name") or params.get("group_id")
        where = _where(snapshot, params)
        member = f"in {name}{where}"
        gone = f"not in {name}{where}"
        return (member, gone) if group.get("member") else (gone, member)

    def policy_target(self, connection, snapshot, params) -> Target:
        name = (snapshot.get("group") or {}).get("name") or params.get("group_name", "")
        return Target(
            connection=connection,
            kind="user",
            protected=bool(snapshot.get("protected")),
            admin_group=is_admin_group(name),
            grants_admin=self.adding and is_admin_group(name),
        )

    def fingerprint(self, snapshot, params) -> Any:
        return bool((snapshot.get("group") or {}).get("member"))

    def apply(self, provider, op: OpInput) -> None:
        params = op.params
        ws = params.get("workspace_id")
        group_id = (op.planned or {}).get("group", {}).get("id") or params.get("group_id")
        if ws:
            user = provider.get_user(op.target_id)
            membership = user.membership(ws)
            current = [g.id for g in membership.groups] if membership else []
            new = [*current, group_id] if self.adding else [g for g in current if g != group_id]
            provider.patch_membership(op.target_id, ws, groups=new)
        elif self.adding:
            provider.add_group_members(group_id, [op.target_id])
        else:
            provider.remove_group_member(group_id, op.target_id)


class GroupMemberRemove(_GroupMember):
    name = "group.member_remove"
    label = "Remove from group"
    policy_action = Change.GROUP_MEMBER_REMOVE
    audit_action = "group.member_remove"

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        group = (planned or {}).get("group") or {}
        if not group.get("id"):
            return "The group was not recorded."
        return "group.member_add", {**params, "group_id": group["id"], "group_name": group.get("name", "")}


class GroupMemberAdd(_GroupMember):
    name = "group.member_add"
    label = "Add to group"
    policy_action = Change.GROUP_MEMBER_ADD
    audit_action = "group.member_add"
    adding = True

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        group = (planned or {}).get("group") or {}
        if not group.get("id"):
            return "The group was not recorded."
        return "group.member_remove", {**params, "group_id": group["id"], "group_name": group.get("name", "")}


class UserMetadata(PlanAction):
    """Set keys of a person's metadata in one workspace (``items``: key → value). ``replace``: the whole list
    becomes ``items`` (how a revert restores the recorded metadata)."""

    name = "user.metadata"
    label = "Metadata"
    capability = "supports_metadata"
    policy_action = Change.USER_METADATA
    audit_action = "user.metadata"

    def read(self, provider, op: OpInput) -> tuple[dict[str, Any], RemoteUser]:
        user = provider.get_user(op.target_id)
        state = user_state(user)
        state["metadata"] = provider.get_user_metadata(op.params["workspace_id"], op.target_id).as_dict()
        return state, user

    def _wanted(self, snapshot, params) -> dict[str, str]:
        items = {str(k): str(v) for k, v in (params.get("items") or {}).items()}
        return items if params.get("replace") else {**(snapshot.get("metadata") or {}), **items}

    def skip_reason(self, snapshot, params) -> str:
        return "Already so." if self._wanted(snapshot, params) == (snapshot.get("metadata") or {}) else ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        def text(d: dict) -> str:
            return ", ".join(f"{k}={v}" for k, v in sorted(d.items())) or "—"

        return text(snapshot.get("metadata") or {}), text(self._wanted(snapshot, params))

    def fingerprint(self, snapshot, params) -> Any:
        return sorted((snapshot.get("metadata") or {}).items())

    def apply(self, provider, op: OpInput) -> None:
        ws = op.params["workspace_id"]
        current = provider.get_user_metadata(ws, op.target_id).as_dict()
        wanted = self._wanted({"metadata": current}, op.params)
        provider.put_user_metadata(ws, op.target_id, list(wanted.items()))

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        if planned is None or "metadata" not in planned:
            return "The metadata before this change was not recorded."
        return self.name, {
            "workspace_id": params["workspace_id"],
            "items": planned["metadata"],
            "replace": True,
        }


class InviteRevoke(PlanAction):
    """Delete a person's Retool invite (target: the invite id), so its link stops working: offboarding someone who
    has not signed up yet. Params: ``email`` (what the index knew, for the label when the invite is gone)."""

    name = "invite.revoke"
    label = "Revoke invite"
    capability = "supports_invites"
    policy_action = Change.INVITE_REVOKE
    audit_action = "invite.revoke"
    target_kind = "invite"

    def read(self, provider, op: OpInput) -> tuple[dict[str, Any], None]:
        email = op.params.get("email", "")
        try:
            invite = provider.get_invite(op.target_id)
        except NotFoundError:
            return {"email": email, "label": f"Invite of {email}", "status": "gone"}, None
        return {
            "email": invite.email,
            "label": f"Invite of {invite.email}",
            "status": invite.status,
            "expires_at": invite.expires_at or "",
            "group_ids": list(invite.group_ids),
            "metadata": dict(invite.metadata),
        }, None

    def skip_reason(self, snapshot, params) -> str:
        status = snapshot.get("status")
        if status == "gone":
            return "Already revoked (the invite is gone)."
        if status == "claimed":
            return "Accepted already: the person has an account now."
        return ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        status = snapshot.get("status") or "pending"
        expires = (snapshot.get("expires_at") or "")[:10]
        before = f"{status} invite" + (f" (expires {expires})" if status == "pending" and expires else "")
        return before, "revoked"

    def policy_target(self, connection, snapshot, params) -> Target:
        return Target(connection=connection, kind="invite", offboarding=True)

    def fingerprint(self, snapshot, params) -> Any:
        return (snapshot.get("email") or "").lower()

    def apply(self, provider, op: OpInput) -> None:
        provider.delete_invite(op.target_id)

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        return (
            "A revoked invite cannot be brought back: invite the person again from the connection's Invites page "
            "(Retool makes a new link)."
        )


class UserAttribute(PlanAction):
    """Set (or, with ``value`` None, remove) one user attribute on an instance without workspaces (Retool's
    ``user_attributes``, declared for the organisation). Params: ``name``, ``value``."""

    name = "user.attribute"
    label = "Attribute"
    capability = "supports_user_attributes"
    policy_action = Change.USER_METADATA
    audit_action = "user.attribute"

    def read(self, provider, op: OpInput) -> tuple[dict[str, Any], RemoteUser]:
        user = provider.get_user(op.target_id)
        state = user_state(user)
        value = (user.metadata or {}).get(op.params["name"])
        state["attribute"] = {"name": op.params["name"], "value": None if value is None else str(value)}
        return state, user

    def _current(self, snapshot) -> str | None:
        return (snapshot.get("attribute") or {}).get("value")

    def skip_reason(self, snapshot, params) -> str:
        return "Already so." if self._current(snapshot) == params.get("value") else ""

    def describe(self, snapshot, params) -> tuple[str, str]:
        def text(value) -> str:
            return f"{params['name']}={value}" if value is not None else f"no {params['name']}"

        return text(self._current(snapshot)), text(params.get("value"))

    def fingerprint(self, snapshot, params) -> Any:
        return self._current(snapshot)

    def apply(self, provider, op: OpInput) -> None:
        value = op.params.get("value")
        if value is None:
            provider.delete_user_attribute(op.target_id, op.params["name"])
        else:
            provider.set_user_attribute(op.target_id, op.params["name"], str(value))

    def inverse(self, params, planned) -> tuple[str, dict[str, Any]] | str:
        if planned is None or "attribute" not in planned:
            return "The attribute before this change was not recorded."
        return self.name, {"name": params["name"], "value": self._current(planned)}


REGISTRY: dict[str, PlanAction] = {
    a.name: a
    for a in (
        UserStatus(),
        UserRole(),
        GroupMemberRemove(),
        GroupMemberAdd(),
        UserMetadata(),
        UserAttribute(),
        InviteRevoke(),
    )
}


def get_action(name: str) -> PlanAction:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown plan action {name!r}") from None
