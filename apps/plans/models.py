"""Change plans: a saved list of operations, reviewed from live reads, approved when the policy says so, applied by
a task that re-checks every target before it writes, and revertible from the recorded before-states."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Plan(models.Model):
    class Source(models.TextChoices):
        PERSON = "person", "Person page"
        SELECTION = "selection", "Selection"
        CSV = "csv", "CSV"
        USER = "user", "User page"
        REVERT = "revert", "Revert"
        EXPIRY = "expiry", "Expiry"
        RETRY = "retry", "Retry"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_APPROVAL = "pending_approval", "Waiting for approval"
        APPROVED = "approved", "Approved"
        APPLYING = "applying", "Applying"
        DONE = "done", "Done"
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Approval request expired"

    ACTIVE = (State.PENDING_APPROVAL, State.APPROVED, State.APPLYING)
    FINISHED = (State.DONE, State.PARTLY_FAILED, State.FAILED)

    title = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # a plan the system builds (expiry) names the operator it acts for
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    ticket = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=16, choices=Source, default=Source.PERSON)
    state = models.CharField(max_length=20, choices=State, default=State.DRAFT, db_index=True)
    approval_reasons = models.JSONField(default=list, blank=True)
    request_expires_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # time-boxed access: when this plan's effect ends (its revert is built and applied by plans_expire)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    audit_event_id = models.PositiveBigIntegerField(null=True, blank=True)
    # what building the plan could not turn into operations: a CSV's file name, row count and refused rows
    # (``{"file", "rows", "errors": [[line, email, instance, action, message], ...]}``) or a builder's notes
    # (``{"notes": [...]}``: why copying access skipped an instance)
    source_report = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("plans:plan_detail", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def actor_name(self) -> str:
        if self.author_id:
            return self.author.get_username()
        behalf = self.on_behalf_of.get_username() if self.on_behalf_of_id else ""
        return f"system (for {behalf})" if behalf else "system"


class Operation(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Done"
        FAILURE = "failure", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNKNOWN = "unknown", "Unknown (may have been applied)"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="operations")
    position = models.PositiveIntegerField()
    connection = models.ForeignKey(
        "connections.Connection", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_kind = models.CharField(max_length=20, default="user")
    target_id = models.CharField(max_length=200)
    target_label = models.CharField(max_length=300, blank=True)
    target_email = models.CharField(max_length=320, blank=True, db_index=True)
    action = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    # the line of the CSV file this operation came from (CSV plans only)
    source_line = models.PositiveIntegerField(null=True, blank=True)
    # what the target looked like when the plan was reviewed: apply compares with it before writing
    planned = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING, db_index=True)
    message = models.TextField(blank=True)
    after = models.JSONField(null=True, blank=True)
    audit_event_id = models.PositiveBigIntegerField(null=True, blank=True)
    # set at review: what the policy said (shown on the review, approval and result pages)
    needs_approval = models.BooleanField(default=False)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "position"], name="plans_operation_position")]
        indexes = [models.Index(fields=["connection", "target_id"], name="plans_operation_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_label or self.target_id}"
