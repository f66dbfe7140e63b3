"""Document rules: confidentiality, field rules per object, sharing."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm, get_perms

from resources.models import Classification, Document
from tests import factories

pytestmark = pytest.mark.django_db


def _url(doc, suffix=""):
    return f"/api/v1/documents/{doc.pk}/{suffix}"


def test_internal_notes_appear_only_on_rows_of_administered_organizations(
    world, client_for
):
    factories.membership(world.globex, world.admin, "member")
    factories.document(world.globex_project, world.outsider, internal_notes="globex")

    rows = client_for(world.admin).get("/api/v1/documents/").json()["results"]

    by_org = {}
    for row in rows:
        org = "acme" if row["project"] == str(world.acme_project.pk) else "globex"
        by_org.setdefault(org, set()).add("internal_notes" in row)
    assert by_org == {"acme": {True}, "globex": {False}}


def test_member_never_sees_internal_notes(world, client_for):
    rows = client_for(world.member).get("/api/v1/documents/").json()["results"]

    assert rows
    assert all("internal_notes" not in row for row in rows)
    assert (
        "admins only"
        not in client_for(world.member).get(_url(world.internal_doc)).content.decode()
    )


def test_member_cannot_write_internal_notes(world, client_for):
    response = client_for(world.member, "write").patch(
        _url(world.internal_doc), {"internal_notes": "mine now"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "internal_notes",
            "code": "not_writable",
            "detail": "You may not set this field.",
        }
    ]
    world.internal_doc.refresh_from_db()
    assert world.internal_doc.internal_notes == "admins only"


def test_member_cannot_create_document_with_internal_notes(world, client_for):
    response = client_for(world.member, "write").post(
        "/api/v1/documents/",
        {"project": str(world.acme_project.pk), "title": "x", "internal_notes": "n"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_writable"
    assert not Document.objects.filter(title="x").exists()


def test_admin_writes_internal_notes(world, client_for):
    response = client_for(world.admin, "write").patch(
        _url(world.internal_doc), {"internal_notes": "reviewed"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["internal_notes"] == "reviewed"


def test_member_owner_changes_classification_of_own_document(world, client_for):
    response = client_for(world.member, "write").patch(
        _url(world.public_doc), {"classification": "confidential"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["classification"] == "confidential"


def test_member_cannot_edit_someone_elses_document(world, client_for):
    doc = factories.document(world.acme_project, world.admin)

    response = client_for(world.member, "write").patch(
        _url(doc), {"title": "mine"}, format="json"
    )

    assert response.status_code == 403
    doc.refresh_from_db()
    assert doc.title != "mine"


def test_viewer_cannot_edit_even_own_document(world, client_for):
    own = factories.document(world.acme_project, world.viewer)

    response = client_for(world.viewer, "write").patch(
        _url(own), {"title": "edited"}, format="json"
    )

    assert response.status_code == 403


class TestChangeGrantee:
    @pytest.fixture
    def grantee(self, world):
        assign_perm("view_document", world.member, world.confidential_doc)
        assign_perm("change_document", world.member, world.confidential_doc)
        return world.member

    def test_edits_title_and_body(self, world, client_for, grantee):
        response = client_for(grantee, "write").patch(
            _url(world.confidential_doc), {"title": "T", "body": "B"}, format="json"
        )

        assert response.status_code == 200
        world.confidential_doc.refresh_from_db()
        assert (world.confidential_doc.title, world.confidential_doc.body) == ("T", "B")

    @pytest.mark.parametrize(
        ("field", "value"),
        [("classification", "public"), ("internal_notes", "x")],
    )
    def test_cannot_change_other_fields(self, world, client_for, grantee, field, value):
        response = client_for(grantee, "write").patch(
            _url(world.confidential_doc), {field: value}, format="json"
        )

        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "field": field,
            "code": "not_writable",
            "detail": "You may not set this field.",
        }
        world.confidential_doc.refresh_from_db()
        assert world.confidential_doc.classification == Classification.CONFIDENTIAL

    def test_cannot_delete_or_share(self, world, client_for, grantee):
        client = client_for(grantee, "write admin")

        deleted = client.delete(_url(world.confidential_doc))
        shared = client.post(
            _url(world.confidential_doc, "share/"),
            {"user": str(world.viewer.pk), "permission": "view"},
            format="json",
        )

        assert (deleted.status_code, shared.status_code) == (403, 403)
        assert Document.objects.filter(pk=world.confidential_doc.pk).exists()


class TestSharing:
    def share(self, client, doc, user, permission="view", action="share"):
        return client.post(
            _url(doc, f"{action}/"),
            {"user": str(user.pk), "permission": permission},
            format="json",
        )

    def test_share_view_makes_confidential_document_visible(self, world, client_for):
        response = self.share(
            client_for(world.owner, "admin"), world.confidential_doc, world.member
        )

        assert response.status_code == 204
        assert response.content == b""
        got = client_for(world.member).get(_url(world.confidential_doc))
        assert got.status_code == 200

    def test_share_is_idempotent(self, world, client_for):
        client = client_for(world.owner, "admin")

        first = self.share(client, world.confidential_doc, world.member, "change")
        second = self.share(client, world.confidential_doc, world.member, "change")

        assert (first.status_code, second.status_code) == (204, 204)
        assert sorted(get_perms(world.member, world.confidential_doc)) == [
            "change_document",
            "view_document",
        ]

    def test_change_cannot_be_granted_to_a_viewer(self, world, client_for):
        response = self.share(
            client_for(world.owner, "admin"),
            world.confidential_doc,
            world.viewer,
            "change",
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "permission"
        assert get_perms(world.viewer, world.confidential_doc) == []

    def test_grantee_must_belong_to_the_organization(self, world, client_for):
        response = self.share(
            client_for(world.owner, "admin"), world.confidential_doc, world.outsider
        )

        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "field": "user",
            "code": "not_found",
            "detail": "Object not found.",
        }
        assert get_perms(world.outsider, world.confidential_doc) == []

    def test_unshare_view_also_revokes_change(self, world, client_for):
        client = client_for(world.owner, "admin")
        self.share(client, world.confidential_doc, world.member, "change")

        response = self.share(
            client, world.confidential_doc, world.member, "view", action="unshare"
        )

        assert response.status_code == 204
        assert get_perms(world.member, world.confidential_doc) == []

    def test_unshare_change_keeps_view(self, world, client_for):
        client = client_for(world.owner, "admin")
        self.share(client, world.confidential_doc, world.member, "change")

        self.share(client, world.confidential_doc, world.member, "change", "unshare")

        assert get_perms(world.member, world.confidential_doc) == ["view_document"]

    def test_sharing_needs_admin_scope(self, world, client_for):
        response = self.share(
            client_for(world.owner, "write"), world.confidential_doc, world.member
        )

        assert response.status_code == 403
        assert response.json()["required_scopes"] == ["admin"]

    def test_share_body_is_strict(self, world, client_for):
        response = client_for(world.owner, "admin").post(
            _url(world.confidential_doc, "share/"),
            {"user": str(world.member.pk), "permission": "delete", "extra": 1},
            format="json",
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "unknown_field"

    def test_grant_is_deleted_with_its_document(self, world, client_for):
        from resources.models import DocumentUserObjectPermission

        self.share(
            client_for(world.owner, "admin"), world.confidential_doc, world.member
        )
        client_for(world.owner, "write").delete(_url(world.confidential_doc))

        assert not DocumentUserObjectPermission.objects.exists()
