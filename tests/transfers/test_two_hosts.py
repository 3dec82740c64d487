"""Two production-mode hosts that share only the database and an S3 bucket (moto's server on loopback).

Host A runs gunicorn and the task worker, host B runs gunicorn; each has its own ``ADMINUI_VAR_DIR`` and
``ADMINUI_EXPORTS_DIR``. A bundle built by A's worker downloads through B, and an import checked on A is confirmed
on B. Every wait polls for a condition with a deadline.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import boto3
import httpx
import pytest

from apps.transfers.models import Bundle, StagedImport
from tests.ops.drill import ALIAS, ROOT, open_drill, wait_for
from tests.transfers.conftest import export_body, stored_keys, workspace_id

PASSWORD = "correct-horse-battery-staple-42"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def bucket(moto_endpoint):
    s3 = boto3.resource(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="drill-access",
        aws_secret_access_key="drill-secret",
    )
    return s3.create_bucket(Bucket=f"adminui-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def hosts(tmp_path, django_db_blocker, moto_endpoint, bucket):
    shared = {
        "ADMINUI_STORAGE": "s3",
        "ADMINUI_S3_BUCKET": bucket.name,
        "ADMINUI_S3_ENDPOINT_URL": moto_endpoint,
        "ADMINUI_S3_REGION": "us-east-1",
        "ADMINUI_S3_ACCESS_KEY_ID": "drill-access",
        "ADMINUI_S3_SECRET_ACCESS_KEY": "drill-secret",
        "ADMINUI_TOTP_WAIVED": "1",
        "SESSION_COOKIE_SECURE": "0",
        "GUNICORN_WORKERS": "1",
    }
    with django_db_blocker.unblock():
        drill, cleanup = open_drill(tmp_path / "host-a", STATIC_ROOT=str(tmp_path / "static"), **shared)
        try:
            drill.manage("collectstatic", "--no-input", "-v", "0")  # production pages need the manifest
            env_b = {
                **drill.env,
                "ADMINUI_VAR_DIR": str(tmp_path / "host-b" / "var"),
                "ADMINUI_EXPORTS_DIR": str(tmp_path / "host-b" / "exports"),
            }
            urls = {}
            for name, env in (("a", drill.env), ("b", env_b)):
                port = _free_port()
                log = open(tmp_path / f"gunicorn-{name}.log", "wb")  # noqa: SIM115 - the child holds its copy
                proc = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "gunicorn"),
                        "-c",
                        "adminui/gunicorn.conf.py",
                        "adminui.wsgi",
                    ],
                    cwd=ROOT,
                    env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                proc.log_path = log.name
                log.close()
                drill.processes.append(proc)
                urls[name] = f"http://127.0.0.1:{port}"
            for url in urls.values():
                wait_for(lambda url=url: _answers(url), what=f"gunicorn at {url}")
            drill.worker()
            drill.shell(
                "from django.contrib.auth.models import Group; from apps.accounts.models import User;"
                f"u = User.objects.create_user('alice', password={PASSWORD!r});"
                "u.groups.add(Group.objects.get(name='admin'))"
            )
            yield drill, urls, tmp_path
        finally:
            cleanup()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _connect(drill, sim) -> None:
    from apps.simulators import DEFAULT_TOKENS

    drill.shell(
        "from apps.connections.services import connection_create, connection_test\n"
        f"c = connection_create(actor=None, token={DEFAULT_TOKENS['tooljet']!r}, data={{"
        f"'name': 'tj', 'slug': 'tj', 'kind': 'tooljet', 'base_url': {sim.url!r}, 'environment': 'staging',"
        "'timeout': 10.0, 'requests_per_minute': 6000, 'verify_tls': True, 'notes': ''})\n"
        "connection_test(actor=None, connection=c)"
    )


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _login(client: httpx.Client) -> None:
    page = client.get("/login/")
    done = client.post(
        "/login/", data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page)}
    )
    assert done.status_code == 302, done.text[:500]


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_bundle_built_by_a_worker_on_host_a_downloads_through_host_b_and_an_import_moves_across(
    hosts, simulator, bucket
):
    drill, urls, base = hosts
    sim = simulator("tooljet", profile="latest", export_pad_bytes=10 * 1024 * 1024)
    _connect(drill, sim)
    with httpx.Client(base_url=urls["a"], timeout=60) as a, httpx.Client(base_url=urls["b"], timeout=60) as b:
        _login(a)
        b.cookies = a.cookies  # one session, in the shared database
        apps_page = a.get(f"/connections/tj/apps/?workspace={workspace_id(sim)}")
        assert apps_page.status_code == 200
        created = a.post(
            "/connections/tj/bundles/",
            data={
                "workspace": workspace_id(sim),
                "tjdb": "1",
                "reason": "two hosts",
                "csrfmiddlewaretoken": _csrf(apps_page),
            },
        )
        assert created.status_code == 302, created.text[:500]
        bundles = Bundle.objects.using(ALIAS)
        bundle = wait_for(
            lambda: (x := bundles.get()).is_finished and x, timeout=120, what="the bundle built by host A"
        )
        assert bundle.status == Bundle.Status.DONE, bundle.error
        assert stored_keys(bucket) == [f"adminui-transfers/{bundle.pk}.zip"]

        download = b.get(f"/connections/tj/bundles/{bundle.pk}/download/")
        assert download.status_code == 200, download.text[:500]
        assert hashlib.sha256(download.content).hexdigest() == bundle.sha256
        assert len(zipfile.ZipFile(io.BytesIO(download.content)).namelist()) == bundle.items.count() + 1

        form = a.get("/connections/tj/apps/import/")
        checked = a.post(
            "/connections/tj/apps/import/",
            data={
                "workspace": workspace_id(sim, "acme-staging"),
                "reason": "two hosts",
                "csrfmiddlewaretoken": _csrf(form),
            },
            files={"file": ("export.json", io.BytesIO(json.dumps(export_body()).encode()))},
        )
        assert checked.status_code == 302, re.findall(r"error[^<]*<[^>]*>[^<]+", checked.text)
        assert StagedImport.objects.using(ALIAS).count() == 1
        confirm = b.get(checked.headers["Location"])
        done = b.post(
            checked.headers["Location"],
            data={"app_name": "Moved Across", "reason": "two hosts", "csrfmiddlewaretoken": _csrf(confirm)},
        )
        assert done.status_code == 302, done.text[:500]
        assert "imported successfully" in b.get(done.headers["Location"]).text
    assert any(a["name"] == "Moved Across" for a in sim.app.state.apps.values())
    assert _files(base / "host-a" / "exports") == [] and _files(base / "host-b" / "exports") == []
