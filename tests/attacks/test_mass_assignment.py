"""Mass assignment (OWASP API3): fields a client must never set are refused.

Each attempt is a 400 naming the field, and nothing is written.
"""

from __future__ import annotations

import pytest

from resources.models import Document, Organization, Project
from tests import factories

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Document.objects.order_by("pk").values()),
        list(Project.objects.order_by("pk").values()),
        list(Organization.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"owner": "00000000-0000-0000-0000-000000000001"}, "owner", "read_only"),
        ({"id": "00000000-0000-0000-0000-000000000001"}, "id", "read_only"),
        ({"created_at": "2000-01-01T00:00:00Z"}, "created_at", "read_only"),
        ({"is_staff": True}, "is_staff", "unknown_field"),
        ({"project_id": "x"}, "project_id", "unknown_field"),
    ],
)
def test_document_update_refuses_field(world, client_for, payload, field, code):
    before = _snapshot()

    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/", payload, format="json"
    )

    assert response.status_code == 400
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert _snapshot() == before


def test_document_cannot_move_to_another_project(world, client_for):
    other = factories.project(world.acme, "Other")
    before = _snapshot()

    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/",
        {"project": str(other.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_writable"
    assert _snapshot() == before


def test_project_cannot_move_to_another_organization(world, client_for):
    factories.membership(world.globex, world.owner, "owner")
    before = _snapshot()

    response = client_for(world.owner, "write").patch(
        f"/api/v1/projects/{world.acme_project.pk}/",
        {"organization": str(world.globex.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert _snapshot() == before


def test_valid_and_invalid_fields_together_write_nothing(world, client_for):
    before = _snapshot()

    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/",
        {"title": "changed", "owner": str(world.member.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize("body", ["[]", '"text"', "null", "42", '[{"title": "x"}]'])
def test_non_object_body_is_400(world, client_for, body):
    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/",
        data=body,
        content_type="application/json",
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"title": None},
        {"title": ["a"]},
        {"title": {"$gt": ""}},
        {"classification": "top-secret"},
        {"title": "a\x00b"},
        {"title": "x" * 201},
    ],
)
def test_wrong_types_and_values_are_400(world, client_for, payload):
    before = _snapshot()

    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/", payload, format="json"
    )

    assert response.status_code == 400
    assert _snapshot() == before
