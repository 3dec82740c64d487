"""Fixtures for the transfers tests: ToolJet/Retool simulators with probed connections, exports in tmp_path."""

from __future__ import annotations

import io
import json

import pytest


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.ADMINUI_EXPORTS_DIR = tmp_path / "exports"
    settings.ADMINUI_REQUIRE_REASON = False
    return settings.ADMINUI_EXPORTS_DIR


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def workspace_id(sim, slug: str = "acme-production") -> str:
    return next(w["id"] for w in sim.app.state.workspaces.values() if w["slug"] == slug)


def app_id(sim, name: str, slug: str = "acme-production") -> str:
    ws = workspace_id(sim, slug)
    return next(
        a["id"] for a in sim.app.state.apps.values() if a["name"] == name and a["organizationId"] == ws
    )


def app_names(sim, slug: str) -> list[str]:
    ws = workspace_id(sim, slug)
    return sorted(a["name"] for a in sim.app.state.apps.values() if a["organizationId"] == ws)


def imports(sim) -> list[tuple[str, str]]:
    return [r for r in sim.requests if r[0] == "POST" and "/import/" in r[1]]


def upload(data, name: str = "export.json"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    return SimpleUploadedFile(name, data, content_type="application/json")


def export_body(**overrides) -> dict:
    body = {
        "tooljet_version": "3.16.0-ee-lts",
        "app": [
            {"definition": {"appV2": {"name": "Shipped App", "appVersions": [{"id": "x", "name": "v1"}]}}}
        ],
        "tooljet_database": [],
    }
    body.update(overrides)
    return body


@pytest.fixture
def tooljet(simulator, probed_connection):
    sim = simulator("tooljet", profile="latest")
    return sim, probed_connection(sim, slug="tj-prod", name="TJ Prod")


@pytest.fixture
def retool(simulator, probed_connection):
    sim = simulator("retool", profile="enterprise")
    return sim, probed_connection(sim, slug="rt", name="Retool Ent")


__all__ = ["app_id", "app_names", "export_body", "imports", "io", "upload", "workspace_id"]
