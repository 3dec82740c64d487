from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from apps.accounts.reauth import require_recent_auth
from apps.accounts.roles import Perm, require
from apps.connections import selectors, services
from apps.connections.forms import ConnectionDeleteForm, ConnectionForm
from apps.connections.models import Connection
from apps.connections.signals import connection_tested
from apps.core.http import HtmxHttpRequest, wants_partial


@require_GET
def connection_list(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    return render(
        request,
        "connections/connection_list.html",
        {"connections": selectors.connection_list(user=request.user)},
    )


@require_http_methods(["GET", "POST"])
def connection_add(request: HtmxHttpRequest) -> HttpResponse:
    """The instance is tested before anything is saved; one that fails is saved only when the operator says so
    ("Save anyway"). With htmx the failed test is swapped in under the form, which keeps what was typed (the
    token included, which the server never sends back)."""
    require(request.user, Perm.MANAGE_CONNECTIONS)
    if (stale := require_recent_auth(request)) is not None:
        return stale
    form = ConnectionForm(request.POST or None)
    context: dict = {"form": form, "connection": None}
    if request.method == "POST" and form.is_valid():
        anyway = request.POST.get("save_anyway") == "1"
        outcome = None
        if not anyway:
            outcome = services.connection_probe_unsaved(
                data=form.cleaned_data, token=form.cleaned_data["token"]
            )
        if anyway or outcome["ok"]:
            connection = services.connection_create(
                actor=request.user,
                data=form.cleaned_data,
                token=form.cleaned_data["token"],
                failed_test=request.POST.get("failed_test", "")[:500] if anyway else "",
            )
            # the outcome (and whether its people are being indexed) shows in the Health panel once the test ran
            messages.success(request, f"Connection “{connection.name}” added. Testing it now…")
            url = f"{connection.get_absolute_url()}?test=1"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        context["failed_test"] = outcome
        if request.htmx:
            return render(request, "connections/connection_form.html#add_outcome", context)
    elif request.method == "POST" and request.htmx:
        response = render(request, "connections/connection_form.html#connection_form", context)
        return reswap(retarget(response, "#connection-form"), "outerHTML")
    return render(request, "connections/connection_form.html", context)


@require_GET
def connection_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = selectors.connection_for(request, slug, Perm.VIEW)
    return render(
        request,
        "connections/connection_detail.html",
        {
            "connection": connection,
            "connection_ctx": connection,
            "health_checks": selectors.connection_health_checks(connection),
            "autotest": request.GET.get("test") == "1",
        },
    )


@require_http_methods(["GET", "POST"])
def connection_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = selectors.connection_for(request, slug, Perm.MANAGE_CONNECTIONS)
    if (stale := require_recent_auth(request)) is not None:
        return stale
    form = ConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        services.connection_update(
            actor=request.user,
            connection=connection,
            data=form.cleaned_data,
            token=form.cleaned_data["token"],
        )
        messages.success(request, "Connection saved. Testing it now…")
        return redirect(f"{connection.get_absolute_url()}?test=1")
    return render(
        request,
        "connections/connection_form.html",
        {"form": form, "connection": connection, "connection_ctx": connection},
    )


@require_POST
def connection_delete(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = selectors.connection_for(request, slug, Perm.MANAGE_CONNECTIONS)
    if (stale := require_recent_auth(request)) is not None:
        return stale
    name = connection.name
    form = ConnectionDeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        url = reverse("connections:connection_detail", args=[connection.slug])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    services.connection_delete(
        actor=request.user,
        connection=connection,
        reason=form.cleaned_data["reason"],
        ticket=form.cleaned_data["ticket"],
    )
    messages.success(request, f"Connection “{name}” deleted. Its audit history is kept.")
    if request.htmx:
        return HttpResponseClientRedirect("/connections/")
    return redirect("connections:connection_list")


@require_POST
def connection_test(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = selectors.connection_for(request, slug, Perm.MANAGE_CONNECTIONS)
    connection = services.connection_test(actor=request.user, connection=connection)
    after_test = {}
    for _receiver, answer in connection_tested.send(sender=Connection, connection=connection):
        after_test.update(answer or {})
    template = (
        "connections/connection_detail.html#test_result"
        if wants_partial(request)
        else "connections/connection_detail.html"
    )
    return render(
        request,
        template,
        {
            "connection": connection,
            "connection_ctx": connection,
            "health_checks": selectors.connection_health_checks(connection),
            **after_test,
        },
    )
