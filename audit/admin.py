"""A read-only admin of the audit trail, with the API's filters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("position", "time", "action", "outcome", "actor_username", "ip")
    list_filter = ("action", "outcome", "target_type")
    search_fields = ("actor_username", "target_id", "request_id", "=actor_id")
    date_hierarchy = "time"
    ordering = ("-position",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
