"""Bundle pages: create one from a workspace's apps or from uploaded exports, follow its build, retry, download."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat, pluralize
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.roles import Perm
from apps.connections.models import Connection
from apps.connections.selectors import connection_for
from apps.core.alerts import alert_response
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.transfers import selectors
from apps.transfers.forms import (
    BundleForm,
    UploadBundleForm,
)
from apps.transfers.models import Bundle
from apps.transfers.services import bundles, uploads
from apps.transfers.storage import READ_SIZE, StorageProblem, StorageRefused, StorageUnreachable
from apps.transfers.views import upload_too_large


@require_POST
def bundle_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.TRANSFER_APPS, "supports_app_export")
    workspace_id = request.POST.get("workspace", "")
    inventory = selectors.app_inventory(connection, workspace_id=workspace_id)
    group = next((g for g in inventory.workspaces if g.workspace.id == workspace_id), None)
    if group is None:
        raise Http404("No such workspace")
    form = BundleForm(request.POST, apps=group.apps)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(e) for e in form.errors.values()))
        return redirect(f"{reverse('transfers:app_list', kwargs={'slug': slug})}?workspace={workspace_id}")
    chosen = set(form.cleaned_data["apps"])
    apps = [a for a in group.apps if not chosen or a.id in chosen]
    if not apps:
        messages.error(request, "This workspace has no apps to bundle.")
        return redirect("transfers:app_list", slug=slug)
    try:
        bundle = bundles.bundle_create(
            connection=connection,
            actor=request.user,
            workspace_id=workspace_id,
            workspace_name=group.workspace.slug or group.workspace.name,
            apps=apps,
            export_tjdb=form.cleaned_data.get("tjdb", "1") != "0",
            all_versions=form.cleaned_data["all_versions"],
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
    except StorageRefused as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('transfers:app_list', kwargs={'slug': slug})}?workspace={workspace_id}")
    return redirect("transfers:bundle_detail", slug=slug, bundle_id=bundle.pk)


@require_POST
def bundle_upload(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Store export files made in the vendor's own UI as a bundle with a manifest (no upstream call)."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS)
    oversize = upload_too_large(request)
    if oversize:
        # Do not read (or spool) the body at all.
        message = (
            f"The upload is {filesizeformat(oversize)}, over the "
            f"{filesizeformat(settings.ADMINUI_IMPORT_MAX_BYTES)} limit. Nothing was stored."
        )
        uploads.bundle_upload_reject(connection=connection, actor=request.user, files=[], message=message)
        messages.error(request, message)
        return redirect("transfers:app_list", slug=slug)
    form = UploadBundleForm(request.POST, request.FILES)
    if not form.is_valid():
        message = " ".join(" ".join(e) for e in form.errors.values())
        files = request.FILES.getlist("files")
        if files and "files" in form.errors:
            uploads.bundle_upload_reject(
                connection=connection,
                actor=request.user,
                files=[{"file_name": uploads.upload_name(f), "size": f.size} for f in files],
                message=message,
                reason=request.POST.get("reason", "")[:500],
                ticket=request.POST.get("ticket", "")[:64],
            )
        messages.error(request, message)
        return redirect("transfers:app_list", slug=slug)
    try:
        bundle = uploads.bundle_from_uploads(
            connection=connection,
            actor=request.user,
            files=form.cleaned_data["files"],
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
    except uploads.UploadRejected as exc:
        count, refused = len(form.cleaned_data["files"]), len(exc.problems)
        messages.error(
            request,
            f"Nothing was stored: {refused} of {count} file{pluralize(count)} "
            f"{pluralize(refused, 'was,were')} refused.",
        )
        for name, problem in exc.problems:
            messages.error(request, f"“{Truncator(name).chars(80)}”: {problem}")
        return redirect("transfers:app_list", slug=slug)
    except StorageProblem as exc:
        messages.error(request, exc.message)
        return redirect("transfers:app_list", slug=slug)
    return redirect("transfers:bundle_detail", slug=slug, bundle_id=bundle.pk)


def _bundle_for(request: HtmxHttpRequest, slug: str, bundle_id) -> tuple[Connection, Bundle]:
    """The bundle of this connection (404 otherwise) for an operator who may transfer apps."""
    connection = connection_for(request, slug, Perm.TRANSFER_APPS)
    return connection, selectors.bundle_get(connection, bundle_id)


def _bundle_context(connection: Connection, bundle: Bundle) -> dict:
    return {
        "connection": connection,
        "connection_ctx": connection,
        "bundle": bundle,
        "items": list(bundle.items.all()),
        "counts": bundle.counts(),
    }


@require_GET
def bundle_detail(request: HtmxHttpRequest, slug: str, bundle_id) -> HttpResponse:
    """The bundle page; htmx polls its ``status`` partial every second and stops (286) when it is finished."""
    connection, bundle = _bundle_for(request, slug, bundle_id)
    context = _bundle_context(connection, bundle)
    if wants_partial(request):
        response = render(request, "transfers/bundle_detail.html#status", context)
        if bundle.is_finished:
            return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])
        return response
    return render(request, "transfers/bundle_detail.html", context)


@require_POST
def bundle_retry(request: HtmxHttpRequest, slug: str, bundle_id) -> HttpResponse:
    connection, bundle = _bundle_for(request, slug, bundle_id)
    if not bundles.bundle_retry_failed(bundle=bundle, actor=request.user):
        messages.info(request, "Nothing to retry.")
    if wants_partial(request):
        bundle.refresh_from_db()
        return render(request, "transfers/bundle_detail.html#status", _bundle_context(connection, bundle))
    return redirect("transfers:bundle_detail", slug=slug, bundle_id=bundle.pk)


@require_GET
def bundle_download(request: HtmxHttpRequest, slug: str, bundle_id) -> HttpResponse:
    _connection, bundle = _bundle_for(request, slug, bundle_id)
    if not bundle.downloadable and not bundle.is_expired:
        return alert_response(request, "This bundle is not ready.", status=409)
    try:
        fh = bundles.bundle_download_open(bundle=bundle, actor=request.user)
    except FileNotFoundError:
        message, status = bundles.bundle_missing(bundle)
        return alert_response(request, message, status=status)
    except StorageUnreachable as exc:
        return alert_response(request, exc.message, status=503)
    content_type = "application/json" if bundle.kind == Bundle.Kind.BACKUP else "application/zip"
    response = FileResponse(fh, as_attachment=True, filename=bundle.file_name, content_type=content_type)
    # FileResponse reads ``block_size`` at each piece: 1 MiB reads from disk or the bucket instead of 4 KiB
    response.block_size = READ_SIZE
    if bundle.size is not None and not response.has_header("Content-Length"):
        response["Content-Length"] = str(bundle.size)  # a stream from shared storage has no length of its own
    return response
