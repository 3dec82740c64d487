"""What the user detail page shows: one row per workspace or attribute with its change forms, and the forms
about the person, each either blank or the bound one the last POST left (invalid input, a refusal, a conflict)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from apps.accounts.policy import Change
from apps.audit.selectors import history_url
from apps.connections.models import Connection
from apps.core.http import HtmxHttpRequest
from apps.people import forms, services
from apps.people.selectors import UserDetail

DETAIL = "people/user_detail.html"


@dataclass
class Bound:
    """A form to show instead of the blank one: invalid input, an upstream refusal or a conflict."""

    kind: str
    form: Any
    key: str = ""  # workspace id or attribute name
    conflict: dict | None = None
    refused: bool = False  # the instance refused the change: what it shows now, not what was asked for


def _as_now(form, field: str, value: str):
    """A refused form shows the value the instance still has (the page's badges say the same), not the one it
    refused; the refusal itself stays on the form as its error."""
    form.data = form.data.copy()
    form.data[field] = value
    return form


def ws_groups(detail: UserDetail, workspace_id: str):
    ws = next((w for w in detail.workspaces if w.id == workspace_id), None)
    return ws.groups if ws else ()


# The change endpoints the detail page posts to, reversed once per render (not once per form).
_CHANGE_URLS = (
    "attribute_update",
    "metadata_update",
    "profile_update",
    "role_change",
    "status_change",
    "workspace_add",
    "workspace_groups",
    "workspace_remove",
)


def forms_profile_options(caps) -> dict[str, bool]:
    """How the profile form fits the instance: ToolJet changes e-mails; Retool refuses an empty last name and has a
    user type."""
    per_workspace = caps.supports_workspaces
    return {
        "email_editable": per_workspace,
        "last_name_required": not per_workspace,
        "user_types": not per_workspace,
    }


def _pick(bound: Bound | None, kind: str, key: str, blank):
    """The bound form for this kind and key when the last POST was about it, else the blank one."""
    if bound and bound.kind == kind and bound.key == key:
        return bound.form
    return blank


def _workspace_rows(detail: UserDetail, bound: Bound | None, ms_fp: str) -> list[dict[str, Any]]:
    """One row per workspace the person is in (ToolJet): role, groups, status, removal and metadata forms."""
    person, caps = detail.user, detail.caps
    rows = []
    for m in person.workspaces:
        ws = m.workspace_id
        metadata = dict(person.metadata.get(ws) or {})
        items = [(str(k), "" if v is None else str(v)) for k, v in metadata.items()]
        metadata_form = _pick(
            bound,
            "metadata",
            ws,
            forms.MetadataForm(
                initial={"workspace_id": ws, "fingerprint": services.fingerprint(metadata)},
                auto_id=f"id_md_{ws}_%s",
            ),
        )
        bound_here = bound is not None and bound.key == ws
        if bound_here and bound.refused and bound.kind == "role":
            _as_now(bound.form, "role", m.role or "")
        rows.append(
            {
                "m": m,
                "role_form": _pick(
                    bound,
                    "role",
                    ws,
                    forms.RoleForm(
                        initial={"role": m.role, "workspace_id": ws},
                        roles=caps.roles,
                        auto_id=f"id_role_{ws}_%s",
                    ),
                ),
                "groups_form": _pick(
                    bound,
                    "groups",
                    ws,
                    forms.WorkspaceGroupsForm(
                        initial={"workspace_id": ws, "groups": [g.id for g in m.groups]},
                        groups=ws_groups(detail, ws),
                        auto_id=f"id_groups_{ws}_%s",
                    ),
                ),
                "status_form": _pick(
                    bound,
                    "status",
                    ws,
                    forms.StatusForm(initial={"workspace_id": ws}, auto_id=f"id_wsst_{ws}_%s"),
                ),
                "remove_form": _pick(
                    bound,
                    "remove",
                    ws,
                    forms.WorkspaceRemoveForm(
                        initial={"workspace_id": ws, "fingerprint": ms_fp}, auto_id=f"id_rm_{ws}_%s"
                    ),
                ),
                "metadata_items": items,
                "metadata_form": metadata_form,
                "metadata_rows": metadata_form.rows() if bound_here and bound.kind == "metadata" else items,
                "conflict": bound.conflict if bound_here else None,
                "group_choices": ws_groups(detail, ws),
            }
        )
    return rows


def _attribute_rows(detail: UserDetail, bound: Bound | None) -> list[dict[str, Any]]:
    """Retool: one row per declared user attribute, with its edit form."""
    metadata = detail.user.metadata
    return [
        {
            "a": a,
            "value": metadata.get(a.name),
            "form": _pick(
                bound,
                "attribute",
                a.name,
                forms.AttributeForm(
                    initial={"name": a.name, "value": metadata.get(a.name) or ""},
                    attributes=detail.attributes,
                    auto_id=f"id_attr_{a.name}_%s",
                ),
            ),
        }
        for a in detail.attributes
    ]


def _person_forms(
    detail: UserDetail, bound: Bound | None, ms_fp: str, *, email_reason: str
) -> dict[str, Any]:
    """The forms about the person as a whole: add to a workspace, instance role, status and profile."""
    person, caps = detail.user, detail.caps
    if bound is not None and bound.refused and bound.kind == "role" and not bound.key:
        _as_now(bound.form, "role", "admin" if person.is_admin else "member")
    return {
        "add_form": _pick(
            bound,
            "add",
            "",
            forms.WorkspaceAddForm(
                initial={"fingerprint": ms_fp},
                workspaces=detail.addable_workspaces,
                roles=caps.roles,
                auto_id="id_add_%s",
            ),
        ),
        "role_form": _pick(
            bound,
            "role",
            "",
            forms.RoleForm(
                initial={"role": "admin" if person.is_admin else "member"},
                roles=caps.roles,
                auto_id="id_role_%s",
            ),
        ),
        "status_form": _pick(bound, "status", "", forms.StatusForm(auto_id="id_status_%s")),
        "profile_form": _pick(
            bound,
            "profile",
            "",
            forms.ProfileForm(
                initial={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": person.email,
                    "user_type": person.user_type or "default",
                },
                **{
                    **forms_profile_options(caps),
                    "email_editable": caps.supports_workspaces and not email_reason,
                },
                email_locked_reason=email_reason if caps.supports_workspaces else "",
                auto_id="id_profile_%s",
            ),
        ),
    }


def detail_context(
    request: HtmxHttpRequest, connection: Connection, detail: UserDetail, bound: Bound | None = None
) -> dict[str, Any]:
    person = detail.user
    ms_fp = services.memberships_fingerprint(person)
    change = services.user_decide(
        actor=request.user, action=Change.USER_PROFILE, connection=connection, user=person
    )
    grant = services.user_decide(
        actor=request.user, action=Change.USER_ROLE, connection=connection, user=person, grants_admin=True
    )
    email = services.user_decide(
        actor=request.user, action=Change.USER_EMAIL, connection=connection, user=person
    )
    declared = {a.name for a in detail.attributes}
    args = (connection.slug, person.id)
    return {
        "urls": {name: reverse(f"people:user_{name}", args=args) for name in _CHANGE_URLS},
        "connection": connection,
        "connection_ctx": connection,
        "detail": detail,
        "person": person,
        "caps": detail.caps,
        # the policy's answers for this operator and this account: a refused action is shown disabled, with why
        "can_change": change.allowed,
        "change_reason": change.reason,
        "can_grant": grant.allowed,
        "grant_reason": grant.reason,
        "can_email": email.allowed,
        "email_reason": email.reason,
        "workspace_rows": _workspace_rows(detail, bound, ms_fp),
        "addable": detail.addable_workspaces,
        **_person_forms(detail, bound, ms_fp, email_reason="" if email.allowed else email.reason),
        "attributes": _attribute_rows(detail, bound),
        "raw_metadata": {k: v for k, v in person.metadata.items() if k not in declared}
        if not person.workspaces
        else {},
        "history_url": history_url(target_type="user", target_id=person.id, connection=connection),
        "bound": bound,
    }
