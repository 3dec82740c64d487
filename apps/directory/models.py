"""The directory index: a local snapshot of every connection's users, for search across the fleet.

Search reads these rows only; details and every change go to the upstream live (DESIGN.md "Reads").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Apostrophes (straight, curly, modifier letter, grave/acute used as one) vanish: ``O'Brien``, ``O’Brien`` and
# ``obrien`` are the same word. Other punctuation separates words (``Raman, Priya``), except the characters that
# make up e-mail addresses, so ``mateo.k`` and ``example.com`` still match as typed.
_APOSTROPHES = re.compile("['’‘ʼ`´]")
_LETTERS = {"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "ß": "ss", "þ": "th", "ð": "d"}
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SEPARATORS = re.compile(r"[^\w@.+-]+")


def normalize(text: str | None) -> str:
    """Lower-case, accents and apostrophes stripped, other punctuation (but e-mail characters) and whitespace
    collapsed to single spaces: what both the index and the query go through. A query is the AND of its words."""
    folded = (text or "").casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
        for letter, plain in _LETTERS.items():  # letters that do not decompose
            folded = folded.replace(letter, plain)
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", folded)).strip()


class DirectoryUser(models.Model):
    """One user on one connection. ``memberships`` (ToolJet): ``[{workspace_id, workspace_name, role, status,
    groups: [names]}]``; ``groups`` (Retool): ``[{id, name}]``. ``roles`` and ``group_names`` are ``|``-delimited
    copies of the same facts for cheap filtering (``|admin|builder|``)."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=200)
    email = models.CharField(max_length=320)
    name = models.CharField(max_length=300, blank=True)
    search = models.CharField(max_length=700, blank=True, help_text="normalize(email + name)")
    # A hash of every indexed field but ``seen_at``: a sync rewrites only rows whose upstream state changed.
    digest = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)
    is_admin = models.BooleanField(default=False)
    roles = models.CharField(max_length=200, blank=True)
    group_names = models.TextField(blank=True)
    memberships = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField()  # last written (a sync leaves unchanged rows alone)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split("|") if r]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "remote_id"], name="directory_user_unique_remote"),
        ]
        indexes = [
            models.Index(fields=["email"], name="directory_user_email"),
            # Search walks this in e-mail order without touching the wide rows (selectors.user_search).
            models.Index(fields=["email", "search", "connection"], name="directory_user_email_search"),
            models.Index(fields=["connection", "seen_at"], name="directory_user_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class DirectorySync(models.Model):
    """The sync state of one connection's index."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    connection = models.OneToOneField(
        "connections.Connection", on_delete=models.CASCADE, related_name="directory_sync"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.RUNNING)
    message = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0, help_text="index rows inserted, updated or deleted")

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.status}"

    @property
    def _started(self) -> bool:
        """The worker picked up the latest request (a scheduled sync is started without being queued here)."""
        return self.started_at is not None and (self.queued_at is None or self.started_at >= self.queued_at)

    @property
    def waiting_too_long(self) -> bool:
        """Queued from the page and not started well after: the task worker is probably not running."""
        if self.status != self.Status.RUNNING or self.queued_at is None or self._started:
            return False
        return timezone.now() - self.queued_at > timedelta(seconds=settings.ADMINUI_WORKER_OVERDUE)

    @property
    def stalled(self) -> bool:
        """Started and still "running" long after: the worker that ran it is gone, so nothing will finish it."""
        if self.status != self.Status.RUNNING or not self._started:
            return False
        limit = timedelta(seconds=settings.ADMINUI_DIRECTORY_SYNC_STALLED_AFTER)
        return timezone.now() - self.started_at > limit

    @property
    def in_progress(self) -> bool:
        """Queued or running and still expected to finish: the page polls and the refresh button waits."""
        return self.status == self.Status.RUNNING and not self.stalled
