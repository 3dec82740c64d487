from __future__ import annotations

from django.contrib import admin

from apps.audit.models import AuditEvent, AuditVerification


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "sequence",
        "created_at",
        "actor_username",
        "action",
        "connection_slug",
        "target_repr",
        "outcome",
    )
    list_filter = ("outcome", "action", "provider")
    search_fields = ("actor_username", "target_id", "target_repr", "request_id", "reason", "ticket")
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "ok", "count", "head_sequence", "message")
