"""The directory index: a local snapshot of every connection's users, for search across the fleet.

Search reads these rows only; details and every change go to the upstream live (DESIGN.md "Reads").
"""

from __future__ import annotations

import unicodedata

from django.db import models


def normalize(text: str | None) -> str:
    """Lower-case, accents stripped, whitespace collapsed: what both the index and the query go through."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("ø", "o").replace("ł", "l").replace("đ", "d").replace("æ", "ae").split())


class DirectoryUser(models.Model):
    """One user on one connection. ``memberships`` (ToolJet): ``[{workspace_id, workspace_name, role, status,
    groups: [names]}]``; ``groups`` (Retool): ``[{id, name}]``. ``roles`` and ``group_names`` are ``|``-delimited
    copies of the same facts for cheap filtering (``|admin|builder|``)."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=200)
    email = models.CharField(max_length=320)
    name = models.CharField(max_length=300, blank=True)
    search = models.CharField(max_length=700, blank=True, help_text="normalize(email + name)")
    status = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)
    is_admin = models.BooleanField(default=False)
    roles = models.CharField(max_length=200, blank=True)
    group_names = models.TextField(blank=True)
    memberships = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField()

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
    started_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.status}"
