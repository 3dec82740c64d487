"""Tidy-up of transfer files: expired bundles, day-old staged imports and orphaned staging files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.transfers import storage
from apps.transfers.models import STAGING, Bundle, StagedImport
from apps.transfers.services.bundles import bundle_expire
from apps.transfers.services.imports import staged_discard

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

STAGED_IMPORT_MAX_AGE = timedelta(days=1)


@dataclass
class CleanupResult:
    bundles: int = 0  # expired bundles whose files were removed
    staged: int = 0  # staged imports (row and file) older than a day
    orphans: int = 0  # staging files older than a day with no row


def transfers_cleanup(*, now=None) -> CleanupResult:
    """Remove the files of expired bundles (rows stay for the record) and staged imports older than a day.

    Idempotent and cheap when there is nothing to do; ``manage.py transfers_cleanup`` and the end of every
    bundle task call it."""
    now = now or timezone.now()
    result = CleanupResult()
    present = storage.top_level_names()  # one listing, not a request per expired row
    for bundle in Bundle.objects.filter(expires_at__lte=now):
        if bundle.storage_name in present or bundle.parts_name in present:
            bundle_expire(bundle)
            result.bundles += 1
    cutoff = now - STAGED_IMPORT_MAX_AGE
    for staged in StagedImport.objects.filter(created_at__lt=cutoff):
        staged_discard(staged)
        result.staged += 1
    known = {f"{pk}.json" for pk in StagedImport.objects.values_list("pk", flat=True)}
    for name in storage.listdir(STAGING):
        if name in known:
            continue
        if storage.modified_time(f"{STAGING}/{name}") < cutoff:
            storage.delete(f"{STAGING}/{name}")
            result.orphans += 1
    return result
