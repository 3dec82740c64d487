"""The README's production recipe, run for real on loopback: gunicorn with production settings (DEBUG off, Redis as
cache) behind nginx with deploy/nginx.conf and a self-signed certificate. Keep this test and the README's
"Production" section in sync: the test reads the README's commands and environment names and fails when they differ
from what it runs. Needs nginx, openssl and redis-server (Debian packages; `.ci/run` installs them)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.core.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "adminui.example.com"
CLIENT_ADDR = "127.0.0.2"  # the browser's address: loopback, but not nginx's (127.0.0.1)

# What the README's production block runs, in order (the test checks the README says exactly this).
COMMANDS = [
    ".venv/bin/python manage.py migrate --no-input",
    ".venv/bin/python manage.py collectstatic --no-input",
    ".venv/bin/gunicorn -c adminui/gunicorn.conf.py adminui.wsgi",
    ".venv/bin/python manage.py worker",
    ".venv/bin/python manage.py scheduler",
]


def _readme_recipe() -> tuple[list[str], set[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Production", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.startswith(".venv/bin/")]
    exported = block.split("export ", 1)[1].split("\n.venv", 1)[0]
    names = set(re.findall(r"([A-Z][A-Z0-9_]+)=", exported))
    return commands, names


def _python(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


class Drain:
    """Reads a process's output on a thread (so it never blocks on a full pipe) and signals when a line appears."""

    def __init__(self, proc: subprocess.Popen, ready: str):
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._marker = ready
        self._thread = threading.Thread(target=self._run, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self, stream):
        for line in stream:
            self.lines.append(line)
            if self._marker in line:
                self.ready.set()
        self.ready.set()


def _nginx_conf(tmp: Path, *, http_port: int, https_port: int, app_port: int) -> Path:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    site = site.replace("/etc/ssl/adminui/", f"{tmp}/")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    (tmp / "adminui.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        + "events { worker_connections 64; }\n"
        + f"http {{\n    access_log {tmp}/access.log;\n{temp}\n    include {tmp}/adminui.conf;\n}}\n"
    )
    return main


@pytest.fixture
def deployed(tmp_path, redis_server):
    for binary in ("nginx", "openssl"):
        assert shutil.which(binary), f"{binary} is missing: `apt-get install {binary}` (.ci/run installs it)"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", tmp_path / "privkey.pem",
         "-out", tmp_path / "fullchain.pem"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "ADMINUI_"))}
    recipe = {
        "DEBUG": "0",
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "ADMINUI_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "DATABASE_URL": f"sqlite:///{tmp_path}/adminui.sqlite3",
        "CACHE_URL": redis_server.url,
        "ADMINUI_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_WORKERS": "2",
    }
    env.update(recipe, PYTHONUNBUFFERED="1")
    readme_commands, readme_names = _readme_recipe()
    assert readme_commands == COMMANDS, "README's production commands differ from what this test runs"
    assert readme_names == set(recipe), "README's production environment differs from what this test sets"

    py = [sys.executable]  # .venv/bin/python
    _python(*py, "manage.py", "migrate", "--no-input", env=env)
    _python(*py, "manage.py", "collectstatic", "--no-input", env=env)
    created = _python(*py, "manage.py", "demo_operator", "--username", "ops", env=env)
    password = created.split("ops / ")[1].split()[0]

    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "adminui/gunicorn.conf.py", "adminui.wsgi"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker, scheduler = (
        subprocess.Popen(
            [*py, "manage.py", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in ("worker", "scheduler")
    )
    logs = Drain(gunicorn, ready="Listening at")

    def stop_gunicorn() -> list[str]:
        """Stop gunicorn and return every line it wrote (the access lines are written after each response)."""
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        logs.join(timeout=30)
        return logs.lines

    conf = _nginx_conf(tmp_path, http_port=http_port, https_port=https_port, app_port=app_port)
    try:
        assert logs.ready.wait(60) and gunicorn.poll() is None, "".join(logs.lines)[-3000:]
        # nginx returns once its master runs in the background with the ports bound
        started = subprocess.run(
            ["nginx", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
        )
        assert started.returncode == 0, started.stderr
        yield {
            "https": f"https://127.0.0.1:{https_port}",
            "http": f"http://127.0.0.1:{http_port}",
            "cert": tmp_path / "fullchain.pem",
            "db": tmp_path / "adminui.sqlite3",
            "password": password,
            "stop_gunicorn": stop_gunicorn,
        }
    finally:
        subprocess.run(["nginx", "-c", str(conf), "-p", str(tmp_path), "-s", "quit"], capture_output=True)
        for proc in (gunicorn, worker, scheduler):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)


def _totp(base32_key: str) -> str:
    """The current code of an authenticator app holding this key (RFC 6238, as django-otp checks it)."""
    from django_otp.oath import totp

    padded = base32_key + "=" * (-len(base32_key) % 8)
    return f"{totp(base64.b32decode(padded)):06d}"


def _browser(deployed) -> httpx.Client:
    tls = ssl.create_default_context(cafile=str(deployed["cert"]))
    tls.check_hostname = (
        False  # we dial 127.0.0.1; the chain is still verified against the self-signed certificate
    )
    transport = httpx.HTTPTransport(verify=tls, local_address=CLIENT_ADDR)
    return httpx.Client(
        base_url=deployed["https"],
        transport=transport,
        headers={"Host": HOST},
        timeout=30,
        follow_redirects=False,
    )


def test_it_serves_the_readme_recipe_over_https_behind_nginx(deployed):
    with _browser(deployed) as browser:
        page = browser.get("/login/")
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        login = browser.post(
            "/login/",
            data={"username": "ops", "password": deployed["password"], "csrfmiddlewaretoken": token},
            headers={"Origin": f"https://{HOST}", "X-Forwarded-For": "6.6.6.6"},
        )
        assert login.status_code == 302, login.text[:500]
        assert login.headers["Location"] == "/"
        # production asks a local admin for a second factor before anything else: set it up as an operator would
        assert browser.get("/").headers.get("Location", "").startswith("/account/two-factor/")
        setup = browser.get("/account/two-factor/")
        key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', setup.text).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', setup.text).group(1)
        confirmed = browser.post(
            "/account/two-factor/",
            data={"code": _totp(key), "csrfmiddlewaretoken": token},
            headers={"Origin": f"https://{HOST}"},
        )
        assert confirmed.status_code == 302, confirmed.text[:500]
        assert browser.get("/").status_code == 200

        # a download through nginx (unbuffered), with the browser's own address in the audit row
        export = browser.get(
            "/audit/export/", params={"format": "csv"}, headers={"X-Forwarded-For": "6.6.6.6"}
        )
        assert export.status_code == 200
        assert export.headers["Content-Disposition"].startswith("attachment;")
        rid = export.headers["X-Request-ID"]
    with sqlite3.connect(deployed["db"]) as db:
        remote_addr, request_id = db.execute(
            "SELECT remote_addr, request_id FROM audit_auditevent ORDER BY sequence DESC LIMIT 1"
        ).fetchone()
    assert remote_addr == CLIENT_ADDR  # not nginx's 127.0.0.1, not the forged 6.6.6.6
    assert request_id == rid

    # bodies past nginx's 1 MB default reach the console (which answers them itself: here, no CSRF token)
    with _browser(deployed) as browser:
        big = browser.post(
            "/login/", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "text/plain"}
        )
    assert big.status_code == 403

    # probes over plain HTTP answer; everything else goes to HTTPS
    with httpx.Client(base_url=deployed["http"], headers={"Host": HOST}, timeout=10) as plain:
        assert plain.get("/healthz").status_code == 200
        assert plain.head("/readyz").status_code == 200
        redirect = plain.get("/login/")
        assert redirect.status_code == 301
        assert redirect.headers["Location"] == f"https://{HOST}/login/"

    # gunicorn's own lines are JSON too, and the access line carries the request id nginx assigned
    lines = [line for line in deployed["stop_gunicorn"]() if line.strip()]
    assert all(line.startswith("{") for line in lines), lines
    records = [json.loads(line) for line in lines]
    assert any(r.get("logger") == "gunicorn.access" and r.get("request_id") == rid for r in records)


def test_it_lets_nginx_take_bodies_as_large_as_the_import_limit(settings):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert megabytes * 1024 * 1024 == settings.ADMINUI_IMPORT_MAX_BYTES
