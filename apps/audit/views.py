from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.roles import Perm, require
from apps.accounts.scope import operator_scope
from apps.audit.exports import CONTENT_TYPES, FORMATS, stream
from apps.audit.forms import AuditFilterForm
from apps.audit.models import AuditEvent
from apps.audit.selectors import (
    EventPage,
    event_changes,
    event_page,
    event_search,
    events_visible_to,
    latest_verification,
    verification_pending,
)
from apps.audit.services import audit_export_start, audit_verify_request
from apps.core.http import HtmxHttpRequest, wants_partial

PAGE_SIZE = 50


def _connection_choices(user) -> list[tuple[str, str]]:
    Connection = AuditEvent._meta.get_field("connection").related_model  # no import of the connections app
    covered = Connection.objects.filter(operator_scope(user).q())
    return list(covered.order_by("name").values_list("slug", "name"))


def _position(request: HtmxHttpRequest, name: str) -> int | None:
    """A page position from the query string (``before``/``after``); anything but a whole number is ignored."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 20 else None


def _filter_form(request: HtmxHttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET, connections=_connection_choices(request.user))


@require_GET
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    form = _filter_form(request)
    page = (
        event_page(
            filters=form.filters(),
            before=_position(request, "before"),
            after=_position(request, "after"),
            size=PAGE_SIZE,
            visible=events_visible_to(request.user),
        )
        if form.is_valid()
        else EventPage(object_list=[], has_next=False, has_previous=False)
    )
    context = {
        "form": form,
        "page": page,
        "verification": latest_verification(),
        "verifying": verification_pending(),
        "can_export": request.user.has_perm(Perm.EXPORT_AUDIT),
    }
    template = "audit/event_list.html#results" if wants_partial(request) else "audit/event_list.html"
    return render(request, template, context)


@require_POST
def verify_start(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a walk of the whole chain (admins); the audit page's verification line follows it until done."""
    require(request.user, Perm.EXPORT_AUDIT)
    audit_verify_request()
    if wants_partial(request):  # the line swaps in place (the page keeps its filters) and polls until done
        context = {"verification": latest_verification(), "verifying": True, "can_export": True}
        return render(request, "audit/event_list.html#verification", context)
    messages.info(request, "Verifying the chain: the line above the filters updates when it is done.")
    return redirect("audit:event_list")


@require_GET
def verification_status(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    verifying = verification_pending()
    context = {
        "verification": latest_verification(),
        "verifying": verifying,
        "can_export": request.user.has_perm(Perm.EXPORT_AUDIT),
    }
    response = render(request, "audit/event_list.html#verification", context)
    if verifying:
        return response
    return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])


@require_GET
def event_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.VIEW)
    event = get_object_or_404(AuditEvent.objects.filter(events_visible_to(request.user)), pk=pk)
    context = {"event": event, **event_changes(event)}
    return render(request, "audit/event_detail.html", context)


@require_GET
def event_export(request: HtmxHttpRequest) -> HttpResponse:
    """A streamed download of the filtered trail (admins only); the export itself is audited."""
    require(request.user, Perm.EXPORT_AUDIT)
    export_format = request.GET.get("format", "jsonl")
    form = _filter_form(request)
    if export_format not in FORMATS or not form.is_valid():
        return HttpResponseBadRequest("Unknown export format or invalid filters.", content_type="text/plain")
    filters = form.filters()
    events, record = audit_export_start(
        actor=request.user,
        qs=event_search(filters=filters, visible=events_visible_to(request.user)),
        export_format=export_format,
        filters=filters,
    )
    response = StreamingHttpResponse(stream(events, export_format), content_type=CONTENT_TYPES[export_format])
    response["Content-Disposition"] = f'attachment; filename="{record.extra["filename"]}"'
    return response
