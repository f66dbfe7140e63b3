"""Every resource x operation x role, with the status and the fields returned.

The target of each row is an object of acme: its organization, carol's
membership, its project, and alice's confidential document. `grantee` is a
member of acme (gina) holding a `change` grant on that document; `non_member`
is erin, owner of globex. Every token holds `read write admin`, so scopes
never decide here (they have their own tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from audit.chain import seal_pending
from audit.models import AuditEvent
from resources.models import Document, Membership, Organization, Project
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ("owner", "admin", "member", "viewer", "non_member", "grantee", "anonymous")

ORGANIZATION = {"id", "name", "slug", "created_at"}
MEMBERSHIP = {"id", "organization", "user", "username", "role", "created_at"}
PROJECT = {
    "id",
    "organization",
    "name",
    "description",
    "created_by",
    "created_at",
    "updated_at",
}
DOCUMENT = {
    "id",
    "project",
    "title",
    "body",
    "classification",
    "internal_notes",
    "owner",
    "created_at",
    "updated_at",
}
DOCUMENT_NO_NOTES = DOCUMENT - {"internal_notes"}
ME = {"id", "username", "email", "display_name", "date_joined"}
AUDIT_EVENT = {
    "id",
    "position",
    "time",
    "action",
    "outcome",
    "actor_id",
    "actor_username",
    "client_id",
    "ip",
    "user_agent",
    "request_id",
    "method",
    "path",
    "target_type",
    "target_id",
    "organization",
    "details",
    "hash",
    "prev_hash",
}


class Scene:
    def __init__(self, world: Any) -> None:
        self.world = world
        self.grantee = factories.user("gina")
        factories.membership(world.acme, self.grantee, "member")
        self.document = world.confidential_doc
        assign_perm("view_document", self.grantee, self.document)
        assign_perm("change_document", self.grantee, self.document)
        self.newcomer = factories.user("newcomer")
        self.carol_membership = Membership.objects.get(
            organization=world.acme, user=world.member
        )
        seal_pending()
        self.acme_event = AuditEvent.objects.filter(organization=world.acme.pk).first()
        self.role = ""
        self.users = {
            "owner": world.owner,
            "admin": world.admin,
            "member": world.member,
            "viewer": world.viewer,
            "non_member": world.outsider,
            "grantee": self.grantee,
            "anonymous": None,
        }

    def client(self, role: str) -> APIClient:
        user = self.users[role]
        if user is None:
            return APIClient()
        client = APIClient()
        token = factories.token(user, "read write admin audit")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client


Request = Callable[[Scene], tuple[str, str, dict[str, Any] | None]]


def _org(s: Scene) -> str:
    return f"/api/v1/organizations/{s.world.acme.pk}/"


def _membership(s: Scene) -> str:
    return f"/api/v1/memberships/{s.carol_membership.pk}/"


def _project(s: Scene) -> str:
    return f"/api/v1/projects/{s.world.acme_project.pk}/"


def _document(s: Scene) -> str:
    return f"/api/v1/documents/{s.document.pk}/"


REQUESTS: dict[tuple[str, str], Request] = {
    ("organizations", "list"): lambda s: ("get", "/api/v1/organizations/", None),
    ("organizations", "retrieve"): lambda s: ("get", _org(s), None),
    ("organizations", "create"): lambda s: (
        "post",
        "/api/v1/organizations/",
        {"name": "New org"},
    ),
    ("organizations", "update"): lambda s: ("put", _org(s), {"name": "Renamed"}),
    ("organizations", "partial_update"): lambda s: (
        "patch",
        _org(s),
        {"name": "Renamed"},
    ),
    ("organizations", "destroy"): lambda s: ("delete", _org(s), None),
    ("memberships", "list"): lambda s: ("get", "/api/v1/memberships/", None),
    ("memberships", "retrieve"): lambda s: ("get", _membership(s), None),
    ("memberships", "create"): lambda s: (
        "post",
        "/api/v1/memberships/",
        {
            "organization": str(s.world.acme.pk),
            "user": str(s.newcomer.pk),
            "role": "member",
        },
    ),
    ("memberships", "update"): lambda s: (
        "put",
        _membership(s),
        {
            "organization": str(s.world.acme.pk),
            "user": str(s.world.member.pk),
            "role": "viewer",
        },
    ),
    ("memberships", "partial_update"): lambda s: (
        "patch",
        _membership(s),
        {"role": "viewer"},
    ),
    ("memberships", "destroy"): lambda s: ("delete", _membership(s), None),
    ("projects", "list"): lambda s: ("get", "/api/v1/projects/", None),
    ("projects", "retrieve"): lambda s: ("get", _project(s), None),
    ("projects", "create"): lambda s: (
        "post",
        "/api/v1/projects/",
        {"organization": str(s.world.acme.pk), "name": "New project"},
    ),
    ("projects", "update"): lambda s: (
        "put",
        _project(s),
        {"organization": str(s.world.acme.pk), "name": "Renamed", "description": ""},
    ),
    ("projects", "partial_update"): lambda s: (
        "patch",
        _project(s),
        {"name": "Renamed"},
    ),
    ("projects", "destroy"): lambda s: ("delete", _project(s), None),
    ("documents", "list"): lambda s: ("get", "/api/v1/documents/", None),
    ("documents", "retrieve"): lambda s: ("get", _document(s), None),
    ("documents", "create"): lambda s: (
        "post",
        "/api/v1/documents/",
        {"project": str(s.world.acme_project.pk), "title": "New document"},
    ),
    ("documents", "update"): lambda s: (
        "put",
        _document(s),
        {"project": str(s.world.acme_project.pk), "title": "Renamed", "body": "b"}
        # PUT carries every field the caller may write: admins also these.
        | (
            {"classification": "internal", "internal_notes": ""}
            if s.role in ("owner", "admin")
            else {}
        ),
    ),
    ("documents", "partial_update"): lambda s: (
        "patch",
        _document(s),
        {"title": "Renamed"},
    ),
    ("documents", "destroy"): lambda s: ("delete", _document(s), None),
    ("documents", "share"): lambda s: (
        "post",
        _document(s) + "share/",
        {"user": str(s.world.viewer.pk), "permission": "view"},
    ),
    ("documents", "unshare"): lambda s: (
        "post",
        _document(s) + "unshare/",
        {"user": str(s.grantee.pk), "permission": "view"},
    ),
    ("audit-events", "list"): lambda s: ("get", "/api/v1/audit-events/", None),
    ("audit-events", "retrieve"): lambda s: (
        "get",
        f"/api/v1/audit-events/{s.acme_event.pk}/",
        None,
    ),
    ("users/me", "retrieve"): lambda s: ("get", "/api/v1/users/me/", None),
    ("users/me", "partial_update"): lambda s: (
        "patch",
        "/api/v1/users/me/",
        {"display_name": "Me"},
    ),
}


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ROLES, statuses, strict=True))


# Columns: owner, admin, member, viewer, non_member, grantee, anonymous.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("organizations", "list"): row(200, 200, 200, 200, 200, 200, 401),
    ("organizations", "retrieve"): row(200, 200, 200, 200, 404, 200, 401),
    ("organizations", "create"): row(201, 201, 201, 201, 201, 201, 401),
    ("organizations", "update"): row(200, 200, 403, 403, 404, 403, 401),
    ("organizations", "partial_update"): row(200, 200, 403, 403, 404, 403, 401),
    ("organizations", "destroy"): row(204, 403, 403, 403, 404, 403, 401),
    ("memberships", "list"): row(200, 200, 200, 200, 200, 200, 401),
    ("memberships", "retrieve"): row(200, 200, 200, 200, 404, 200, 401),
    # A non-member admin elsewhere names an organization they can't see: 400.
    ("memberships", "create"): row(201, 201, 403, 403, 400, 403, 401),
    ("memberships", "update"): row(200, 200, 403, 403, 404, 403, 401),
    ("memberships", "partial_update"): row(200, 200, 403, 403, 404, 403, 401),
    # carol (member) removing her own membership is leaving.
    ("memberships", "destroy"): row(204, 204, 204, 403, 404, 403, 401),
    ("projects", "list"): row(200, 200, 200, 200, 200, 200, 401),
    ("projects", "retrieve"): row(200, 200, 200, 200, 404, 200, 401),
    ("projects", "create"): row(201, 201, 403, 403, 400, 403, 401),
    ("projects", "update"): row(200, 200, 403, 403, 404, 403, 401),
    ("projects", "partial_update"): row(200, 200, 403, 403, 404, 403, 401),
    ("projects", "destroy"): row(204, 204, 403, 403, 404, 403, 401),
    ("documents", "list"): row(200, 200, 200, 200, 200, 200, 401),
    ("documents", "retrieve"): row(200, 200, 404, 404, 404, 200, 401),
    ("documents", "create"): row(201, 201, 201, 403, 400, 201, 401),
    ("documents", "update"): row(200, 200, 404, 404, 404, 200, 401),
    ("documents", "partial_update"): row(200, 200, 404, 404, 404, 200, 401),
    ("documents", "destroy"): row(204, 204, 404, 404, 404, 403, 401),
    ("documents", "share"): row(204, 204, 404, 404, 404, 403, 401),
    ("documents", "unshare"): row(204, 204, 404, 404, 404, 403, 401),
    ("audit-events", "list"): row(200, 200, 200, 200, 200, 200, 401),
    ("audit-events", "retrieve"): row(200, 200, 404, 404, 404, 404, 401),
    ("users/me", "retrieve"): row(200, 200, 200, 200, 200, 200, 401),
    ("users/me", "partial_update"): row(200, 200, 200, 200, 200, 200, 401),
}

# Fields of the target object for each successful read, per role.
DOCUMENT_FIELDS = {"owner": DOCUMENT, "admin": DOCUMENT, "grantee": DOCUMENT_NO_NOTES}
FIELDS: dict[str, Callable[[str], set[str]]] = {
    "organizations": lambda role: ORGANIZATION,
    "memberships": lambda role: MEMBERSHIP,
    "projects": lambda role: PROJECT,
    "documents": lambda role: DOCUMENT_FIELDS[role],
    "users/me": lambda role: ME,
    "audit-events": lambda role: AUDIT_EVENT,
}
TARGET_ID: dict[str, Callable[[Scene], Any]] = {
    "organizations": lambda s: s.world.acme.pk,
    "memberships": lambda s: s.carol_membership.pk,
    "projects": lambda s: s.world.acme_project.pk,
    "documents": lambda s: s.document.pk,
    "audit-events": lambda s: s.acme_event.pk,
}

CASES = [
    pytest.param(resource, operation, role, status, id=f"{resource}-{operation}-{role}")
    for (resource, operation), statuses in EXPECTED.items()
    for role, status in statuses.items()
]


def test_matrix_covers_every_routed_operation():
    from security.checks import api_views

    routed = {
        (route.removeprefix("api/v1/").lstrip("^").split("/")[0], action)
        for route, view, actions in api_views()
        if route.startswith("api/v1/")
        for action in actions.values()
    }
    covered = {(resource.split("/")[0], op) for resource, op in EXPECTED}

    assert routed == covered


@pytest.mark.parametrize(("resource", "operation", "role", "expected"), CASES)
def test_role_gets_expected_status_and_fields(
    world, resource, operation, role, expected
):
    scene = Scene(world)
    scene.role = role
    method, url, body = REQUESTS[(resource, operation)](scene)

    response = getattr(scene.client(role), method)(url, body, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) >= {"code", "detail", "request_id"}
        assert "internal_notes" not in response.content.decode()
    if expected != 200 or method != "get":
        return
    data = response.json()
    if operation == "list":
        rows = {r["id"]: r for r in data["results"]}
        target = str(TARGET_ID[resource](scene))
        visible = EXPECTED[(resource, "retrieve")][role] == 200
        assert (target in rows) == visible
        if visible:
            assert set(rows[target]) == FIELDS[resource](role)
    else:
        assert set(data) == FIELDS[resource](role)


@pytest.mark.parametrize(
    ("resource", "operation", "role", "expected"),
    [case for case in CASES if case.values[3] >= 400 and case.values[1] != "list"],
)
def test_refused_request_changes_nothing(world, resource, operation, role, expected):
    scene = Scene(world)
    scene.role = role
    method, url, body = REQUESTS[(resource, operation)](scene)
    before = _state()

    getattr(scene.client(role), method)(url, body, format="json")

    assert _state() == before


def _state() -> tuple[Any, ...]:
    from resources.models import DocumentUserObjectPermission

    return (
        sorted(Organization.objects.values_list("pk", "name")),
        sorted(Membership.objects.values_list("pk", "role")),
        sorted(Project.objects.values_list("pk", "name")),
        sorted(Document.objects.values_list("pk", "title", "classification")),
        sorted(
            DocumentUserObjectPermission.objects.values_list(
                "user_id", "permission__codename", "content_object_id"
            )
        ),
    )
