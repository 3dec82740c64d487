"""Who can use an app across the fleet: the access review page and its CSV download."""

from __future__ import annotations

import csv

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from apps.accounts.roles import Perm, require
from apps.connections.selectors import connection_list
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.transfers import access


class _Echo:
    """A file-like object whose ``write`` hands the line back, so csv.writer can feed a streamed response."""

    def write(self, value: str) -> str:
        return value


def _review(request: HtmxHttpRequest) -> access.AccessReview | None:
    require(request.user, Perm.VIEW)
    name = request.GET.get("name", "").strip()[:255]
    if not name:
        return None
    return access.fleet_access(list(connection_list()), name=name)


@require_GET
def fleet_access(request: HtmxHttpRequest) -> HttpResponse:
    review = _review(request)
    context = {"review": review, "name": request.GET.get("name", "").strip()}
    template = (
        "transfers/fleet_access.html#results" if wants_partial(request) else "transfers/fleet_access.html"
    )
    return render(request, template, context)


@require_GET
def fleet_access_csv(request: HtmxHttpRequest) -> HttpResponse:
    review = _review(request)
    if review is None:
        return HttpResponse("Name an app: ?name=…", status=400, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in access.review_csv_rows(review, request.build_absolute_uri))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    filename = f"access-{slugify(review.name) or 'app'}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
