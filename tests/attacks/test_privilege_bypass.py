"""No silent bypass: superuser status and model permissions widen nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests import factories

pytestmark = pytest.mark.django_db


def test_superuser_sees_no_organization_they_are_not_in(world, client_for):
    root = factories.user("root", is_superuser=True, is_staff=True)
    client = client_for(root, "read write admin")

    for path in ("organizations", "memberships", "projects", "documents"):
        assert client.get(f"/api/v1/{path}/").json()["count"] == 0
    assert client.get(f"/api/v1/documents/{world.internal_doc.pk}/").status_code == 404
    assert (
        client.delete(f"/api/v1/projects/{world.acme_project.pk}/").status_code == 404
    )


def test_global_view_document_permission_reveals_nothing(world, client_for):
    user = factories.user("auditor")
    user.user_permissions.add(
        Permission.objects.get(codename="view_document"),
        Permission.objects.get(codename="change_document"),
    )
    client = client_for(user, "read write")

    assert client.get("/api/v1/documents/").json()["count"] == 0
    assert client.get(f"/api/v1/documents/{world.globex_doc.pk}/").status_code == 404
    response = client.patch(
        f"/api/v1/documents/{world.globex_doc.pk}/", {"title": "x"}, format="json"
    )
    assert response.status_code == 404


def test_superuser_member_gets_only_their_role(world, client_for):
    world.viewer.is_superuser = True
    world.viewer.save()

    response = client_for(world.viewer, "read write").get(
        f"/api/v1/documents/{world.confidential_doc.pk}/"
    )

    assert response.status_code == 404


def test_grant_on_document_of_other_organization_shows_nothing(world, client_for):
    """A stray grant (say, made in the admin) never crosses organizations."""
    from guardian.shortcuts import assign_perm

    assign_perm("view_document", world.outsider, world.confidential_doc)

    response = client_for(world.outsider).get(
        f"/api/v1/documents/{world.confidential_doc.pk}/"
    )

    assert response.status_code == 404
