"""Admin for the reference resources.

Per-document grants are managed through guardian's object-permission pages,
offered to superusers only: guardian's admin mixin does not itself check
that the staff user holds the permissions they hand out.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from guardian.admin import GuardedModelAdmin

from resources.models import Document, Membership, Organization, Project


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("organization", "user", "role", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "created_at")
    raw_id_fields = ("created_by",)


@admin.register(Document)
class DocumentAdmin(GuardedModelAdmin):
    list_display = ("title", "project", "classification", "owner", "created_at")
    list_filter = ("classification",)
    raw_id_fields = ("owner",)

    def _require_superuser(self, request: HttpRequest) -> None:
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied

    def obj_perms_manage_view(
        self, request: HttpRequest, object_pk: Any
    ) -> HttpResponse:
        self._require_superuser(request)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(
        self, request: HttpRequest, object_pk: Any, user_id: Any
    ) -> HttpResponse:
        self._require_superuser(request)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(
        self, request: HttpRequest, object_pk: Any, group_id: Any
    ) -> HttpResponse:
        self._require_superuser(request)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)
