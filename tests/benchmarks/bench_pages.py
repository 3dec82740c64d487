"""Benchmark: page weight of the first load of the search page (`/`), budget ≤ 100 KB transferred.

    .venv/bin/python tests/benchmarks/bench_pages.py      (or `make bench`, which runs every bench_*.py)

Logs an admin in, GETs `/` like a browser with an empty cache would, then every stylesheet, script, image and
icon the HTML references, and sums the response bodies. The figure is the uncompressed size (what a server
without compression sends); the gzip size is printed alongside (whitenoise serves precompressed static files in
production). Throwaway SQLite database in a temp directory. Not collected by pytest.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

BUDGET = 100 * 1024
ASSET_RE = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.I)


def _setup() -> None:
    from django.conf import settings

    if settings.configured:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    tmp = Path(tempfile.mkdtemp(prefix="adminui-bench-pages-"))
    os.environ.setdefault("ADMINUI_TESTING", "1")
    os.environ["ADMINUI_VAR_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def measure(path: str = "/") -> list[tuple[str, int, int]]:
    """[(url, bytes, gzip bytes)] for the page and each asset it references."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from apps.accounts.models import User
    from apps.accounts.roles import ADMIN
    from apps.connections.models import Connection

    user, created = User.objects.get_or_create(username="bench-pages")
    if created:
        user.groups.add(Group.objects.get(name=ADMIN))
    if not Connection.objects.exists():  # the search form, not the "add a connection first" empty state
        c = Connection(name="Bench", slug="bench-pages", kind="tooljet", base_url="http://127.0.0.1:9")
        c.set_token("bench-token")
        c.save()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = _body(page)
    rows = [(path, len(html), len(gzip.compress(html)))]
    seen = set()
    for url in ASSET_RE.findall(html.decode()):
        if url in seen or url.startswith(("http:", "https:", "//", "data:", "#")):
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = _body(response)
        rows.append((url, len(body), len(gzip.compress(body))))
    return rows


def main() -> int:
    _setup()
    rows = measure("/")
    total = sum(r[1] for r in rows)
    total_gz = sum(r[2] for r in rows)
    print("first load of the search page (/), empty cache, logged in:")
    for url, size, gz in rows:
        print(f"  {url:<40} {size / 1024:7.1f} KB   gzip {gz / 1024:6.1f} KB")
    verdict = "pass" if total <= BUDGET else "FAIL"
    print(
        f"page weight: {total / 1024:.1f} KB uncompressed, {total_gz / 1024:.1f} KB gzip, "
        f"{len(rows)} requests (budget {BUDGET // 1024} KB) — {verdict}"
    )
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
