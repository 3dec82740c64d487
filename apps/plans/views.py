"""Change plan pages: build (POST from the person page) → review (live before → after) → submit → approval queue →
progress (polled, stops with 286) → retry failed / revert."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.roles import Perm, require
from apps.core.alerts import alert_response
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.plans import csvplan, forms, selectors, services
from apps.plans.models import Plan

DETAIL = "plans/plan_detail.html"


def _plan_for(request: HtmxHttpRequest, pk: int) -> Plan:
    """A plan the operator may see: drafts only by their author (404 for anyone else)."""
    require(request.user, Perm.VIEW)
    try:
        plan = selectors.plan_get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404 from None
    if plan.state == Plan.State.DRAFT and plan.author_id != request.user.pk:
        raise Http404
    if not selectors.plans_visible_to(request.user).filter(pk=plan.pk).exists():
        raise Http404  # an operation on a connection outside the operator's scope
    return plan


def _refused(request: HtmxHttpRequest, plan: Plan, message: str) -> HttpResponse:
    if wants_partial(request):
        return alert_response(request, message)
    messages.error(request, message)
    return redirect(plan)


@require_GET
def plan_list(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    plans = selectors.plan_list(user=request.user).exclude(state=Plan.State.DRAFT)[:100]
    return render(
        request,
        "plans/plan_list.html",
        {
            "plans": plans,
            "ticket": request.session.get("plans_ticket", ""),
            "ticket_form": forms.TicketForm(),
        },
    )


@require_POST
def ticket_set(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.CHANGE_PEOPLE)
    form = forms.TicketForm(request.POST)
    ticket = services.session_ticket_set(session=request.session, ticket=form.data.get("ticket", ""))
    messages.success(request, f"Working on {ticket}." if ticket else "No ticket for this session.")
    return redirect(request.POST["next"] if _safe_next(request) else "plans:plan_list")


def _safe_next(request: HtmxHttpRequest) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


def _build(request: HtmxHttpRequest, form, build) -> HttpResponse:
    require(request.user, Perm.CHANGE_PEOPLE)
    if not form.is_valid():
        return alert_response(request, "Pick a person (and a role) first.", status=400)
    try:
        plan = build(form.cleaned_data)
    except services.PlanError as exc:
        return alert_response(request, exc.message, status=400)
    return redirect(plan)


@require_POST
def offboard_build(request: HtmxHttpRequest) -> HttpResponse:
    ticket = request.session.get("plans_ticket", "")
    return _build(
        request,
        forms.OffboardForm(request.POST),
        lambda data: services.plan_build_offboard(
            actor=request.user, email=data["email"], include_groups=data["include_groups"], ticket=ticket
        ),
    )


@require_POST
def role_build(request: HtmxHttpRequest) -> HttpResponse:
    ticket = request.session.get("plans_ticket", "")
    return _build(
        request,
        forms.RoleForm(request.POST),
        lambda data: services.plan_build_role(
            actor=request.user, email=data["email"], role=data["role"], ticket=ticket
        ),
    )


def _context(request: HtmxHttpRequest, plan: Plan, form=None) -> dict:
    viewer = request.user
    rows = services.plan_review_rows(
        plan=plan, actor=viewer if plan.state != Plan.State.DRAFT else plan.author
    )
    return {
        "csv": csvplan.plan_csv_summary(plan=plan, rows=rows) if plan.source == Plan.Source.CSV else None,
        "notes": (plan.source_report or {}).get("notes", []),
        "plan": plan,
        "rows": rows,
        "summary": services.plan_summary(rows),
        "progress": selectors.plan_progress(plan=plan),
        "form": form
        or forms.SubmitForm(initial={"ticket": plan.ticket or request.session.get("plans_ticket", "")}),
        "conflict": services.plan_conflict(plan=plan) if plan.state == Plan.State.DRAFT else "",
        "can_approve": plan.state == Plan.State.PENDING_APPROVAL
        and viewer.has_perm(Perm.GRANT_ADMIN)
        and viewer.pk not in (plan.author_id, plan.on_behalf_of_id),
        "is_author": viewer.pk == plan.author_id,
        "can_change": viewer.has_perm(Perm.CHANGE_PEOPLE),
        "revert_plans": list(plan.reverted_by.all()),
    }


@require_GET
def plan_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A draft is the review page (targets re-read live on every load); otherwise the plan's status, which htmx
    polls while it applies and stops (286) when it is finished."""
    plan = _plan_for(request, pk)
    if plan.state == Plan.State.DRAFT:
        services.plan_refresh(plan=plan)
    context = _context(request, plan)
    if wants_partial(request):
        response = render(request, f"{DETAIL}#status", context)
        if plan.state not in (Plan.State.APPROVED, Plan.State.APPLYING):
            return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])
        return response
    return render(request, DETAIL, context)


@require_POST
def plan_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    require(request.user, Perm.CHANGE_PEOPLE)
    form = forms.SubmitForm(request.POST)
    if not form.is_valid():
        return render(request, DETAIL, _context(request, plan, form))
    try:
        services.plan_submit(
            plan=plan,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
            expires_in_hours=form.cleaned_data.get("expires_in_hours"),
        )
    except ValidationError as exc:
        form.add_error("reason", exc.messages[0])
        return render(request, DETAIL, _context(request, plan, form))
    except services.PlanError as exc:
        form.add_error(None, exc.message)
        return render(request, DETAIL, _context(request, plan, form))
    if form.cleaned_data["ticket"]:
        services.session_ticket_set(session=request.session, ticket=form.cleaned_data["ticket"])
    if plan.state == Plan.State.PENDING_APPROVAL:
        messages.info(request, "Sent for approval: another admin has to approve it before anything changes.")
    return redirect(plan)


@require_POST
def plan_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    try:
        services.plan_approve(plan=plan, approver=request.user)
    except services.PlanError as exc:
        return _refused(request, plan, exc.message)
    except PermissionDenied as exc:
        return _refused(request, plan, str(exc) or "You may not approve this plan.")
    messages.success(request, f"Approved: plan #{plan.pk} is being applied.")
    return redirect(plan)


@require_POST
def plan_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    try:
        services.plan_reject(plan=plan, approver=request.user, note=request.POST.get("note", ""))
    except services.PlanError as exc:
        return _refused(request, plan, exc.message)
    except PermissionDenied as exc:
        return _refused(request, plan, str(exc) or "You may not reject this plan.")
    messages.success(request, f"Plan #{plan.pk} rejected; nothing was changed.")
    return redirect("plans:approval_list" if plan.author_id != request.user.pk else plan)


def _derive(request: HtmxHttpRequest, pk: int, build) -> HttpResponse:
    plan = _plan_for(request, pk)
    require(request.user, Perm.CHANGE_PEOPLE)
    try:
        new = build(plan)
    except services.PlanError as exc:
        return _refused(request, plan, exc.message)
    return redirect(new)


@require_POST
def plan_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _derive(request, pk, lambda plan: services.plan_retry_build(plan=plan, actor=request.user))


@require_POST
def plan_revert(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _derive(request, pk, lambda plan: services.plan_revert_build(plan=plan, actor=request.user))


@require_GET
def approval_list(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    services.approval_requests_expire()
    plans = list(selectors.approval_queue(user=request.user))
    return render(
        request,
        "plans/approval_list.html",
        {"plans": plans, "is_admin": request.user.has_perm(Perm.GRANT_ADMIN)},
    )


@require_POST
def selection_build(request: HtmxHttpRequest) -> HttpResponse:
    """The search results' "Plan a change for the selected" (a full-page POST: the review is a page of its own)."""
    require(request.user, Perm.CHANGE_PEOPLE)
    form = forms.SelectionForm(request.POST)
    if not form.is_valid():
        return alert_response(request, "Pick what to change for the selected people.", status=400)
    try:
        plan = services.plan_build_selection(
            actor=request.user,
            account_ids=form.account_ids(),
            action=form.cleaned_data["action"],
            role=form.cleaned_data["role"],
            group=form.cleaned_data["group"],
            ticket=request.session.get("plans_ticket", ""),
        )
    except services.PlanError as exc:
        return alert_response(request, exc.message, status=400)
    return redirect(plan)


@require_POST
def copy_access_build(request: HtmxHttpRequest) -> HttpResponse:
    ticket = request.session.get("plans_ticket", "")
    return _build(
        request,
        forms.CopyAccessForm(request.POST),
        lambda data: services.plan_build_copy_access(
            actor=request.user, email=data["email"], source_email=data["source_email"], ticket=ticket
        ),
    )


@require_http_methods(["GET", "POST"])
def csv_upload(request: HtmxHttpRequest) -> HttpResponse:
    """Upload a CSV of changes: validated row by row into a draft plan, then the normal review."""
    require(request.user, Perm.CHANGE_PEOPLE)
    form = forms.CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            plan = csvplan.plan_build_csv(
                actor=request.user,
                upload=getattr(upload.file, "file", upload.file),  # a spooled upload wraps its real file
                filename=upload.name,
                size=upload.size,
                ticket=request.session.get("plans_ticket", ""),
            )
        except services.PlanError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(plan)
    return render(
        request,
        "plans/csv_upload.html",
        {
            "form": form,
            "columns": csvplan.COLUMNS,
            "max_rows": csvplan.MAX_ROWS,
            "max_bytes": csvplan.MAX_BYTES,
        },
    )


@require_GET
def csv_template(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    response = HttpResponse(csvplan.csv_template(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plan-template.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def csv_errors(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The error report of a CSV plan: refused rows and the operations the review refuses, as CSV."""
    plan = _plan_for(request, pk)
    if plan.source != Plan.Source.CSV:
        raise Http404
    rows = services.plan_review_rows(plan=plan, actor=plan.author)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(r) for r in csvplan.plan_csv_errors(plan=plan, rows=rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="plan-{plan.pk}-errors.csv"'
    return response


@require_POST
def plan_end_now(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """End time-boxed access now: the revert expiry would build, queued at once."""
    plan = _plan_for(request, pk)
    require(request.user, Perm.CHANGE_PEOPLE)
    try:
        revert = services.plan_end_now(plan=plan, actor=request.user)
    except services.PlanError as exc:
        return _refused(request, plan, exc.message)
    messages.success(request, f"Ending the access of plan #{plan.pk}: its revert is being applied.")
    return redirect(revert)
