"""Admin for users and OAuth clients (clients: superusers only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin

from security.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "display_name", "is_active", "is_staff")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Account", {"fields": ("display_name", "is_service_account")}),
    )


class ApplicationAdmin(DOTApplicationAdmin):
    """OAuth clients: registering or changing one is a superuser's decision."""

    list_display = (
        "name",
        "client_id",
        "client_type",
        "authorization_grant_type",
        "allowed_scopes",
        "is_resource_server",
    )
    raw_id_fields = ("user", "service_account")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
