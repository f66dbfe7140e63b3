"""Each endpoint shows a user the organizations they belong to, and no other.

OWASP API1 (broken object-level authorization): another organization's
objects answer 404 on every operation, exactly like ids that do not exist.
"""

from __future__ import annotations

import uuid

import pytest

from resources.models import Document, Membership, Project
from tests import factories

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_member_lists_only_own_organizations(world, client_for):
    ids = _ids(client_for(world.member).get("/api/v1/organizations/"))

    assert ids == {str(world.acme.pk)}


def test_member_lists_only_own_memberships(world, client_for):
    ids = _ids(client_for(world.member).get("/api/v1/memberships/"))

    assert ids == {
        str(m.pk) for m in Membership.objects.filter(organization=world.acme)
    }


def test_member_lists_only_own_projects(world, client_for):
    ids = _ids(client_for(world.owner).get("/api/v1/projects/"))

    assert ids == {str(world.acme_project.pk)}


def test_other_org_owner_lists_only_their_projects(world, client_for):
    ids = _ids(client_for(world.outsider).get("/api/v1/projects/"))

    assert ids == {str(world.globex_project.pk)}


def test_member_lists_only_own_documents(world, client_for):
    ids = _ids(client_for(world.member).get("/api/v1/documents/"))

    assert ids == {str(world.public_doc.pk), str(world.internal_doc.pk)}


def test_user_without_organization_lists_nothing(world, client_for):
    loner = factories.user("loner")

    for path in ("organizations", "memberships", "projects", "documents"):
        assert _ids(client_for(loner).get(f"/api/v1/{path}/")) == set()


@pytest.mark.parametrize(
    ("path", "attribute"),
    [
        ("organizations", "globex"),
        ("projects", "globex_project"),
        ("documents", "globex_doc"),
    ],
)
def test_other_org_object_is_404_on_every_operation(world, client_for, path, attribute):
    obj = getattr(world, attribute)
    client = client_for(world.owner, "read write admin")
    url = f"/api/v1/{path}/{obj.pk}/"

    responses = [
        client.get(url),
        client.patch(url, {"name": "pwned", "title": "pwned"}, format="json"),
        client.put(url, {"name": "pwned", "title": "pwned"}, format="json"),
        client.delete(url),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert all(r.json()["code"] == "not_found" for r in responses)
    obj.refresh_from_db()
    assert getattr(obj, "name", getattr(obj, "title", None)) != "pwned"


def test_other_org_object_answers_like_missing_one(world, client_for):
    client = client_for(world.owner)

    hidden = client.get(f"/api/v1/projects/{world.globex_project.pk}/")
    missing = client.get(f"/api/v1/projects/{uuid.uuid4()}/")

    assert hidden.status_code == missing.status_code == 404
    hidden_body, missing_body = hidden.json(), missing.json()
    hidden_body.pop("request_id")
    missing_body.pop("request_id")
    assert hidden_body == missing_body


def test_other_org_membership_is_404(world, client_for):
    theirs = Membership.objects.get(organization=world.globex)

    response = client_for(world.owner).get(f"/api/v1/memberships/{theirs.pk}/")

    assert response.status_code == 404


def test_filter_by_other_org_answers_like_missing_org(world, client_for):
    client = client_for(world.owner)

    hidden = client.get("/api/v1/projects/", {"organization": str(world.globex.pk)})
    missing = client.get("/api/v1/projects/", {"organization": str(uuid.uuid4())})

    assert hidden.status_code == missing.status_code == 200
    assert hidden.json()["results"] == missing.json()["results"] == []


def test_cannot_create_project_in_other_org(world, client_for):
    response = client_for(world.owner, "write").post(
        "/api/v1/projects/",
        {"organization": str(world.globex.pk), "name": "Trojan"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "organization", "code": "not_found", "detail": "Object not found."}
    ]
    assert not Project.objects.filter(name="Trojan").exists()


def test_cannot_create_document_in_other_org_project(world, client_for):
    response = client_for(world.member, "write").post(
        "/api/v1/documents/",
        {"project": str(world.globex_project.pk), "title": "Trojan"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "project"
    assert not Document.objects.filter(title="Trojan").exists()


def test_users_me_shows_only_the_caller(world, client_for):
    body = client_for(world.member).get("/api/v1/users/me/").json()

    assert body == {
        "id": str(world.member.pk),
        "username": "carol",
        "email": "carol@example.com",
        "display_name": "",
        "date_joined": body["date_joined"],
    }


def test_users_me_patch_changes_display_name_only(world, client_for):
    client = client_for(world.member, "write")

    ok = client.patch("/api/v1/users/me/", {"display_name": "Carol C."}, format="json")
    escalate = client.patch("/api/v1/users/me/", {"is_staff": True}, format="json")
    rename = client.patch("/api/v1/users/me/", {"username": "root"}, format="json")

    assert ok.status_code == 200
    assert ok.json()["display_name"] == "Carol C."
    assert escalate.status_code == 400
    assert escalate.json()["errors"][0]["code"] == "unknown_field"
    assert rename.status_code == 400
    assert rename.json()["errors"][0]["code"] == "read_only"
    world.member.refresh_from_db()
    assert (world.member.is_staff, world.member.username) == (False, "carol")


def test_service_account_token_sees_its_organizations(world, client_for):
    service = factories.user("svc", is_service_account=True)
    factories.membership(world.acme, service, "viewer")

    ids = _ids(client_for(service).get("/api/v1/projects/"))

    assert ids == {str(world.acme_project.pk)}
