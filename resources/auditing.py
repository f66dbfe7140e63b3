"""Which reference models the audit trail records, one line each."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from audit.registry import register
from resources.models import (
    Document,
    DocumentUserObjectPermission,
    Membership,
    Organization,
    Project,
    Role,
)


def _grant(grant: Any) -> dict[str, Any]:
    return {
        "user": str(grant.user_id),
        "permission": grant.permission.codename,
        "document": str(grant.content_object_id),
    }


def register_models() -> None:
    register(Organization, organization="pk")
    register(
        Membership,
        organization="organization_id",
        actions={
            "created": "membership.created",
            "updated": "membership.role_changed",
            "deleted": "membership.removed",
        },
        # Making someone an owner alerts, as making them staff does.
        critical=lambda membership, kind: (
            kind != "deleted" and membership.role == Role.OWNER
        ),
    )
    register(Project, organization="organization_id")
    # A document's text is data, not an audit record: names of changed
    # fields only.
    register(
        Document,
        organization="project.organization_id",
        sensitive=["title", "body", "internal_notes"],
    )
    register(
        DocumentUserObjectPermission,
        organization="content_object.project.organization_id",
        actions={"created": "grant.added", "deleted": "grant.removed"},
        describe=_grant,
    )
    register(
        get_user_model(),
        sensitive=["password", "email"],
        ignore=["last_login"],
    )
