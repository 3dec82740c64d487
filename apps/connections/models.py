from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from apps.connections.crypto import TokenUnreadable, decrypt_token, encrypt_token


class Connection(models.Model):
    """One ToolJet instance or Retool space the console works through. The token is write-only:
    encrypted at rest, never rendered, logged or audited."""

    class Kind(models.TextChoices):
        TOOLJET = "tooljet", "ToolJet"
        RETOOL = "retool", "Retool"

    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production"
        STAGING = "staging", "Staging"
        DEVELOPMENT = "development", "Development"

    DEFAULT_RPM = {Kind.TOOLJET: 600, Kind.RETOOL: 45}

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=16, choices=Kind)
    base_url = models.CharField(max_length=500, help_text="Instance URL, including any sub-path.")
    token_encrypted = models.TextField(blank=True, editable=False)
    token_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    environment = models.CharField(max_length=16, choices=Environment, default=Environment.PRODUCTION)
    timeout = models.FloatField(default=15.0, help_text="Seconds to wait for the instance (1–25).")
    requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Client-side rate limit; empty for none."
    )
    verify_tls = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    capabilities = models.JSONField(default=dict, blank=True, editable=False)
    last_test = models.JSONField(null=True, blank=True, editable=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("connections:connection_detail", kwargs={"slug": self.slug})

    # -- token (write-only) -------------------------------------------------------------------------------
    def set_token(self, raw: str) -> None:
        self.token_encrypted = encrypt_token(raw)
        self.token_changed_at = timezone.now()

    def get_token(self) -> str:
        """The plain token, for the provider layer only. Raises TokenUnreadable."""
        if not self.token_encrypted:
            raise TokenUnreadable("no token is set")
        return decrypt_token(self.token_encrypted)

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)

    @property
    def token_readable(self) -> bool:
        try:
            self.get_token()
        except TokenUnreadable:
            return False
        return True

    @property
    def is_production(self) -> bool:
        return self.environment == self.Environment.PRODUCTION

    @property
    def not_answering_since(self):
        """Since when the instance has not answered the console's calls (any call, not only a test); None while it
        answers. Read once per object."""
        if not hasattr(self, "_not_answering_since"):
            from apps.connections.health import not_answering_since

            self._not_answering_since = not_answering_since(self.pk) if self.pk else None
        return self._not_answering_since

    @property
    def health(self) -> str:
        """'ok', 'failing' or 'unknown' — the dot in the connection list. A later call that got no answer
        outweighs a passed test."""
        if self.not_answering_since is not None:
            return "failing"
        if self.last_test_ok is None:
            return "unknown"
        return "ok" if self.last_test_ok else "failing"


class UpstreamLock(models.Model):
    """One row per (connection, upstream object) that a check-then-write locks (``locks.upstream_object_lock``),
    so two operators saving the same object take turns: the second reads what the first wrote."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="upstream_lock_unique")]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.key}"
