from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.reauth import require_recent_auth
from apps.accounts.roles import Perm, require
from apps.audit.models import AuditEvent
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.connections.selectors import connection_for, connection_get, connection_list
from apps.core.alerts import alert_response
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.providers.errors import ProviderError, ProviderStatusError
from apps.transfers import access, selectors
from apps.transfers.forms import (
    CloneForm,
    CopyForm,
    ExportOptionsForm,
    ImportConfirmForm,
    ImportUploadForm,
    UploadBundleForm,
)
from apps.transfers.models import Bundle
from apps.transfers.preflight import ExportRejected
from apps.transfers.services import common, copies, exports, imports
from apps.transfers.storage import StorageProblem

UPLOAD_SLACK = 1024 * 1024  # multipart overhead allowed on top of the file size limit


def _can_transfer(request) -> bool:
    return request.user.has_perm(Perm.TRANSFER_APPS)


# -- inventories ----------------------------------------------------------------------------------------------


@require_GET
def fleet(request: HtmxHttpRequest) -> HttpResponse:
    """Every app on every connection, matched across instances by name."""
    require(request.user, Perm.VIEW)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    environment = request.GET.get("environment", "")
    shared = request.GET.get("shared") == "1"
    connections = list(connection_list(kind=kind, environment=environment, user=request.user))
    result = selectors.fleet_inventory(connections, q=q, shared_only=shared)
    context = {
        "fleet": result,
        "q": q,
        "kind": kind,
        "environment": environment,
        "shared": shared,
        "kinds": Connection.Kind.choices,
        "environments": Connection.Environment.choices,
    }
    template = "transfers/fleet.html#results" if wants_partial(request) else "transfers/fleet.html"
    return render(request, template, context)


@require_GET
def app_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW)
    caps = connection_capabilities(connection)
    q = request.GET.get("q", "").strip()
    workspace_id = request.GET.get("workspace", "").strip() or None
    inventory = selectors.app_inventory(connection, workspace_id=workspace_id, q=q)
    folders = selectors.folder_choices(connection) if caps.supports_folders else inventory.folder_ids
    context = {
        "connection": connection,
        "connection_ctx": connection,
        "caps": caps,
        "inventory": inventory,
        "q": q,
        "workspace_id": workspace_id or "",
        "can_transfer": _can_transfer(request),
        "bundles": selectors.bundle_list(connection) if _can_transfer(request) else [],
        "upload_form": UploadBundleForm(),
        "clone_form": CloneForm(folders=folders),
        "import_limit": settings.ADMINUI_IMPORT_MAX_BYTES,
    }
    template = "transfers/app_list.html#results" if wants_partial(request) else "transfers/app_list.html"
    return render(request, template, context)


@require_GET
def app_detail(request: HtmxHttpRequest, slug: str, app_id: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW)
    caps = connection_capabilities(connection)
    workspace_id = request.GET.get("workspace", "") or None
    app = selectors.app_find(connection, workspace_id=workspace_id, app_id=app_id)
    folders = []
    if caps.supports_app_clone and not caps.supports_workspaces:
        folders = (
            selectors.folder_choices(connection)
            if caps.supports_folders
            else selectors.app_inventory(connection).folder_ids
        )
    folder_name = selectors.folder_names(connection).get(app.folder_id or "", "") if app.folder_id else ""
    versions = [name for _id, name in app.versions]
    who, who_error = [], ""
    if caps.supports_access:
        try:
            who = access.who_can_use(access.read_app_access(connection, app, workspace_id=workspace_id))
        except ProviderError as exc:
            who_error = exc.message
    shown_ws = workspace_id or app.workspace_id or ""
    ws_name = common.workspace_display_name(get_provider(connection), shown_ws) if shown_ws else ""
    return render(
        request,
        "transfers/app_detail.html",
        {
            "who": who,
            "who_error": who_error,
            "folder_name": folder_name,
            "connection": connection,
            "connection_ctx": connection,
            "caps": caps,
            "app": app,
            "workspace_id": shown_ws,
            "workspace_name": ws_name,
            "versions": versions,
            "export_form": ExportOptionsForm(
                initial={"workspace": workspace_id or app.workspace_id}, versions=versions
            ),
            "clone_form": CloneForm(initial={"new_name": f"{app.name} (copy)"}, folders=folders),
            "can_transfer": _can_transfer(request),
        },
    )


# -- export download ------------------------------------------------------------------------------------------


@require_POST
def app_export(request: HtmxHttpRequest, slug: str, app_id: str) -> HttpResponse:
    """A form's POST (CSRF-protected) → upstream POST export → streamed back as the answer, an attachment. Never a
    GET: an export calls the instance and writes an audit row, which a link or an <img> on any page must not do."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS, "supports_app_export")
    form = ExportOptionsForm(
        request.POST, versions=[request.POST.get("version", "")] if request.POST.get("version") else []
    )
    if not form.is_valid():
        return alert_response(request, "Choose a workspace and valid export options.", status=400)
    stream = exports.app_export_open(
        connection=connection,
        actor=request.user,
        workspace_id=form.cleaned_data["workspace"],
        app_id=app_id,
        **form.options(),
    )
    response = StreamingHttpResponse(stream, content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(True, stream.filename)
    if stream.content_length:
        response["Content-Length"] = stream.content_length
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- import ---------------------------------------------------------------------------------------------------


def upload_too_large(request) -> int:
    """The declared body size when it is over the upload limit (then the body is never read), else 0."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length if length > settings.ADMINUI_IMPORT_MAX_BYTES + UPLOAD_SLACK else 0


@require_http_methods(["GET", "POST"])
def app_import(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Upload a ToolJet export; the preflight runs before anything is sent upstream."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS, "supports_app_import")
    workspaces = selectors.workspace_list(connection)
    context = {
        "connection": connection,
        "connection_ctx": connection,
        "limit": settings.ADMINUI_IMPORT_MAX_BYTES,
    }
    if request.method == "POST":
        oversize = upload_too_large(request)
        if oversize:
            # Do not read (or spool) the body at all.
            message = (
                f"The upload is {filesizeformat(oversize)}; the limit is "
                f"{filesizeformat(settings.ADMINUI_IMPORT_MAX_BYTES)}. Nothing was sent."
            )
            imports.import_reject(
                connection=connection,
                actor=request.user,
                workspace_id="",
                file_name="(not read)",
                message=message,
                summary=None,
            )
            form = ImportUploadForm(workspaces=workspaces)
            return render(
                request,
                "transfers/import.html",
                {**context, "form": form, "upload_error": message},
                status=413,
            )
        form = ImportUploadForm(request.POST, request.FILES, workspaces=workspaces)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                staged = imports.import_preflight(
                    connection=connection,
                    actor=request.user,
                    workspace_id=form.cleaned_data["workspace"],
                    fileobj=upload,
                    file_name=upload.name,
                    reason=form.cleaned_data.get("reason", ""),
                    ticket=form.cleaned_data.get("ticket", ""),
                )
            except ExportRejected as exc:
                form.add_error("file", exc.message)
                return render(request, "transfers/import.html", {**context, "form": form, "rejected": True})
            except (ProviderError, StorageProblem) as exc:
                form.add_error(None, exc.message)
                return render(request, "transfers/import.html", {**context, "form": form})
            return redirect("transfers:import_confirm", slug=connection.slug, staged_id=staged.pk)
        upload = request.FILES.get("file")
        if upload is not None and "file" in form.errors:
            imports.import_reject(
                connection=connection,
                actor=request.user,
                workspace_id=request.POST.get("workspace", ""),
                file_name=upload.name,
                message=" ".join(form.errors["file"]),
                summary=None,
            )
    else:
        form = ImportUploadForm(
            workspaces=workspaces, initial={"workspace": request.GET.get("workspace", "")}
        )
    return render(request, "transfers/import.html", {**context, "form": form})


def _import_done(request: HtmxHttpRequest, connection: Connection, staged_id):
    """For a staged import that is gone: its result page when this operator finished it, else 404."""
    if selectors.import_outcome(connection, staged_id, user=request.user) is None:
        raise Http404("This upload is gone; upload the file again.")
    return redirect("transfers:import_result", slug=connection.slug, staged_id=staged_id)


@require_http_methods(["GET", "POST"])
def import_confirm(request: HtmxHttpRequest, slug: str, staged_id) -> HttpResponse:
    """The preflight report (and for a copy, the dry-run preview); POST performs the import and redirects to the
    result page. Once the import is done this URL leads there too (Back, a second submit)."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS)
    try:
        staged = selectors.staged_get(connection, staged_id, user=request.user)
    except Http404:
        return _import_done(request, connection, staged_id)
    summary = staged.summary
    is_copy = bool(staged.source)
    initial = {"app_name": summary.get("suggested_name"), "reason": staged.reason, "ticket": staged.ticket}
    form = ImportConfirmForm(request.POST or None, initial=initial)
    context = {
        "connection": connection,
        "connection_ctx": connection,
        "staged": staged,
        "summary": summary,
        "is_copy": is_copy,
        "source_exists_on_target": (staged.source.get("app_name") or "").casefold()
        in {t.casefold() for t in summary.get("taken", [])},
        "form": form,
    }
    # importing into a production instance needs a recent sign-in
    production = request.method == "POST" and connection.environment == "production"
    if production and (stale := require_recent_auth(request)) is not None:
        return stale
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if is_copy:
                copies.app_copy_run(
                    staged=staged,
                    actor=request.user,
                    app_name=data["app_name"],
                    backup=data["backup"],
                    reason=data["reason"],
                    ticket=data["ticket"],
                )
            else:
                imports.app_import(
                    staged=staged,
                    actor=request.user,
                    app_name=data["app_name"],
                    reason=data["reason"],
                    ticket=data["ticket"],
                )
        except imports.NameTaken as exc:
            form.add_error(
                "app_name", f"An app called “{exc.name}” already exists there. Try “{exc.suggested}”."
            )
            return render(request, "transfers/import_confirm.html", context)
        except ProviderError as exc:
            form.add_error(None, _import_failed(staged, data["app_name"], exc, is_copy=is_copy))
            return render(request, "transfers/import_confirm.html", context)
        except StorageProblem as exc:
            form.add_error(None, exc.message)
            return render(request, "transfers/import_confirm.html", context)
        return redirect("transfers:import_result", slug=connection.slug, staged_id=staged_id)
    return render(request, "transfers/import_confirm.html", context)


def _import_failed(staged, app_name: str, exc: ProviderError, *, is_copy: bool) -> str:
    """What to tell the operator when the import (or the copy's import) raised: refused, or — its answer lost —
    of unknown outcome, then settled by re-reading the workspace's apps when the instance answers."""
    what = "copy" if is_copy else "import"
    if not exc.may_have_applied:
        if isinstance(exc, ProviderStatusError):
            return f"The instance refused the {what}: {exc.message}"
        return f"The {what} could not be sent: {exc.message}"
    name = app_name.strip()
    landed = imports.import_landed(staged=staged, app_name=name)
    lost = f"The answer to the {what} was lost on the way back, so its outcome was unknown."
    if landed is True:
        return f"{lost} The app list now shows “{name}”: the {what} was applied. Do not send it again."
    if landed is False:
        return (
            f"{lost} The app list does not show “{name}” (read just now): it was most likely not applied. "
            "Check the app list again before trying once more."
        )
    return (
        f"{lost} It may have been applied: check the workspace's app list for “{name}” before trying again."
    )


@require_GET
def import_result(request: HtmxHttpRequest, slug: str, staged_id) -> HttpResponse:
    """What a finished import or copy did, read back from its audit row (so Back and reload keep working)."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS)
    event = selectors.import_outcome(connection, staged_id, user=request.user)
    if event is None:
        raise Http404("No finished import here.")
    after = event.after or {}
    backup_id = (after.get("backup") or {}).get("bundle")
    backup = Bundle.objects.filter(pk=backup_id, connection=connection).first() if backup_id else None
    new_app = selectors.app_named(
        connection, workspace_id=after.get("workspace_id") or None, name=after.get("app_name") or ""
    )
    return render(
        request,
        "transfers/import_result.html",
        {
            "new_app": new_app,
            "connection": connection,
            "connection_ctx": connection,
            "event": event,
            "after": after,
            "is_copy": event.action == AuditEvent.Action.APP_COPY,
            "backup": backup,
            "warning": common.CREDENTIALS_WARNING,
        },
    )


# -- copy between instances -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def app_copy(request: HtmxHttpRequest, slug: str, app_id: str) -> HttpResponse:
    """Pick a target connection/workspace; POST exports app A, preflights it and shows the dry-run preview."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS, "supports_app_export")
    workspace_id = request.GET.get("workspace") or request.POST.get("workspace", "")
    app = selectors.app_find(connection, workspace_id=workspace_id or None, app_id=app_id)
    versions = [name for _id, name in app.versions]
    source_version = selectors.instance_tooljet_version(
        connection, workspace_id=workspace_id or app.workspace_id
    )
    targets = selectors.copy_targets(connection_list(user=request.user), source_version=source_version)
    form = CopyForm(request.POST or None, targets=targets, versions=versions)
    context = {
        "connection": connection,
        "connection_ctx": connection,
        "app": app,
        "form": form,
        "workspace_id": workspace_id or app.workspace_id,
    }
    if request.method == "POST" and form.is_valid():
        target_slug, target_ws = form.target_parts()
        target = connection_get(target_slug, request.user)
        if (target.pk, target_ws) == (connection.pk, workspace_id or app.workspace_id):
            form.add_error("target", "Pick another workspace or connection than the source.")
            return render(request, "transfers/copy.html", context)
        try:
            staged = copies.app_copy_prepare(
                source_connection=connection,
                actor=request.user,
                source_workspace_id=workspace_id or app.workspace_id,
                app_id=app_id,
                target_connection=target,
                target_workspace_id=target_ws,
                version_name=form.cleaned_data.get("version") or None,
                all_versions=form.cleaned_data.get("all_versions", False),
                export_tjdb=form.cleaned_data.get("tjdb", "1") != "0",
            )
        except (ExportRejected, ProviderError, StorageProblem) as exc:
            form.add_error(None, exc.message)
            return render(request, "transfers/copy.html", context)
        return redirect("transfers:import_confirm", slug=target.slug, staged_id=staged.pk)
    return render(request, "transfers/copy.html", context)


# -- Retool clone ---------------------------------------------------------------------------------------------


@require_POST
def app_clone(request: HtmxHttpRequest, slug: str, app_id: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.TRANSFER_APPS, "supports_app_clone")
    folders = [f for f in request.POST.getlist("folder_id") if f]
    form = CloneForm(request.POST, folders=folders)
    if not form.is_valid():
        return render(
            request,
            "transfers/clone_form.html",
            {"connection": connection, "connection_ctx": connection, "form": form, "app_id": app_id},
        )
    try:
        clone = copies.app_clone(
            connection=connection,
            actor=request.user,
            app_id=app_id,
            new_name=form.cleaned_data["new_name"],
            folder_id=form.cleaned_data.get("folder_id") or None,
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
    except ProviderError as exc:
        form.add_error(None, exc.message)
        return render(
            request,
            "transfers/clone_form.html",
            {"connection": connection, "connection_ctx": connection, "form": form, "app_id": app_id},
        )
    folder = (
        selectors.folder_names(connection).get(clone.folder_id, clone.folder_id) if clone.folder_id else ""
    )
    message = f"Cloned into “{clone.name}”" + (f" in folder {folder}." if folder else ".")
    if wants_partial(request):
        return render(
            request,
            "transfers/clone_form.html",
            {
                "connection": connection,
                "form": CloneForm(),
                "app_id": app_id,
                "done": message,
                "clone": clone,
            },
        )
    messages.success(request, message)
    return redirect("transfers:app_list", slug=connection.slug)
