"""Group pages: list, detail with members, create, edit, delete, membership changes, drift report."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.reauth import require_recent_auth
from apps.accounts.roles import Perm, require
from apps.connections.auditing import audit_failed_write
from apps.connections.clients import connection_capabilities
from apps.connections.selectors import connection_for, connection_get, connection_list
from apps.core.alerts import provider_error_response
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.groups import access
from apps.groups import selectors as sel
from apps.groups import services as svc
from apps.groups.forms import (
    AccessChangeForm,
    DriftForm,
    GroupDeleteForm,
    GroupSearchForm,
    MemberAddForm,
    MemberChangeForm,
    RetoolGroupForm,
    ToolJetGroupForm,
    group_form_initial,
)
from apps.groups.permissions import (
    can_edit_group,
    can_manage_groups,
    is_admin_group,
    member_change_decision,
)
from apps.providers.errors import ConflictError, NotFoundError, ProviderError, RejectedError, Unsupported
from apps.providers.retool import vocabulary as retool
from apps.providers.tooljet import vocabulary as tooljet

# -- helpers -----------------------------------------------------------------------------------------------------


def _scope(request: HtmxHttpRequest, slug: str) -> sel.GroupsScope:
    connection = connection_for(request, slug, Perm.VIEW)
    ws = request.POST.get("ws") if request.method == "POST" else request.GET.get("ws")
    return sel.groups_scope(connection, ws or None)


def _base_context(scope: sel.GroupsScope, **extra) -> dict:
    return {"scope": scope, "connection": scope.connection, "connection_ctx": scope.connection, **extra}


def _detail_url(scope: sel.GroupsScope, group_id: str) -> str:
    return reverse("groups:group_detail", args=[scope.connection.slug, group_id]) + scope.query


def _list_url(scope: sel.GroupsScope) -> str:
    return reverse("groups:group_list", args=[scope.connection.slug]) + scope.query


def _unavailable(request: HtmxHttpRequest, scope: sel.GroupsScope) -> HttpResponse:
    """A page explains why this connection has no groups; a change to them is refused like any other
    change the connection cannot make."""
    if request.method != "GET":
        raise Unsupported(scope.unavailable, capability="supports_groups")
    return render(request, "groups/group_list.html", _base_context(scope))


def _form_class(scope: sel.GroupsScope):
    return ToolJetGroupForm if scope.granular else RetoolGroupForm


def _form_kwargs(scope: sel.GroupsScope) -> dict:
    return {"apps": sel.workspace_apps(scope)} if scope.granular else {}


def _form_errors(form) -> str:
    return "; ".join(e for errs in form.errors.values() for e in errs)


_FIELD_HINTS = (
    ("name", "name"),
    ("resource", "g0_resources"),
    ("applytoall", "g0_all"),
    ("hidefromdashboard", "g0_hide"),
)


def _upstream_errors_to_form(form, exc: RejectedError) -> None:
    """Put each upstream 400/422 message next to the field it is about, the rest above the form."""
    for message in exc.messages or [exc.message]:
        low = message.replace(" ", "").lower()
        target = next((f for hint, f in _FIELD_HINTS if hint in low and f in form.fields), None)
        form.add_error(target, f"The instance rejected this: {message}")


def _member_context(request: HtmxHttpRequest, scope: sel.GroupsScope, group, **extra) -> dict:
    rows = sel.group_member_rows(scope, group)
    q = request.GET.get("mq", "") if request.method == "GET" else request.POST.get("mq", "")
    members = sel.group_members_page(rows, q=q, page=request.GET.get("mpage", 1))
    add_form = extra.pop("add_form", None) or MemberAddForm()
    # The member list (with the add form) is swapped whole: a refused add keeps the search and the person picked.
    picker_q = add_form.data.get("user_q", "") if add_form.is_bound else ""
    member_decision = member_change_decision(request.user, group, scope.connection)
    return _base_context(
        scope,
        group=group,
        members=members,
        member_total=len(rows),
        mq=q,
        is_admin_group=is_admin_group(group),
        may_change_members=scope.can_change_members and member_decision.allowed,
        member_reason=member_decision.reason,
        may_edit=can_edit_group(request.user, group),
        warning=sel.RETOOL_BUILTIN_WARNINGS.get(group.name) if group.is_builtin else None,
        add_form=add_form,
        picker_q=picker_q,
        picked=sel.user_picker(scope.connection, picker_q, workspace_id=scope.workspace_id or "")
        if picker_q
        else (),
        picked_id=add_form.data.get("user_id", "") if add_form.is_bound else "",
        delete_form=GroupDeleteForm(prefix="delete"),
        **extra,
    )


# -- list --------------------------------------------------------------------------------------------------------


@require_GET
def group_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    scope = _scope(request, slug)
    if scope.unavailable:
        return _unavailable(request, scope)
    form = GroupSearchForm(request.GET)
    form.is_valid()
    q = form.cleaned_data.get("q") or ""
    page = form.cleaned_data.get("page") or 1
    result = sel.group_list(scope, search=q, page=page)
    # ToolJet's groups API lists no members: they are counted from the directory index
    counts = sel.indexed_member_counts(scope) if scope.per_workspace else {}
    context = _base_context(
        scope,
        result=result,
        rows=[
            (
                g,
                [label for key, label in tooljet.PERMISSIONS if g.permissions.get(key)],
                counts.get(g.name, 0),
            )
            for g in result.groups
        ],
        q=q,
        may_create=can_manage_groups(request.user) and scope.capabilities.supports_group_crud,
        default_groups=sel.TOOLJET_DEFAULT_GROUPS if scope.per_workspace else (),
        default_reason=sel.TOOLJET_DEFAULT_REASON,
        builtin_warnings=sel.RETOOL_BUILTIN_WARNINGS,
    )
    template = "groups/group_list.html#results" if wants_partial(request) else "groups/group_list.html"
    return render(request, template, context)


# -- detail and members ------------------------------------------------------------------------------------------


@require_GET
def group_detail(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    scope = _scope(request, slug)
    if scope.unavailable:
        return _unavailable(request, scope)
    group = sel.group_get(scope, group_id)
    context = _member_context(request, scope, group)
    context.update(
        permission_rows=[(label, group.permissions.get(key, False)) for key, label in tooljet.PERMISSIONS],
        access_rows=[(label, group.permissions.get(key, "none")) for key, label, _ in retool.ACCESS_LEVELS],
        flag_rows=[(label, group.permissions.get(key, False)) for key, label in retool.FLAGS],
        granular_rows=sel.granular_rows(scope, group),
        pending_invites=sel.group_pending_invites(group),
        landing_page=sel.landing_page_name(scope, group),
    )
    context.update(_access_context(request, scope, group))
    template = (
        "groups/group_detail.html#member_list" if wants_partial(request) else "groups/group_detail.html"
    )
    return render(request, template, context)


def _member_response(request: HtmxHttpRequest, scope, group, message: str = "", error: str = "", **extra):
    if wants_partial(request):
        context = _member_context(request, scope, group, member_message=message, member_error=error, **extra)
        return render(request, "groups/group_detail.html#member_list", context)
    if message:
        messages.success(request, message)
    if error:
        messages.error(request, error)
    return redirect(_detail_url(scope, group.id))


@require_POST
@audit_failed_write(svc.Action.GROUP_MEMBER_ADD, target_type="group", target_kwarg="group_id")
def group_member_add(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    scope = _scope(request, slug)
    require(request.user, Perm.CHANGE_PEOPLE)
    if is_admin_group(sel.group_get(scope, group_id)) and (stale := require_recent_auth(request)) is not None:
        return stale  # membership of the admin group grants admin: a recent sign-in first
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        group = sel.group_get(scope, group_id)
        if not wants_partial(request):
            messages.error(request, _form_errors(form))
            return redirect(_detail_url(scope, group.id))
        return _member_response(request, scope, group, add_form=form)
    try:
        group = svc.group_member_add(
            scope=scope,
            actor=request.user,
            group_id=group_id,
            user_id=form.cleaned_data["user_id"],
            is_group_admin=form.cleaned_data["is_group_admin"],
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
    except (ConflictError, RejectedError) as exc:
        return _member_response(
            request, scope, sel.group_get(scope, group_id), error=exc.message, add_form=form
        )
    if scope.members_by_membership:
        group = sel.group_get(scope, group_id)
    return _member_response(request, scope, group, message="Member added.")


def _member_change(request: HtmxHttpRequest, slug: str, group_id: str, action: str) -> HttpResponse:
    scope = _scope(request, slug)
    require(request.user, Perm.CHANGE_PEOPLE)
    form = MemberChangeForm(request.POST)
    if not form.is_valid():
        group = sel.group_get(scope, group_id)
        return _member_response(request, scope, group, error=_form_errors(form))
    data = form.cleaned_data
    common = {
        "scope": scope,
        "actor": request.user,
        "group_id": group_id,
        "user_id": data["user_id"],
        "reason": data["reason"],
        "ticket": data["ticket"],
    }
    try:
        if action == "remove":
            group = svc.group_member_remove(expected_groups=form.expected(), **common)
            message = "Member removed."
        else:
            group = svc.group_member_admin(is_group_admin=data["is_group_admin"], **common)
            message = "Group admin set." if data["is_group_admin"] else "Group admin removed."
    except (ConflictError, RejectedError) as exc:
        return _member_response(request, scope, sel.group_get(scope, group_id), error=exc.message)
    if scope.members_by_membership:
        group = sel.group_get(scope, group_id)
    return _member_response(request, scope, group, message=message)


@require_POST
@audit_failed_write(svc.Action.GROUP_MEMBER_REMOVE, target_type="group", target_kwarg="group_id")
def group_member_remove(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    return _member_change(request, slug, group_id, "remove")


@require_POST
@audit_failed_write(svc.Action.GROUP_MEMBER_ADMIN, target_type="group", target_kwarg="group_id")
def group_member_admin(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    return _member_change(request, slug, group_id, "admin")


@require_GET
def group_user_picker(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE)
    users = sel.user_picker(connection, request.GET.get("user_q", ""), workspace_id=request.GET.get("ws", ""))
    return render(
        request,
        "groups/group_detail.html#picker_results",
        {"picked": users, "connection": connection, "picker_ws": request.GET.get("ws", "")},
    )


# -- access: what the group can use ------------------------------------------------------------------------------


def _access_context(request: HtmxHttpRequest, scope: sel.GroupsScope, group, **extra) -> dict:
    """The access panel: shown when the instance reports who may use what; grant forms when it can change it."""
    caps = scope.capabilities
    if not caps.supports_access:
        return {"show_access": False}
    try:
        panel = access.group_access(scope, group)
        error = ""
    except ProviderError as exc:
        panel, error = access.GroupAccess(), exc.message
    may_grant = (
        caps.supports_access_grant and member_change_decision(request.user, group, scope.connection).allowed
    )
    form = extra.pop("access_form", None) or AccessChangeForm(objects=panel.choices, prefix="access")
    return {
        "show_access": True,
        "access": panel,
        "access_error": error,
        "may_grant": may_grant,
        "may_own": request.user.has_perm(Perm.GRANT_ADMIN),
        "access_grant_reason": caps.reason("supports_access_grant") if not caps.supports_access_grant else "",
        "access_form": form,
        **extra,
    }


def _access_change(request: HtmxHttpRequest, slug: str, group_id: str, action: str) -> HttpResponse:
    connection_for(request, slug, Perm.CHANGE_PEOPLE, "supports_access_grant")
    scope = _scope(request, slug)
    group = sel.group_get(scope, group_id)
    choices = access.group_access(scope, group).choices
    form = AccessChangeForm(request.POST, objects=choices, prefix="access" if action == "grant" else None)
    message = error = ""
    if form.is_valid():
        kind, object_id = form.target()
        common = {
            "scope": scope,
            "actor": request.user,
            "group_id": group.id,
            "object_kind": kind,
            "object_id": object_id,
            "object_name": form.target_name(),
            "reason": form.cleaned_data["reason"],
            "ticket": form.cleaned_data["ticket"],
        }
        try:
            if action == "grant":
                level = form.cleaned_data["level"] or "use"
                access.group_access_grant(level=level, **common)
                message = f"{group.name} now has {level} on {form.target_name()}."
            else:
                access.group_access_revoke(**common)
                message = f"{group.name}'s grant on {form.target_name()} revoked."
        except (ConflictError, RejectedError) as exc:
            error = exc.message
    else:
        error = _form_errors(form)
    if not wants_partial(request):
        if message:
            messages.success(request, message)
        if error:
            messages.error(request, error)
        return redirect(_detail_url(scope, group.id))
    extra = {"access_message": message, "access_error_message": error}
    if error and action == "grant":
        extra["access_form"] = form
    context = _base_context(scope, group=group, **_access_context(request, scope, group, **extra))
    return render(request, "groups/group_detail.html#access_panel", context)


@require_POST
def group_access_grant(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    return _access_change(request, slug, group_id, "grant")


@require_POST
def group_access_revoke(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    return _access_change(request, slug, group_id, "revoke")


# -- create / edit / delete --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@audit_failed_write(svc.Action.GROUP_CREATE, target_type="group")
def group_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    scope = _scope(request, slug)
    if scope.unavailable:
        return _unavailable(request, scope)
    require(request.user, Perm.MANAGE_GROUPS)
    if not scope.capabilities.supports_group_crud:
        raise Unsupported(
            scope.capabilities.reason("supports_group_crud") or "", capability="supports_group_crud"
        )
    form = _form_class(scope)(request.POST or None, **_form_kwargs(scope))
    if request.method == "POST" and form.is_valid():
        try:
            group = svc.group_create(
                scope=scope,
                actor=request.user,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                granular_permissions=form.cleaned_data["granular_permissions"],
                reason=form.cleaned_data["reason"],
                ticket=form.cleaned_data["ticket"],
            )
        except RejectedError as exc:
            _upstream_errors_to_form(form, exc)
        except ConflictError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Group “{group.name}” created.")
            return _redirect(request, _detail_url(scope, group.id))
    return render(request, "groups/group_form.html", _base_context(scope, form=form, group=None))


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_http_methods(["GET", "POST"])
@audit_failed_write(svc.Action.GROUP_UPDATE, target_type="group", target_kwarg="group_id")
def group_edit(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    conflict = None
    scope = _scope(request, slug)
    if scope.unavailable:
        return _unavailable(request, scope)
    require(request.user, Perm.MANAGE_GROUPS)
    group = sel.group_get(scope, group_id)
    if not can_edit_group(request.user, group):
        raise PermissionDenied("Only admins may edit this group.")
    form_class = _form_class(scope)
    if request.method == "POST":
        form = form_class(request.POST, **_form_kwargs(scope))
        if form.is_valid():
            try:
                group = svc.group_update(
                    scope=scope,
                    actor=request.user,
                    group_id=group_id,
                    expected_version=form.cleaned_data["version"],
                    name=form.cleaned_data["name"],
                    permissions=form.cleaned_data["permissions"],
                    granular_permissions=form.cleaned_data["granular_permissions"],
                    reason=form.cleaned_data["reason"],
                    ticket=form.cleaned_data["ticket"],
                )
            except ConflictError as exc:
                form.add_error(None, exc.message)
                group = sel.group_get(scope, group_id)
                conflict = group
                # the next save is checked against what the operator now sees
                data = form.data.copy()
                data["version"] = sel.group_version(group)
                form.data = data
            except RejectedError as exc:
                _upstream_errors_to_form(form, exc)
            else:
                messages.success(request, f"Group “{group.name}” saved.")
                return _redirect(request, _detail_url(scope, group.id))
    else:
        form = form_class(initial=group_form_initial(group, sel.group_version(group)), **_form_kwargs(scope))
    context = _base_context(scope, form=form, group=group, conflict=conflict)
    if scope.granular:
        context["existing_granular"] = sel.granular_rows(scope, group)
    if conflict is not None:
        context["conflict_rows"] = sel.conflict_rows(scope, conflict, form.data)
    return render(request, "groups/group_form.html", context)


@require_POST
@audit_failed_write(svc.Action.GROUP_DELETE, target_type="group", target_kwarg="group_id")
def group_delete(request: HtmxHttpRequest, slug: str, group_id: str) -> HttpResponse:
    try:
        scope = _scope(request, slug)
        require(request.user, Perm.MANAGE_GROUPS)
        if (stale := require_recent_auth(request)) is not None:
            return stale
        form = GroupDeleteForm(request.POST, prefix="delete")
        if not form.is_valid():
            errors = _form_errors(form)
            messages.error(request, f"Not deleted: {errors}")
            return _redirect(request, _detail_url(scope, group_id))
        group = svc.group_delete(
            scope=scope,
            actor=request.user,
            group_id=group_id,
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
    except NotFoundError as exc:
        if not exc.object_missing:
            return provider_error_response(request, exc)
        # deleted elsewhere (another tab, another operator, the product's own UI) since this page was loaded
        messages.info(request, "That group no longer exists: it was deleted elsewhere. Nothing was changed.")
        return _redirect(request, _list_url(scope))
    except ProviderError as exc:
        return provider_error_response(request, exc)
    messages.success(request, f"Group “{group.name}” deleted.")
    return _redirect(request, _list_url(scope))


# -- drift report ------------------------------------------------------------------------------------------------


def _drift(request: HtmxHttpRequest, *, every_row: bool = False):
    """(form, left scope, right scope, report); scopes carry the workspaces for the pickers. The page shows the
    differences only unless asked otherwise; the CSV always has every row (and a "differs" column)."""
    require(request.user, Perm.VIEW)
    form = DriftForm(request.GET or None)
    left = right = report = None
    if form.is_valid():
        left = sel.groups_scope(
            connection_get(form.cleaned_data["left"], request.user), form.cleaned_data["left_ws"] or None
        )
        right = sel.groups_scope(
            connection_get(form.cleaned_data["right"], request.user), form.cleaned_data["right_ws"] or None
        )
        for side in (left, right):
            if side.unavailable:
                form.add_error(None, f"{side.connection.name}: {side.unavailable}")
        if form.is_valid():
            only = not every_row and _differences_only(request)
            report = sel.drift_report(left, right, differences_only=only)
    return form, left, right, report


def _differences_only(request: HtmxHttpRequest) -> bool:
    """On unless the form said otherwise (its hidden "0" comes before the checkbox's "1")."""
    return request.GET.get("only_diff", "1") != "0"


@require_GET
def group_drift(request: HtmxHttpRequest) -> HttpResponse:
    form, left, right, report = _drift(request)
    context = {
        "form": form,
        "left": left,
        "right": right,
        "report": report,
        # only instances with a groups API can be compared
        "connections": [
            c for c in connection_list(user=request.user) if connection_capabilities(c).supports_groups
        ],
        "differences_only": _differences_only(request),
        "query": request.GET.urlencode(),
        "drift_sides": [
            ("left", "Left", left, request.GET.get("left", "")),
            ("right", "Right", right, request.GET.get("right", "")),
        ],
    }
    template = "groups/group_drift.html#report" if wants_partial(request) else "groups/group_drift.html"
    return render(request, template, context)


@require_GET
def group_drift_csv(request: HtmxHttpRequest) -> HttpResponse:
    _form, _left, _right, report = _drift(request, every_row=True)
    if report is None:
        return redirect(reverse("groups:group_drift") + "?" + request.GET.urlencode())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="group-drift.csv"'
    writer = csv.writer(response)
    writer.writerow(["group", "setting", _side_label(report.left), _side_label(report.right), "differs"])
    for row in report.rows:
        writer.writerow(
            [
                _csv_safe(row.group),
                _csv_safe(row.setting),
                _csv_safe(row.left),
                _csv_safe(row.right),
                "yes" if row.differs else "",
            ]
        )
    return response


def _side_label(side: sel.GroupsScope) -> str:
    return side.connection.name + (f" / {side.workspace.name}" if side.workspace else "")


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in upstream-controlled text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
