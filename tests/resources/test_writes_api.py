"""Creating and changing resources through the API."""

from __future__ import annotations

import re

import pytest

from resources.models import Membership, Organization, Project

pytestmark = pytest.mark.django_db


def test_creator_becomes_owner_of_new_organization(world, client_for):
    response = client_for(world.member, "write").post(
        "/api/v1/organizations/", {"name": "Initech Labs"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "slug", "created_at"}
    assert re.fullmatch(r"initech-labs-[0-9a-f]{6}", body["slug"])
    membership = Membership.objects.get(organization_id=body["id"])
    assert (membership.user, membership.role) == (world.member, "owner")


def test_organization_slug_is_unique_and_survives_rename(world, client_for):
    client = client_for(world.owner, "write")
    url = "/api/v1/organizations/"

    first = client.post(url, {"name": "Acme"}, format="json").json()
    second = client.post(url, {"name": "Acme"}, format="json").json()
    renamed = client.patch(f"{url}{first['id']}/", {"name": "Other"}, format="json")

    assert first["slug"] != second["slug"]
    assert first["slug"].startswith("acme-")
    assert renamed.json()["slug"] == first["slug"]


def test_slug_is_read_only(world, client_for):
    response = client_for(world.owner, "write").post(
        "/api/v1/organizations/", {"name": "X", "slug": "root"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "slug",
        "code": "read_only",
        "detail": "This field is read-only.",
    }
    assert not Organization.objects.filter(name="X").exists()


def test_admin_creates_project_and_is_recorded_as_creator(world, client_for):
    response = client_for(world.admin, "write").post(
        "/api/v1/projects/",
        {"organization": str(world.acme.pk), "name": "Anvils"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["created_by"] == str(world.admin.pk)


def test_project_organization_is_write_once(world, client_for):
    other = Organization.objects.create(name="Second")
    Membership.objects.create(organization=other, user=world.admin, role="admin")
    client = client_for(world.admin, "write")
    url = f"/api/v1/projects/{world.acme_project.pk}/"

    same = client.patch(url, {"organization": str(world.acme.pk)}, format="json")
    moved = client.patch(url, {"organization": str(other.pk)}, format="json")

    assert same.status_code == 200
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["code"] == "not_writable"
    assert Project.objects.get(pk=world.acme_project.pk).organization == world.acme


def test_over_long_name_is_400(world, client_for):
    response = client_for(world.admin, "write").post(
        "/api/v1/projects/",
        {"organization": str(world.acme.pk), "name": "x" * 201},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_member_creates_document_as_its_owner(world, client_for):
    response = client_for(world.member, "write").post(
        "/api/v1/documents/",
        {"project": str(world.acme_project.pk), "title": "Notes", "owner": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "read_only"

    response = client_for(world.member, "write").post(
        "/api/v1/documents/",
        {"project": str(world.acme_project.pk), "title": "Notes"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["owner"] == str(world.member.pk)


def test_viewer_cannot_create_document_in_own_organization(world, client_for):
    response = client_for(world.viewer, "write").post(
        "/api/v1/documents/",
        {"project": str(world.acme_project.pk), "title": "Sneaky"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not world.acme_project.documents.filter(title="Sneaky").exists()


def test_member_cannot_create_project_in_org_they_only_are_member_of(world, client_for):
    other = Organization.objects.create(name="Second")
    Membership.objects.create(organization=other, user=world.admin, role="member")

    response = client_for(world.admin, "write").post(
        "/api/v1/projects/",
        {"organization": str(other.pk), "name": "Nope"},
        format="json",
    )

    assert response.status_code == 403
    assert not Project.objects.filter(name="Nope").exists()


def test_text_limits_come_from_settings(world, client_for, settings):
    settings.SECURITY = {
        **settings.SECURITY,
        "FIELD_MAX_LENGTHS": {**settings.SECURITY["FIELD_MAX_LENGTHS"], "name": 500},
    }
    client = client_for(world.admin, "write")

    longer = client.post(
        "/api/v1/projects/",
        {"organization": str(world.acme.pk), "name": "x" * 400},
        format="json",
    )
    too_long = client.post(
        "/api/v1/projects/",
        {"organization": str(world.acme.pk), "name": "x" * 501},
        format="json",
    )

    assert longer.status_code == 201
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0] == {
        "field": "name",
        "code": "max_length",
        "detail": "Ensure this value has at most 500 characters (it has 501).",
    }
