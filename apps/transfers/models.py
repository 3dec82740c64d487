"""Files the console keeps for operators: bundles (ZIP of app exports + manifest), copy backups and staged imports.

The bytes live in the "transfers" storage (``apps.transfers.storage``: a local folder or a shared bucket); rows hold
only names, sizes, hashes, status and — on a local disk — which host holds the file.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

STAGING = "staging"  # the storage folder of staged imports


class Bundle(models.Model):
    """One downloadable file: an export bundle (built by a task), a Retool upload bundle, or a copy backup."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export bundle"
        UPLOAD = "upload", "Uploaded exports"
        BACKUP = "backup", "Backup before copy"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Building"
        DONE = "done", "Done"
        PARTIAL = "partial", "Done, some apps failed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.EXPORT)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    connection = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connection_name = models.CharField(max_length=100, blank=True)
    connection_slug = models.CharField(max_length=60, blank=True)
    workspace_id = models.CharField(max_length=64, blank=True)
    workspace_name = models.CharField(max_length=200, blank=True)
    export_tjdb = models.BooleanField(default=True)
    all_versions = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    ticket = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=255, blank=True, help_text="Name offered to the browser.")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    tooljet_version = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the build task was last queued (create or retry)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    stored_on = models.CharField(
        max_length=255,
        blank=True,
        help_text="The host whose local disk holds the files; empty on shared storage.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name or f"bundle {self.pk}"

    @property
    def parts_name(self) -> str:
        """The storage folder of the per-app files while the bundle is being built."""
        return str(self.pk)

    @property
    def storage_name(self) -> str:
        """The finished file (ZIP, or JSON for a backup) in the transfers storage."""
        suffix = ".json" if self.kind == self.Kind.BACKUP else ".zip"
        return f"{self.pk}{suffix}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.PARTIAL, self.Status.FAILED)

    @property
    def waiting_too_long(self) -> bool:
        """Still queued well after it was queued: the background worker is probably not running."""
        if self.status != self.Status.PENDING:
            return False
        overdue = timedelta(seconds=settings.ADMINUI_WORKER_OVERDUE)
        return timezone.now() - (self.queued_at or self.created_at) > overdue

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def downloadable(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.PARTIAL) and not self.is_expired

    def counts(self) -> dict[str, int]:
        result = dict.fromkeys(BundleItem.Status.values, 0)
        for status in self.items.values_list("status", flat=True):
            result[status] += 1
        result["total"] = sum(result.values())
        return result


class BundleItem(models.Model):
    """One app (or uploaded file) inside a bundle, with its own status so failed ones can be retried."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Exporting"
        OK = "ok", "Done"
        FAILED = "failed", "Failed"

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    app_id = models.CharField(max_length=200, blank=True)
    app_name = models.CharField(max_length=300)
    app_slug = models.CharField(max_length=300, blank=True)
    versions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    tooljet_version = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.app_name

    @property
    def part_name(self) -> str:
        return f"{self.bundle.parts_name}/{self.file_name}"


class StagedImport(models.Model):
    """An uploaded (or copied-in) export that passed preflight and waits for the operator to confirm the import."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    workspace_id = models.CharField(max_length=64)
    source = models.JSONField(default=dict, blank=True)  # copy: {connection, workspace_id, app_id, app_name}
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    summary = models.JSONField(default=dict, blank=True)
    reason = models.CharField(
        max_length=500, blank=True, help_text="Given at upload; fills the confirm form."
    )
    ticket = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    stored_on = models.CharField(
        max_length=255,
        blank=True,
        help_text="The host whose local disk holds the file; empty on shared storage.",
    )

    class Meta:
        ordering = ["-created_at"]

    @property
    def storage_name(self) -> str:
        return f"{STAGING}/{self.pk}.json"
