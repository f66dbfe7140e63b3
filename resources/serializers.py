"""Representations of the reference resources, with their field rules."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from resources.models import Document, Membership, Organization, Project
from resources.services import organization_create
from security.fields import FieldRules, PolicySerializer
from security.voters import HasOrganizationRole, IsOwner

_DOCUMENT_ORG = "project__organization"


class OrganizationSerializer(PolicySerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]

    def create(self, validated_data: dict[str, Any]) -> Organization:
        return organization_create(
            name=validated_data["name"], owner=self.context["request"].user
        )


class MembershipSerializer(PolicySerializer):
    # Any active user may be added by id (ids are unguessable and shared by
    # their holder); no endpoint lists users outside one's organizations.
    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True)
    )
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "username", "role", "created_at"]
        read_only_fields = ["id", "username", "created_at"]
        write_once = ["organization", "user"]


class ProjectSerializer(PolicySerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        write_once = ["organization"]


class DocumentSerializer(PolicySerializer):
    class Meta:
        model = Document
        fields = [
            "id",
            "project",
            "title",
            "body",
            "classification",
            "internal_notes",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]
        write_once = ["project"]
        field_rules = {
            "internal_notes": FieldRules(
                read=HasOrganizationRole("admin", _DOCUMENT_ORG),
                write=HasOrganizationRole("admin", _DOCUMENT_ORG),
            ),
            "classification": FieldRules(
                write=IsOwner("owner") | HasOrganizationRole("admin", _DOCUMENT_ORG),
            ),
        }


class MeSerializer(PolicySerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "display_name", "date_joined"]
        read_only_fields = ["id", "username", "email", "date_joined"]
