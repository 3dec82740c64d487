"""Directory pages: global search (home), person, and the per-connection users index with its sync status."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.roles import Perm, require
from apps.accounts.scope import operator_scope
from apps.connections.clients import connection_capabilities
from apps.connections.models import Connection
from apps.connections.selectors import connection_for
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.directory import forms, services
from apps.directory.selectors import (
    group_choices,
    index_age,
    person_rows,
    sync_state,
    user_search,
)

# ---------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------


def _search_context(request: HtmxHttpRequest, *, connection: Connection | None = None) -> dict[str, Any]:
    scope = operator_scope(request.user)
    connections = list(Connection.objects.filter(scope.q()).order_by("name").only("name", "slug"))
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
        result = user_search(page=form.cleaned_data.get("page") or 1, scope=scope, **filters)
    return {
        "form": form,
        "result": result,
        "age": index_age(
            connection=connection,
            connection_ids=None if scope.unrestricted else [c.pk for c in connections],
        ),
        "searched": bool(
            request.GET.get("q") or any(request.GET.get(f) for f in ("status", "role", "group"))
        ),
    }


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW)
    context = _search_context(request)
    if wants_partial(request):
        return render(request, "directory/search.html#results", context)
    context["group_names"] = group_choices(operator_scope(request.user))
    context["has_connections"] = Connection.objects.filter(operator_scope(request.user).q()).exists()
    return render(request, "directory/search.html", context)


@require_GET
def person(request: HtmxHttpRequest, email: str) -> HttpResponse:
    require(request.user, Perm.VIEW)
    rows = person_rows(email=email, scope=operator_scope(request.user))
    # how old the index is on the instances this person is on (all of them when on none)
    age = index_age(connection_ids=[r.connection_id for r in rows] if rows else None)
    return render(
        request,
        "directory/person.html",
        {"email": email.lower(), "rows": rows, "age": age},
    )


@require_GET
def user_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW)
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
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE)
    queued = services.sync_request(connection=connection)
    note = (
        ""
        if queued
        else "A sync was already waiting to start: this refresh joins it (nothing more is queued)."
    )
    if not wants_partial(request):
        if note:
            messages.info(request, note)
        return redirect("directory:user_list", slug=slug)
    return render(
        request,
        "directory/user_list.html#sync_panel",
        {"connection": connection, "sync": sync_state(connection=connection), "sync_note": note},
    )


@require_GET
def sync_status(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW)
    sync = sync_state(connection=connection)
    response = render(
        request, "directory/user_list.html#sync_panel", {"connection": connection, "sync": sync}
    )
    if wants_partial(request) and (sync is None or not sync.in_progress):
        return HttpResponseStopPolling(response.content, content_type=response["Content-Type"])
    return response
