"""Every JSON read from an upload or an upstream answer goes through one depth guard (apps.providers.jsonguard)."""

from __future__ import annotations

import io
import json
import random
import tracemalloc

import httpx
import ijson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.providers import jsonguard
from apps.providers.base import ConnectionConfig
from apps.providers.errors import UpstreamBroken, error_from_response
from apps.providers.http import Session
from apps.providers.jsonguard import DepthScanner, GuardedReader, JSONTooDeep
from apps.providers.streams import iter_json_items, top_level_keys
from apps.transfers.preflight import ExportRejected, inspect_export, inspect_json_object
from tests.transfers.conftest import export_body, imports, workspace_id

ARRAY_BOMB = b"[" * 100_000
OBJECT_BOMB = b'{"a":' * 40_000


def _scan(data: bytes, *, limit: int, cuts: list[int] = ()) -> bool:
    """True when the scanner refuses ``data`` fed in pieces split at ``cuts``."""
    scanner = DepthScanner(limit)
    previous = 0
    try:
        for cut in [*cuts, len(data)]:
            scanner.feed(data[previous:cut])
            previous = cut
    except JSONTooDeep:
        return True
    return False


def _reference_too_deep(data: bytes, limit: int) -> bool | None:
    """Byte by byte, the obvious way; None for text that is not JSON before its depth matters."""
    depth = peak = 0
    in_string = escape = False
    for byte in data:
        if in_string:
            if escape:
                escape = False
            elif byte == 0x5C:
                escape = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x5C:
            return None
        elif byte in b"[{":
            depth += 1
            peak = max(peak, depth)
        elif byte in b"]}":
            depth -= 1
            if depth < 0:
                return None
    return peak > limit


def test_it_agrees_with_a_byte_by_byte_scan_however_the_text_is_split():
    rng = random.Random(7)
    alphabet = b'[]{}"\\ a,'
    checked = 0
    for _ in range(5000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        limit = rng.randint(0, 5)
        expected = _reference_too_deep(data, limit)
        if expected is None:
            continue
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(0, 6))))
        assert _scan(data, limit=limit, cuts=cuts) is expected, (data, limit, cuts)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "' + "[" * 1000 + '"}',  # brackets inside a string do not count
        '{"a": "\\"' + "[" * 1000 + '"}',  # nor after an escaped quote
        '{"a": "\\\\", "b": ' + "[" * 3 + "]" * 3 + "}",  # an escaped backslash closes nothing
    ],
)
def test_it_does_not_count_brackets_inside_strings(text):
    for cut in range(len(text)):
        assert not _scan(text.encode(), limit=5, cuts=[cut])
    assert jsonguard.loads(text) == json.loads(text)


def test_it_refuses_a_bracket_after_an_escaped_backslash_that_ends_a_string():
    assert _scan(b'["\\\\",' + b"[" * 10, limit=5, cuts=[3])


@pytest.mark.parametrize("bomb", [ARRAY_BOMB, OBJECT_BOMB], ids=["arrays", "objects"])
def test_it_refuses_a_depth_bomb_with_bounded_memory(bomb):
    tracemalloc.start()
    with pytest.raises(JSONTooDeep):
        for _ in ijson.parse(GuardedReader(io.BytesIO(bomb))):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 1024 * 1024
    with pytest.raises(JSONTooDeep):
        jsonguard.loads(bomb)


def test_it_keeps_ijson_small_at_the_limit():
    """Legal nesting right at the limit, many times over: ijson's buffered prefixes stay well below 50 MB."""
    depth = jsonguard.DEFAULT_MAX_DEPTH
    body = b"[" + (b"[" * (depth - 1) + b"]" * (depth - 1) + b",") * 60 + b"[]]"
    tracemalloc.start()
    count = sum(1 for _ in ijson.parse(GuardedReader(io.BytesIO(body), limit=depth)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count > 60 * depth
    assert peak < 50 * 1024 * 1024  # the bound the design asks for; the depth² cost reached gigabytes


def test_it_follows_the_setting(settings):
    from django.apps import apps

    try:
        settings.ADMINUI_JSON_MAX_DEPTH = 3
        apps.get_app_config("connections").ready()  # what a process start does
        with pytest.raises(JSONTooDeep, match="more than 3 levels"):
            jsonguard.loads("[[[[1]]]]")
        assert jsonguard.loads("[[[1]]]") == [[[1]]]
    finally:
        jsonguard.set_max_depth(jsonguard.DEFAULT_MAX_DEPTH)


# -- uploads ----------------------------------------------------------------------------------------------------


def test_it_accepts_a_real_export(tooljet):
    sim, connection = tooljet
    from apps.connections.clients import get_provider

    provider = get_provider(connection)
    app = next(iter(provider.iter_apps(workspace_id(sim))))
    with provider.export_app(app.id, workspace_id=workspace_id(sim)) as stream:
        body = b"".join(stream)
    summary = inspect_export(io.BytesIO(body))
    assert summary.app_count == 1 and summary.tooljet_version
    assert jsonguard.loads(body)["tooljet_version"] == summary.tooljet_version


@pytest.mark.parametrize("bomb", [ARRAY_BOMB, OBJECT_BOMB], ids=["arrays", "objects"])
def test_the_preflight_refuses_a_depth_bomb(bomb):
    with pytest.raises(ExportRejected, match="nested more than 512 levels"):
        inspect_export(io.BytesIO(b'{"tooljet_version": "3.0.0", "app": ' + bomb))
    with pytest.raises(ExportRejected, match="nested more than 512 levels"):
        inspect_json_object(io.BytesIO(b'{"page": ' + bomb), hint="")


def _measured(call):
    """(response, peak bytes) of one call, traced."""
    tracemalloc.start()
    response = call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return response, peak


def test_the_import_page_refuses_a_depth_bomb_with_bounded_memory(admin_client, tooljet):
    sim, connection = tooljet
    response, peak = _measured(
        lambda: admin_client.post(
            f"/connections/{connection.slug}/apps/import/",
            {
                "workspace": workspace_id(sim, "acme-staging"),
                "file": SimpleUploadedFile("export.json", b"[" * 100_000, content_type="application/json"),
            },
        )
    )
    assert response.status_code == 200
    assert "nested more than 512 levels" in response.content.decode()
    assert peak < 50 * 1024 * 1024  # the time is a benchmark's figure (bench_json_guard), not a test's
    assert not imports(sim)
    assert {e.outcome for e in AuditEvent.objects.filter(action="app.import_rejected")} == {"failure"}


def test_the_bundle_upload_refuses_a_depth_bomb_with_bounded_memory(admin_client, retool, exports_dir):
    sim, connection = retool
    response, peak = _measured(
        lambda: admin_client.post(
            f"/connections/{connection.slug}/bundles/upload/",
            {"files": [SimpleUploadedFile("bomb.json", b"[" * 32_000)], "reason": "archive"},
        )
    )
    assert response.status_code == 302
    assert peak < 50 * 1024 * 1024  # the time is a benchmark's figure (bench_json_guard), not a test's
    page = admin_client.get(response["Location"]).content.decode()
    assert "nested more than 512 levels" in page
    assert {e.outcome for e in AuditEvent.objects.filter(action="app.bundle")} == {"failure"}


def test_the_bundle_upload_refuses_an_object_nested_too_deep(admin_client, retool, exports_dir):
    sim, connection = retool
    files = [SimpleUploadedFile("bomb.json", b'{"page": ' + OBJECT_BOMB, content_type="application/json")]
    response = admin_client.post(
        f"/connections/{connection.slug}/bundles/upload/", {"files": files, "reason": "archive"}
    )
    assert "nested more than 512 levels" in admin_client.get(response["Location"]).content.decode()


def test_the_import_still_takes_an_ordinary_export(admin_client, tooljet):
    sim, connection = tooljet
    body = export_body(
        app=[{"definition": {"appV2": {"name": "Deep", "nested": json.loads("[" * 200 + "]" * 200)}}}]
    )
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/import/",
        {
            "workspace": workspace_id(sim, "acme-staging"),
            "file": SimpleUploadedFile("export.json", json.dumps(body).encode()),
        },
    )
    assert response.status_code == 302


# -- upstream answers -------------------------------------------------------------------------------------------

CONFIG = ConnectionConfig(key="k", kind="tooljet", base_url="http://upstream.test", token="tok-12345")


def _session(body: bytes, status: int = 200) -> Session:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers={"content-type": "application/json"})
    )
    return Session(CONFIG, prefix="/api/ext", transport=transport)


def test_an_upstream_answer_nested_too_deep_is_refused_plainly():
    session = _session(ARRAY_BOMB)
    with pytest.raises(UpstreamBroken, match="nested more than 512 levels"):
        session.json("GET", "/users")


def test_a_streamed_upstream_array_nested_too_deep_is_refused_plainly():
    session = _session(b"[" + b'{"a":' * 40_000)
    with session.stream("GET", "/users") as response, pytest.raises(UpstreamBroken, match="nested more than"):
        list(iter_json_items(response, "item", on_transport_error=session.stream_error))


def test_an_upstream_error_body_nested_too_deep_is_not_parsed():
    error = error_from_response(kind="tooljet", status=500, body=ARRAY_BOMB.decode())
    assert error.status_code == 500 and "internal error" in error.message


def test_top_level_keys_refuses_a_depth_bomb():
    with pytest.raises(ValueError, match="nested more than"):
        top_level_keys(b'{"a": ' + ARRAY_BOMB)
