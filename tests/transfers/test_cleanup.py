"""transfers_cleanup (service, ``manage.py transfers_cleanup`` and the end of the bundle task)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.transfers.models import Bundle, StagedImport
from apps.transfers.services import cleanup
from apps.transfers.tasks import bundle_build_task


def _on_disk(name: str) -> Path:
    """Where the default (local) transfers storage keeps ``name``."""
    return Path(settings.ADMINUI_EXPORTS_DIR) / name


def _bundle(*, expires_in: timedelta | None, **extra) -> Bundle:
    now = timezone.now()
    bundle = Bundle.objects.create(
        status=Bundle.Status.DONE,
        file_name="b.zip",
        finished_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
        **extra,
    )
    _on_disk(bundle.parts_name).mkdir(parents=True)
    _on_disk(bundle.storage_name).write_bytes(b"PK zip")
    _on_disk(f"{bundle.parts_name}/001-app.json").write_text("{}")
    return bundle


def _staged(connection, *, age: timedelta) -> StagedImport:
    staged = StagedImport.objects.create(
        connection=connection, workspace_id="ws", sha256="0" * 64, created_at=timezone.now() - age
    )
    _on_disk(staged.storage_name).parent.mkdir(parents=True, exist_ok=True)
    _on_disk(staged.storage_name).write_text("{}")
    return staged


def test_it_removes_expired_bundle_files_and_keeps_the_rows(db):
    expired = _bundle(expires_in=timedelta(seconds=-1))
    live = _bundle(expires_in=timedelta(hours=1))
    result = cleanup.transfers_cleanup()
    assert result.bundles == 1
    assert not _on_disk(expired.storage_name).exists() and not _on_disk(expired.parts_name).exists()
    assert _on_disk(live.storage_name).exists() and _on_disk(live.parts_name).exists()
    assert Bundle.objects.filter(pk=expired.pk).exists()  # kept for the record
    assert cleanup.transfers_cleanup().bundles == 0  # nothing left to do the second time


def test_it_removes_staged_imports_older_than_a_day(tooljet):
    _sim, connection = tooljet
    old = _staged(connection, age=timedelta(days=1, minutes=1))
    fresh = _staged(connection, age=timedelta(hours=23))
    old_path = _on_disk(old.storage_name)
    result = cleanup.transfers_cleanup()
    assert result.staged == 1
    assert not StagedImport.objects.filter(pk=old.pk).exists() and not old_path.exists()
    assert StagedImport.objects.filter(pk=fresh.pk).exists() and _on_disk(fresh.storage_name).exists()


def test_it_removes_day_old_orphaned_staging_files_only(db):
    staging = _on_disk("staging")
    staging.mkdir(parents=True, exist_ok=True)
    orphan, recent = staging / "orphan.json", staging / "recent.json"
    orphan.write_text("{}")
    recent.write_text("{}")
    two_days_ago = time.time() - 2 * 86400
    os.utime(orphan, (two_days_ago, two_days_ago))
    assert cleanup.transfers_cleanup().orphans == 1
    assert not orphan.exists() and recent.exists()


def test_the_command_reports_what_it_removed(tooljet):
    _sim, connection = tooljet
    _bundle(expires_in=timedelta(seconds=-1))
    _staged(connection, age=timedelta(days=2))
    out = StringIO()
    call_command("transfers_cleanup", stdout=out)
    assert "1 expired bundle(s), 1 staged import(s)" in out.getvalue()


def test_the_bundle_task_cleans_up_when_it_finishes(tooljet):
    sim, connection = tooljet
    expired = _bundle(expires_in=timedelta(seconds=-1))
    bundle = Bundle.objects.create(connection=connection, file_name="new.zip", workspace_id="ws")
    assert bundle_build_task.call(str(bundle.pk)) == "done"  # an empty bundle: just the manifest
    assert not _on_disk(expired.storage_name).exists()
