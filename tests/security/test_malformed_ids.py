"""Every URL pattern that takes a path segment answers 404 — never 500 — to a hostile segment, GET and POST, as an
admin, on both products. The patterns are read from the URLconf, so a route added later is fuzzed too."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

# ids no object can have: the router refuses them on every route that takes an upstream id (404)
MALFORMED = [
    "%2e%2e",
    "..",
    "a..b",
    "%2e",
    "a%3Fb",
    "a%23b",
    "a%5Cb",
    "%5C",
    "%20a",
    "a%20",
    "%20",
    "%09a",
    "a%00b",
    "%00",
    "a%0Ab",
    "a%0Db",
    "a%7Fb",
    "%2e%2e%5C",
    "%E2%80%AEa",
    "a%E2%80%A8b",
    "a%E2%80%8Bb",
    "%C2%A0a",
    "a" * 3000,
]
# odd but possible ids (or ones the router itself splits): whatever the route answers, never a 500
ODD = [
    "a%2F..",
    "..%2Fusers",
    "%C0%AE%C0%AE",
    "%FF",
    "a%25%32%65b",
    "%22%3E%3Cx",
    "-1",
]


# parameters holding an upstream object's id (or a person's e-mail); the password-reset link's own parameters
# say "invalid link" on a page of their own
REMOTE_IDS = {"user_id", "group_id", "app_id", "email"}


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _segment_routes() -> list[tuple[str, str]]:
    """(route, converter name) for every route parameter in the URLconf."""
    found = []
    for route, entry in _patterns(get_resolver()):
        assert isinstance(entry.pattern, RoutePattern), f"{route}: regex routes are not fuzzed"
        for name in entry.pattern.converters:
            found.append((route, name))
    return found


def _fill(route: str, slug: str, target: str, value: str) -> str:
    """The route with `target` set to `value` (already percent-encoded) and every other parameter valid."""

    def sub(match):
        conv, name = match.group(1) or "str", match.group(2)
        if name == target:
            return value
        if conv == "slug":
            return slug
        if conv == "uuid":
            return str(uuid.uuid4())
        return "priya.raman@example.com" if name == "email" else "x1"

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def test_it_finds_every_parameter_in_the_urlconf():
    names = {name for _, name in _segment_routes()}
    assert names >= REMOTE_IDS
    assert {"slug", "user_id", "group_id", "app_id", "staged_id", "bundle_id", "email"} <= names
    assert len(_segment_routes()) > 30


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
def test_it_answers_404_to_every_hostile_segment(kind, tooljet, retool, admin_client):
    sim, connection = tooljet if kind == "tooljet" else retool
    admin_client.raise_request_exception = False  # a 500 is counted, not raised
    wrong = []
    tried = 0
    for route, target in _segment_routes():
        for value in MALFORMED + ODD:
            path = _fill(route, connection.slug, target, value)
            for method in ("get", "post"):
                response = getattr(admin_client, method)(path, {"reason": "fuzz", "role": "admin"})
                tried += 1
                if response.status_code >= 500:
                    wrong.append((method.upper(), path[:120], response.status_code))
                elif target in REMOTE_IDS and value in MALFORMED and response.status_code != 404:
                    # an id no object can have is not found, for every method: never 200/302/400/405/409/502
                    wrong.append((method.upper(), path[:120], response.status_code))
    assert tried > 1500
    summary = sorted(
        {(m, re.sub(r"/connections/[^/]+/", "/c/", p).split("/")[2:5].__str__(), s) for m, p, s in wrong}
    )
    assert wrong == [], f"{len(wrong)} of {tried}: {summary}"


@pytest.mark.parametrize(
    "value", ["..", ".", "a\\b", "a?b", "a#b", " a", "a\u202eb", "a\u200bb", "a\x00", "a" * 600]
)
def test_it_refuses_malformed_ids_in_the_providers_as_not_found(value):
    """Ids that reach a provider another way (a form, a query string) are refused before anything is sent, as a
    not-found the core answers with 404."""
    from apps.core.alerts import _registered_status
    from apps.providers.errors import NotFoundError
    from apps.providers.http import seg

    with pytest.raises(NotFoundError) as caught:
        seg(value)
    assert isinstance(caught.value, ValueError) and _registered_status(caught.value) == 404
    assert seg("priya.raman+x@example.com") == "priya.raman+x@example.com"
