"""A ToolJet build without a route answers ``404 Cannot METHOD path``: the client turns that (and only that) into
Unsupported for the matching capability; a 404 about a missing record stays NotFoundError."""

from __future__ import annotations

import json

import httpx
import pytest

from apps.providers.base import ConnectionConfig
from apps.providers.errors import NotFoundError, Unsupported
from apps.providers.tooljet.client import ToolJetProvider

WS = "0b9f1c52-3d4e-4f60-8a7b-9c0d1e2f3a4b"


def provider(message: str) -> ToolJetProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"statusCode": 404, "path": request.url.path, "message": message.format(path=request.url.path)}
        return httpx.Response(404, json=body)

    config = ConnectionConfig(kind="tooljet", base_url="https://tj.example.test", token="t", key="tj")
    return ToolJetProvider(config, transport=httpx.MockTransport(handler))


CALLS = {
    "supports_app_import": lambda p: p.import_app(WS, {"app": {}, "tooljet_version": "3"}, app_name="Copy"),
    "supports_app_export": lambda p: p.export_app("app-1", workspace_id=WS).__enter__(),
    "supports_metadata": lambda p: p.get_user_metadata(WS, "ana@example.com"),
}


@pytest.mark.parametrize("capability", list(CALLS))
def test_it_reports_an_absent_route_as_unsupported(capability):
    with pytest.raises(Unsupported) as err:
        CALLS[capability](provider("Cannot POST {path}"))
    assert err.value.capability == capability
    assert err.value.status_code == 404


@pytest.mark.parametrize("capability", list(CALLS))
def test_it_keeps_a_missing_record_a_not_found(capability):
    with pytest.raises(NotFoundError) as err:
        CALLS[capability](provider("Workspace not found"))
    assert not isinstance(err.value, Unsupported)
    assert "Workspace not found" in json.dumps(err.value.to_dict())
