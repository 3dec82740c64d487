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


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3-compatible server (moto in server mode) on a free loopback port, for the whole session."""
    import socket
    import subprocess
    import sys
    import threading
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    for line in server.stderr:  # Werkzeug says where it listens once it does
        seen.append(line)
        if f"127.0.0.1:{port}" in line:
            break
    else:
        raise RuntimeError("moto_server did not start: " + "".join(seen)[-2000:])
    drain = threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True)
    drain.start()  # its request log must not fill the pipe
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, moto_endpoint):
    """The transfers storage on a fresh bucket of the loopback S3 server (what ADMINUI_STORAGE=s3 configures);
    returns the boto3 Bucket, to look at what is stored."""
    import uuid

    import boto3

    name = f"adminui-{uuid.uuid4().hex[:12]}"
    options = {
        "bucket_name": name,
        "location": "adminui-transfers",
        "endpoint_url": moto_endpoint,
        "region_name": "us-east-1",
        "access_key": "test-access",
        "secret_key": "test-secret",
        "addressing_style": "path",
        "file_overwrite": True,
        "max_memory_size": 8 * 1024 * 1024,
    }
    s3 = boto3.resource(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-access",
        aws_secret_access_key="test-secret",
    )
    bucket = s3.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "transfers": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    return bucket


def stored_keys(bucket) -> list[str]:
    return sorted(o.key for o in bucket.objects.all())
