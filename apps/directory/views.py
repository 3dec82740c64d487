"""Directory pages: global search (home), person, per-connection users, live user detail and its changes.

Change views are thin: validate the form → call one service → re-render the changed panel (htmx) with an OOB
success message, or redirect back to the detail page (full-page POST). Invalid input and upstream refusals
re-render the panel with 200 and what the operator typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.roles import Perm, require
from apps.audit.selectors import history_url
from apps.connections.models import Connection
from apps.connections.provider import connection_capabilities
from apps.connections.selectors import connection_get
from apps.core.alerts import alert_response, provider_error_response
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.directory import forms, services
from apps.directory.selectors import (
    UserDetail,
    active_workspaces,
    group_choices,
    index_age,
    person_rows,
    sync_state,
    user_detail_get,
    user_search,
)
from apps.directory.tasks import sync_request
from apps.plans.forms import ROLE_CHOICES as PLAN_ROLES
from apps.plans.forms import SELECTION_ACTIONS
from apps.plans.selectors import person_history, person_temporary_access
from apps.providers.base import WorkspaceAssignment
from apps.providers.errors import ConflictError, ProviderError

DETAIL = "directory/user_detail.html"

# ---------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------


def _search_context(request: HtmxHttpRequest, *, connection: Connection | None = None) -> dict[str, Any]:
    connections = list(Connection.objects.order_by("name").only("name", "slug"))
    form = forms.SearchForm(
        request.GET,
        connections=connections,
        roles=connection_capabilities(connection).roles if connection is not None else None,
    )
    result = None
    if form.is_valid():
        filters = form.filters()
        if connection is not None:
            filters["connection"] = connection.slug
        result = user_search(page=form.cleaned_data.get("page") or 1, **filters)
    return {
        "form": form,
        "result": result,
        "age": index_age(connection=connection),
        "searched": bool(
            request.GET.get("q") or any(request.GET.get(f) for f in ("status", "role", "group"))
        ),
    }


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    context = _search_context(request)
    context.update(plan_roles=PLAN_ROLES, selection_actions=SELECTION_ACTIONS)
    if wants_partial(request):
        return render(request, "directory/search.html#results", context)
    context["group_names"] = group_choices()
    context["has_connections"] = Connection.objects.exists()
    return render(request, "directory/search.html", context)


@require_GET
def person(request: HtmxHttpRequest, email: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    rows = person_rows(email=email)
    # how old the index is on the instances this person is on (all of them when on none)
    age = index_age(connection_ids=[r.connection_id for r in rows] if rows else None)
    return render(
        request,
        "directory/person.html",
        {
            "email": email.lower(),
            "rows": rows,
            "age": age,
            "plan_roles": PLAN_ROLES,
            "history": person_history(email=email, rows=rows),
            "temporary": person_temporary_access(email=email),
        },
    )


@require_GET
def user_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    connection = connection_get(slug)
    context = _search_context(request, connection=connection)
    context.update(
        connection=connection,
        connection_ctx=connection,
        caps=connection_capabilities(connection),
        sync=sync_state(connection=connection),
    )
    if wants_partial(request):
        return render(request, "directory/user_list.html#results", context)
    return render(request, "directory/user_list.html", context)


@require_POST
def directory_refresh(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Queue a sync of this connection's index; the status component polls until it is done."""
    require(request.user, Perm.VIEW)
    connection = connection_get(slug)
    sync_request(connection=connection)
    if not wants_partial(request):
        return redirect("directory:user_list", slug=slug)
    return render(
        request,
        "directory/user_list.html#sync_panel",
        {"connection": connection, "sync": sync_state(connection=connection)},
    )


@require_GET
def sync_status(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    connection = connection_get(slug)
    sync = sync_state(connection=connection)
    response = render(
        request, "directory/user_list.html#sync_panel", {"connection": connection, "sync": sync}
    )
    if wants_partial(request) and (sync is None or not sync.in_progress):
        return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])
    return response


# ---------------------------------------------------------------------------------------------------------------
# Live detail
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Bound:
    """A form to show instead of the blank one: invalid input, an upstream refusal or a conflict."""

    kind: str
    form: Any
    key: str = ""  # workspace id or attribute name
    conflict: dict | None = None


def _ws_groups(detail: UserDetail, workspace_id: str):
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
                        groups=_ws_groups(detail, ws),
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
                "group_choices": _ws_groups(detail, ws),
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


def _person_forms(detail: UserDetail, bound: Bound | None, ms_fp: str) -> dict[str, Any]:
    """The forms about the person as a whole: add to a workspace, instance role, status and profile."""
    person, caps = detail.user, detail.caps
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
                },
                email_editable=caps.supports_workspaces,
                auto_id="id_profile_%s",
            ),
        ),
    }


def _detail_context(
    request: HtmxHttpRequest, connection: Connection, detail: UserDetail, bound: Bound | None = None
) -> dict[str, Any]:
    person = detail.user
    ms_fp = services.memberships_fingerprint(person)
    declared = {a.name for a in detail.attributes}
    args = (connection.slug, person.id)
    return {
        "urls": {name: reverse(f"directory:user_{name}", args=args) for name in _CHANGE_URLS},
        "connection": connection,
        "connection_ctx": connection,
        "detail": detail,
        "person": person,
        "caps": detail.caps,
        "can_change": request.user.has_perm(Perm.CHANGE_PEOPLE),
        "can_grant": request.user.has_perm(Perm.GRANT_ADMIN),
        "workspace_rows": _workspace_rows(detail, bound, ms_fp),
        "addable": detail.addable_workspaces,
        **_person_forms(detail, bound, ms_fp),
        "attributes": _attribute_rows(detail, bound),
        "raw_metadata": {k: v for k, v in person.metadata.items() if k not in declared}
        if not person.workspaces
        else {},
        "history_url": history_url(target_type="user", target_id=person.id, connection=connection),
        "bound": bound,
    }


@require_GET
def user_detail(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    connection = connection_get(slug)
    try:
        detail = user_detail_get(connection=connection, user_id=user_id)
    except ProviderError as exc:
        return provider_error_response(request, exc)
    return render(request, DETAIL, _detail_context(request, connection, detail))


def _for_change(request: HtmxHttpRequest, slug: str, capability: str) -> tuple[Connection, Any]:
    require(request.user, Perm.CHANGE_PEOPLE)
    connection = connection_get(slug)
    caps = connection_capabilities(connection)
    if not getattr(caps, capability, False):
        raise _NotCapable(caps.reason(capability) or "Not available on this connection.")
    return connection, caps


class _NotCapable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _oob_message(text: str) -> str:
    return format_html(
        '<div id="messages" hx-swap-oob="true" aria-live="polite"><div class="alert alert-success" role="status" '
        'data-status-message="{}">{}</div></div>',
        text,
        text,
    )


def _panel(
    request: HtmxHttpRequest,
    connection: Connection,
    user_id: str,
    panel: str,
    *,
    bound: Bound | None = None,
    success: str = "",
) -> HttpResponse:
    """Re-read the user and render one panel (htmx) or the page; add the OOB success message."""
    if success and not wants_partial(request):
        return redirect("directory:user_detail", slug=connection.slug, user_id=user_id)
    try:
        detail = user_detail_get(connection=connection, user_id=user_id)
    except ProviderError as exc:
        return provider_error_response(request, exc)
    context = _detail_context(request, connection, detail, bound)
    if not wants_partial(request):
        return render(request, DETAIL, context)
    html = render_to_string(f"{DETAIL}#{panel}", context, request=request)
    if success:
        html += _oob_message(success)
    return HttpResponse(html)


def _failed(form, exc: ProviderError) -> None:
    form.add_error(None, exc.message)
    for detail in getattr(exc, "details", ()) or ():
        if detail not in exc.message:
            form.add_error(None, detail)


def _change(request: HtmxHttpRequest, slug: str, capability: str):
    try:
        return _for_change(request, slug, capability), None
    except _NotCapable as exc:
        return (None, None), alert_response(request, exc.message, level="warning")


def _reason(form) -> dict[str, str]:
    return {"reason": form.cleaned_data["reason"], "ticket": form.cleaned_data["ticket"]}


def _save(
    request: HtmxHttpRequest,
    connection: Connection,
    user_id: str,
    panel: str,
    bound: Bound,
    change: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Valid form → ``change(cleaned_data)`` (calls the service, returns the success message) → the panel; invalid
    input or an upstream refusal → the panel with the bound form (200)."""
    form = bound.form
    if form.is_valid():
        try:
            success = change(form.cleaned_data)
        except ProviderError as exc:
            _failed(form, exc)
        else:
            return _panel(request, connection, user_id, panel, success=success)
    return _panel(request, connection, user_id, panel, bound=bound)


@require_POST
def user_role_change(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, caps), refusal = _change(request, slug, "supports_role_change")
    if refusal:
        return refusal
    form = forms.RoleForm(request.POST, roles=caps.roles, per_workspace=caps.supports_workspaces)
    ws = request.POST.get("workspace_id", "")

    def change(data: dict[str, Any]) -> str:
        services.user_role_change(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            role=data["role"],
            workspace_id=data["workspace_id"] or None,
            **_reason(form),
        )
        return f"Role changed to {data['role']}."

    panel = "workspaces_panel" if ws else "role_panel"
    return _save(request, connection, user_id, panel, Bound("role", form, ws), change)


@require_POST
def user_status_change(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, _caps), refusal = _change(request, slug, "supports_status_change")
    if refusal:
        return refusal
    form = forms.StatusForm(request.POST)
    ws = request.POST.get("workspace_id", "")

    def change(data: dict[str, Any]) -> str:
        services.user_status_change(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            status=data["status"],
            workspace_id=data["workspace_id"] or None,
            **_reason(form),
        )
        return f"Status set to {data['status']}."

    panel = "workspaces_panel" if ws else "status_panel"
    return _save(request, connection, user_id, panel, Bound("status", form, ws), change)


@require_POST
def user_profile_update(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, caps), refusal = _change(request, slug, "supports_users")
    if refusal:
        return refusal
    form = forms.ProfileForm(request.POST, email_editable=caps.supports_workspaces)

    def change(data: dict[str, Any]) -> str:
        services.user_profile_update(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"] if form.email_editable else None,
            **_reason(form),
        )
        return "Profile saved."

    return _save(request, connection, user_id, "profile_panel", Bound("profile", form), change)


@require_POST
def user_metadata_update(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, _caps), refusal = _change(request, slug, "supports_metadata")
    if refusal:
        return refusal
    form = forms.MetadataForm(request.POST)
    bound = Bound("metadata", form, request.POST.get("workspace_id", ""))

    def change(data: dict[str, Any]) -> str:
        try:
            services.user_metadata_update(
                actor=request.user,
                connection=connection,
                user_id=user_id,
                workspace_id=data["workspace_id"],
                items=data["items"],
                loaded_fingerprint=data["fingerprint"],
                **_reason(form),
            )
        except ConflictError as exc:
            bound.conflict = {"current": exc.current or {}, "mine": dict(data["items"])}
            raise
        return "Metadata saved."

    return _save(request, connection, user_id, "workspaces_panel", bound, change)


@require_POST
def user_attribute_update(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, _caps), refusal = _change(request, slug, "supports_user_attributes")
    if refusal:
        return refusal
    try:
        detail = user_detail_get(connection=connection, user_id=user_id)
    except ProviderError as exc:
        return provider_error_response(request, exc)
    form = forms.AttributeForm(request.POST, attributes=detail.attributes)
    name = request.POST.get("name", "")

    def change(data: dict[str, Any]) -> str:
        services.user_attribute_set(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            name=data["name"],
            value=None if data["delete"] else data["value"],
            **_reason(form),
        )
        return f"Attribute {name} removed." if data["delete"] else f"Attribute {name} saved."

    return _save(request, connection, user_id, "attributes_panel", Bound("attribute", form, name), change)


@require_POST
def user_workspace_add(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, caps), refusal = _change(request, slug, "supports_workspaces")
    if refusal:
        return refusal
    try:
        addable = user_detail_get(connection=connection, user_id=user_id).addable_workspaces
    except ProviderError as exc:
        return provider_error_response(request, exc)
    form = forms.WorkspaceAddForm(request.POST, workspaces=addable, roles=caps.roles)

    def change(data: dict[str, Any]) -> str:
        services.user_workspaces_change(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            add=WorkspaceAssignment(
                workspace_id=data["workspace_id"], role=data["role"], groups=tuple(data["groups"])
            ),
            loaded_fingerprint=data["fingerprint"],
            **_reason(form),
        )
        return "Workspace added."

    return _save(request, connection, user_id, "workspaces_panel", Bound("add", form), change)


@require_POST
def user_workspace_remove(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, _caps), refusal = _change(request, slug, "supports_workspaces")
    if refusal:
        return refusal
    form = forms.WorkspaceRemoveForm(request.POST)
    ws = request.POST.get("workspace_id", "")

    def change(data: dict[str, Any]) -> str:
        services.user_workspaces_change(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            remove=data["workspace_id"],
            loaded_fingerprint=data["fingerprint"],
            **_reason(form),
        )
        return "Removed from the workspace."

    return _save(request, connection, user_id, "workspaces_panel", Bound("remove", form, ws), change)


@require_POST
def user_workspace_groups(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    (connection, _caps), refusal = _change(request, slug, "supports_workspaces")
    if refusal:
        return refusal
    ws = request.POST.get("workspace_id", "")
    try:
        detail = user_detail_get(connection=connection, user_id=user_id)
    except ProviderError as exc:
        return provider_error_response(request, exc)
    form = forms.WorkspaceGroupsForm(request.POST, groups=_ws_groups(detail, ws))

    def change(data: dict[str, Any]) -> str:
        services.user_workspace_groups_set(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            workspace_id=data["workspace_id"],
            groups=data["groups"],
            **_reason(form),
        )
        return "Groups saved."

    return _save(request, connection, user_id, "workspaces_panel", Bound("groups", form, ws), change)


@require_http_methods(["GET", "POST"])
def user_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    connection = connection_get(slug)
    caps = connection_capabilities(connection)
    context: dict[str, Any] = {
        "connection": connection,
        "connection_ctx": connection,
        "caps": caps,
        "created": None,
    }
    workspaces = []
    if caps.supports_user_create and caps.supports_workspaces:
        try:
            workspaces = active_workspaces(connection=connection)
        except ProviderError as exc:
            return provider_error_response(request, exc)
    kw = {"workspaces": workspaces, "roles": caps.roles, "needs_workspace": caps.supports_workspaces}
    if request.method == "POST":
        require(request.user, Perm.CHANGE_PEOPLE)
        if not caps.supports_user_create:
            return alert_response(request, caps.reason("supports_user_create") or "", level="warning")
        form = forms.CreateForm(request.POST, **kw)
        if form.is_valid():
            data = form.cleaned_data
            assignments = (
                [
                    WorkspaceAssignment(
                        workspace_id=data["workspace_id"], role=data["role"], groups=tuple(data["groups"])
                    )
                ]
                if caps.supports_workspaces
                else []
            )
            try:
                context["created"] = services.user_create(
                    actor=request.user,
                    connection=connection,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    workspaces=assignments,
                    user_type=None if caps.supports_workspaces else data["user_type"] or None,
                    **_reason(form),
                )
            except ProviderError as exc:
                _failed(form, exc)
            else:
                form = forms.CreateForm(**kw)
    else:
        form = forms.CreateForm(**kw)
    context["form"] = form
    if wants_partial(request) and request.method == "POST":
        response = render(request, "directory/user_create.html#create_panel", context)
        if context["created"]:
            response.content += _oob_message(f"Created {context['created'].email}.").encode()
        return response
    return render(request, "directory/user_create.html", context)
