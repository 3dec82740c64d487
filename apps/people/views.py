"""People pages: the live user detail read from upstream and every change to a user (role, status, profile,
metadata, attributes, workspaces), plus creating or inviting a user.

Change views are thin: validate the form → call one service → re-render the changed panel (htmx) with an OOB
success message, or redirect back to the detail page (full-page POST). Invalid input and upstream refusals
re-render the panel with 200 and what the operator typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.policy import Change
from apps.accounts.reauth import require_recent_auth
from apps.accounts.roles import Perm, require
from apps.connections.clients import connection_capabilities
from apps.connections.models import Connection
from apps.connections.selectors import connection_for
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.people import forms, services
from apps.people.panels import Bound, detail_context, forms_profile_options, ws_groups
from apps.people.selectors import active_workspaces, user_app_access, user_detail_get
from apps.providers.base import WorkspaceAssignment
from apps.providers.errors import ConflictError, ProviderError, RejectedError, Unsupported

DETAIL = "people/user_detail.html"


@require_GET
def user_detail(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW)
    detail = user_detail_get(connection=connection, user_id=user_id)
    return render(request, DETAIL, detail_context(request, connection, detail))


@require_GET
def user_apps(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    """The apps the person can use on this instance: loaded into the detail page after it shows (one more round of
    upstream reads), or the whole page with the list for a plain request."""
    connection = connection_for(request, slug, Perm.VIEW, "supports_access")
    detail = user_detail_get(connection=connection, user_id=user_id)
    try:
        rows, error = user_app_access(connection=connection, user=detail.user), ""
    except ProviderError as exc:
        rows, error = [], exc.message
    return _apps_panel(request, connection, detail, rows, error=error)


def _apps_panel(request: HtmxHttpRequest, connection: Connection, detail, rows, **extra) -> HttpResponse:
    extra = {
        "app_rows": rows,
        "apps_loaded": True,
        "may_revoke": detail.caps.supports_access_grant and request.user.has_perm(Perm.CHANGE_PEOPLE),
        **{f"apps_{k}": v for k, v in extra.items()},
    }
    if wants_partial(request):
        context = {"connection": connection, "person": detail.user, "caps": detail.caps, **extra}
        html = render_to_string(f"{DETAIL}#apps_panel", context, request=request)
        if extra.get("apps_message"):
            html += _oob_message(extra["apps_message"])
        return HttpResponse(html)
    return render(request, DETAIL, {**detail_context(request, connection, detail), **extra})


@require_POST
def user_access_revoke(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    """Revoke one of the person's own grants (an app, or the folder an app is in) from their apps panel."""
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE, "supports_access_grant")
    detail = user_detail_get(connection=connection, user_id=user_id)
    rows = user_app_access(connection=connection, user=detail.user)
    form = forms.AccessRevokeForm(request.POST, grants=sorted({r.grant for r in rows if r.grant}))
    message = error = ""
    if form.is_valid():
        kind, object_id = form.target()
        name = next(
            (
                r.via if kind == "folder" else r.app_name
                for r in rows
                if r.grant == form.cleaned_data["object"]
            ),
            "",
        )
        try:
            services.user_access_revoke(
                actor=request.user,
                connection=connection,
                user_id=user_id,
                object_kind=kind,
                object_id=object_id,
                object_name=name,
                **_reason(form),
            )
        except (ConflictError, RejectedError) as exc:
            error = exc.message
        else:
            message = f"Access to {name or object_id} revoked."
            rows = user_app_access(connection=connection, user=detail.user)
    else:
        error = "; ".join(e for errs in form.errors.values() for e in errs)
    if not wants_partial(request):
        return redirect("people:user_apps", slug=connection.slug, user_id=user_id)
    return _apps_panel(request, connection, detail, rows, message=message, refused=error)


def _oob_message(text: str, *, error: bool = False) -> str:
    """The page's message area, replaced: a success, an error (an older "saved" banner must not stay on top of
    a later failure) or, with no text, nothing."""
    if not text:
        return '<div id="messages" hx-swap-oob="true" aria-live="polite"></div>'
    return format_html(
        '<div id="messages" hx-swap-oob="true" aria-live="polite"><div class="alert alert-{}" role="{}" '
        'data-status-message="{}">{}</div></div>',
        "error" if error else "success",
        "alert" if error else "status",
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
    key: str = "",
) -> HttpResponse:
    """Re-read the user and render one panel (htmx) or the page; replace the page's message with the success,
    the refusal (a bound form's non-field error) or nothing. A change in one workspace also says so inside that
    workspace's row, where the operator is looking."""
    if success and not wants_partial(request):
        return redirect("people:user_detail", slug=connection.slug, user_id=user_id)
    detail = user_detail_get(connection=connection, user_id=user_id)
    context = detail_context(request, connection, detail, bound)
    context["notice"] = {"key": key, "text": success} if success and key else None
    if not wants_partial(request):
        return render(request, DETAIL, context)
    html = render_to_string(f"{DETAIL}#{panel}", context, request=request)
    refusal = bound.form.non_field_errors() if bound is not None and bound.form.is_bound else []
    html += _oob_message(success) if success else _oob_message(" ".join(refusal), error=True)
    return HttpResponse(html)


def _failed(form, exc: ProviderError) -> None:
    form.add_error(None, exc.message)
    for detail in getattr(exc, "details", ()) or ():
        if detail not in exc.message:
            form.add_error(None, detail)


def _change(request: HtmxHttpRequest, slug: str, capability: str) -> tuple[Connection, Any]:
    """The connection and its capabilities for a change; raises PermissionDenied, 404 or Unsupported."""
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE, capability)
    return connection, connection_capabilities(connection)


def _reauth_to_grant_admin(request: HtmxHttpRequest) -> HttpResponse | None:
    """Granting admin (a role, a workspace role, a new user) needs a recent sign-in: the response that sends the
    operator to re-authenticate, or None."""
    return require_recent_auth(request) if request.POST.get("role") == "admin" else None


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
            bound.refused = True
        else:
            return _panel(request, connection, user_id, panel, success=success, key=bound.key)
    return _panel(request, connection, user_id, panel, bound=bound)


@require_POST
def user_role_change(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    connection, caps = _change(request, slug, "supports_role_change")
    if (stale := _reauth_to_grant_admin(request)) is not None:
        return stale
    form = forms.RoleForm(request.POST, roles=caps.roles, per_workspace=caps.supports_workspaces)
    ws = request.POST.get("workspace_id", "")

    def change(data: dict[str, Any]) -> str:
        after = services.user_role_change(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            role=data["role"],
            workspace_id=data["workspace_id"] or None,
            **_reason(form),
        )
        membership = after.membership(data["workspace_id"]) if data["workspace_id"] else None
        where = f" in {membership.workspace_name}" if membership and membership.workspace_name else ""
        return f"Role changed to {data['role']}{where}."

    panel = "workspaces_panel" if ws else "role_panel"
    return _save(request, connection, user_id, panel, Bound("role", form, ws), change)


@require_POST
def user_status_change(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    connection, _caps = _change(request, slug, "supports_status_change")
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
    connection, caps = _change(request, slug, "supports_users")
    form = forms.ProfileForm(request.POST, **forms_profile_options(caps))

    def change(data: dict[str, Any]) -> str:
        services.user_profile_update(
            actor=request.user,
            connection=connection,
            user_id=user_id,
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=(data["email"] or None) if form.email_editable else None,
            user_type=data.get("user_type") or None,
            **_reason(form),
        )
        return "Profile saved."

    return _save(request, connection, user_id, "profile_panel", Bound("profile", form), change)


@require_POST
def user_metadata_update(request: HtmxHttpRequest, slug: str, user_id: str) -> HttpResponse:
    connection, _caps = _change(request, slug, "supports_metadata")
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
    connection, _caps = _change(request, slug, "supports_user_attributes")
    detail = user_detail_get(connection=connection, user_id=user_id)
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
    connection, caps = _change(request, slug, "supports_workspaces")
    if (stale := _reauth_to_grant_admin(request)) is not None:
        return stale
    addable = user_detail_get(connection=connection, user_id=user_id).addable_workspaces
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
    connection, _caps = _change(request, slug, "supports_workspaces")
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
    connection, _caps = _change(request, slug, "supports_workspaces")
    ws = request.POST.get("workspace_id", "")
    detail = user_detail_get(connection=connection, user_id=user_id)
    form = forms.WorkspaceGroupsForm(request.POST, groups=ws_groups(detail, ws))

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
    connection = connection_for(request, slug, Perm.VIEW)
    caps = connection_capabilities(connection)
    context: dict[str, Any] = {
        "connection": connection,
        "connection_ctx": connection,
        "caps": caps,
        "created": None,
        # the policy's answer for a new user created as admin (the admin role is shown disabled with why)
        "grant": services.user_decide(
            actor=request.user, action=Change.USER_CREATE, connection=connection, user=None, grants_admin=True
        ),
    }
    workspaces = []
    if caps.supports_user_create and caps.supports_workspaces:
        workspaces = active_workspaces(connection=connection)
    kw = {"workspaces": workspaces, "roles": caps.roles, "needs_workspace": caps.supports_workspaces}
    if request.method == "POST":
        require(request.user, Perm.CHANGE_PEOPLE)
        if (stale := _reauth_to_grant_admin(request)) is not None:
            return stale
        if not caps.supports_user_create:
            raise Unsupported(caps.reason("supports_user_create") or "", capability="supports_user_create")
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
        response = render(request, "people/user_create.html#create_panel", context)
        if context["created"]:
            response.content += _oob_message(f"Created {context['created'].email}.").encode()
        return response
    return render(request, "people/user_create.html", context)
