"""Each kind of event is recorded with its context."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client
from guardian.shortcuts import assign_perm, remove_perm

from audit.chain import seal_pending
from audit.models import AuditEvent, PendingEvent
from resources.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def _events(action: str) -> list[AuditEvent]:
    seal_pending()
    return list(AuditEvent.objects.filter(action=action).order_by("position"))


def _one(action: str) -> AuditEvent:
    events = _events(action)
    assert len(events) == 1, [e.action for e in AuditEvent.objects.all()]
    return events[0]


def _login(username: str, password: str, **headers: str):
    client = Client(**headers)
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    return client, response


class TestAuthentication:
    def test_login_success_records_actor_and_context(self, world):
        _client, response = _login("alice", PASSWORD, HTTP_USER_AGENT="Browser/1.0")

        event = _one("authn.login_succeeded")
        assert response.status_code == 302
        assert (event.actor_id, event.actor_username) == (world.owner.pk, "alice")
        assert event.outcome == "success"
        assert event.ip == "127.0.0.1"
        assert event.user_agent == "Browser/1.0"
        assert (event.method, event.path) == ("POST", "/accounts/login/")
        assert event.request_id == response["X-Request-ID"]

    def test_login_failure_records_the_username_never_the_password(self, world):
        _client, response = _login("alice", "wrong-password-123")

        event = _one("authn.login_failed")
        assert response.status_code == 200
        assert event.outcome == "failure"
        assert event.details == {"username": "alice"}
        assert event.actor_id is None
        assert "wrong-password" not in str(AuditEvent.objects.values_list())

    def test_failed_login_of_unknown_user_is_recorded_alike(self, world):
        _login("nobody", "whatever-password")

        assert _one("authn.login_failed").details == {"username": "nobody"}

    def test_logout_is_recorded(self, world):
        client, _response = _login("alice", PASSWORD)

        client.post("/accounts/logout/")

        assert _one("authn.logout").actor_username == "alice"

    def test_client_values_are_stored_escaped(self, world):
        _login("eve\r\n2026-01-01 INFO forged", "x", HTTP_USER_AGENT="ua\x1b[31m\nred")

        event = _one("authn.login_failed")
        assert "\n" not in event.details["username"]
        assert "\r" not in event.details["username"]
        assert event.details["username"].startswith("eve\\r\\n")
        assert "\x1b" not in event.user_agent
        assert "\n" not in event.user_agent


class TestOAuth:
    def test_token_issue_names_client_and_actor(self, world):
        service = factories.user("svc", is_service_account=True)
        factories.application(
            "reporter",
            client_type="confidential",
            authorization_grant_type="client-credentials",
            client_secret="reporter-secret-0123456789",
            hash_client_secret=True,
            allowed_scopes="read",
            service_account=service,
        )
        credentials = base64.b64encode(b"reporter:reporter-secret-0123456789").decode()

        response = Client(HTTP_AUTHORIZATION=f"Basic {credentials}").post(
            "/o/token/",
            urlencode({"grant_type": "client_credentials"}),
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 200
        event = _one("oauth.token_issued")
        assert event.client_id == "reporter"
        assert event.actor_id == service.pk
        assert event.details["grant_type"] == "client_credentials"
        assert response.json()["access_token"] not in str(event.details)

    def test_revoke_tokens_command_is_recorded_with_a_count(self, world):
        from django.core.management import call_command

        factories.token(world.owner)
        factories.token(world.owner)

        call_command(
            "revoke_tokens", "--user", "alice", stdout=__import__("io").StringIO()
        )

        event = _one("oauth.token_revoked")
        assert event.details["count"] == "2"
        assert event.details["reason"] == "revoke_tokens_command"


class TestAuthorization:
    def test_denial_records_operation_rule_and_target(self, world, client_for):
        url = f"/api/v1/projects/{world.acme_project.pk}/"

        response = client_for(world.viewer, "write").patch(
            url, {"name": "x"}, format="json"
        )

        assert response.status_code == 403
        event = _one("authz.denied")
        assert event.actor_id == world.viewer.pk
        assert event.details["status"] == 403
        assert event.details["operation"] == "partial_update"
        assert "admin or above" in event.details["rule"]
        assert (event.target_type, event.target_id) == (
            "resources.project",
            str(world.acme_project.pk),
        )
        assert "admin or above" not in response.content.decode()

    def test_404_for_an_invisible_object_is_a_denial(self, world, client_for):
        client_for(world.outsider).get(f"/api/v1/projects/{world.acme_project.pk}/")

        event = _one("authz.denied")
        assert event.details["status"] == 404
        assert event.outcome == "failure"

    def test_401_is_recorded(self, world, anonymous):
        anonymous.get("/api/v1/projects/")

        assert _one("authz.denied").details["code"] == "not_authenticated"

    def test_repeated_denials_from_one_source_are_aggregated(self, world, client_for):
        client = client_for(world.outsider)
        url = f"/api/v1/projects/{world.acme_project.pk}/"

        for _ in range(25):
            client.get(url)

        assert len(_events("authz.denied")) == 1

    def test_rejected_input_is_recorded(self, world, client_for):
        client_for(world.owner, "write").patch(
            f"/api/v1/documents/{world.internal_doc.pk}/",
            {"owner": str(world.member.pk), "is_staff": True},
            format="json",
        )

        event = _one("input.rejected")
        assert event.details["fields"] == ["is_staff", "owner"]
        assert event.details["codes"] == ["read_only", "unknown_field"]


class TestPermissionChanges:
    def test_membership_lifecycle(self, world, client_for):
        newcomer = factories.user("newcomer")
        client = client_for(world.owner, "admin")

        created = client.post(
            "/api/v1/memberships/",
            {
                "organization": str(world.acme.pk),
                "user": str(newcomer.pk),
                "role": "member",
            },
            format="json",
        ).json()
        client.patch(
            f"/api/v1/memberships/{created['id']}/", {"role": "admin"}, format="json"
        )
        client.delete(f"/api/v1/memberships/{created['id']}/")

        seal_pending()
        mine = AuditEvent.objects.filter(target_id=created["id"]).order_by("position")
        added, changed, removed = mine
        assert [e.action for e in mine] == [
            "membership.created",
            "membership.role_changed",
            "membership.removed",
        ]
        assert added.organization == world.acme.pk
        assert added.target_id == created["id"]
        assert added.details["values"]["role"] == "member"
        assert changed.details["changed"] == ["role"]
        assert changed.details["values"] == {"role": "admin"}
        assert changed.details["previous"] == {"role": "member"}
        assert removed.actor_id == world.owner.pk

    def test_grants_are_recorded(self, world):
        assign_perm("view_document", world.member, world.confidential_doc)
        remove_perm("view_document", world.member, world.confidential_doc)

        added = _one("grant.added")
        removed = _one("grant.removed")
        assert added.details["permission"] == "view_document"
        assert added.details["user"] == str(world.member.pk)
        assert added.organization == world.acme.pk
        assert removed.details["document"] == str(world.confidential_doc.pk)

    def test_staff_and_superuser_flags_are_privilege_changes(self, world):
        world.member.is_staff = True
        world.member.save()

        event = _one("user.privilege_changed")
        assert event.details == {"is_staff": [False, True]}
        assert event.target_id == str(world.member.pk)

    def test_group_and_permission_changes_are_privilege_changes(self, world):
        group = Group.objects.create(name="editors")
        group.permissions.add(Permission.objects.get(codename="change_document"))
        world.member.groups.add(group)

        events = _events("user.privilege_changed")
        assert [e.details for e in events] == [
            {"change": "add", "permissions": ["resources.change_document"]},
            {"change": "add", "groups": ["editors"]},
        ]


class TestDataChanges:
    def test_create_update_delete_of_a_registered_model(self, world, client_for):
        client = client_for(world.admin, "write")

        created = client.post(
            "/api/v1/projects/",
            {"organization": str(world.acme.pk), "name": "Anvils"},
            format="json",
        ).json()
        client.patch(
            f"/api/v1/projects/{created['id']}/", {"name": "Big anvils"}, format="json"
        )
        client.delete(f"/api/v1/projects/{created['id']}/")

        seal_pending()
        events = AuditEvent.objects.filter(target_id=created["id"]).order_by("position")
        assert [e.action for e in events] == [
            "resource.created",
            "resource.updated",
            "resource.deleted",
        ]
        assert events[1].details["changed"] == ["name"]
        assert events[1].details["values"] == {"name": "Big anvils"}
        assert all(e.target_type == "resources.project" for e in events)
        assert all(e.organization == world.acme.pk for e in events)

    def test_sensitive_fields_are_named_but_not_shown(self, world, client_for):
        client_for(world.admin, "write").patch(
            f"/api/v1/documents/{world.internal_doc.pk}/",
            {"internal_notes": "merger talks", "classification": "confidential"},
            format="json",
        )

        event = _one("resource.updated")
        assert sorted(event.details["changed"]) == ["classification", "internal_notes"]
        assert event.details["values"] == {"classification": "confidential"}
        assert "merger" not in str(event.details)

    def test_rolled_back_change_leaves_no_event(self, world):
        before = PendingEvent.objects.count() + AuditEvent.objects.count()

        with contextlib.suppress(RuntimeError), transaction.atomic():
            factories.project(world.acme, "Doomed")
            raise RuntimeError

        assert PendingEvent.objects.count() + AuditEvent.objects.count() == before

    def test_committed_change_has_its_event_in_the_same_transaction(self, world):
        with transaction.atomic():
            project = factories.project(world.acme, "Kept")
            pending = PendingEvent.objects.filter(target_id=str(project.pk))
            assert [e.action for e in pending] == ["resource.created"]

    def test_failed_login_in_a_rolled_back_request_is_still_recorded(self, world):
        """The view's transaction rolls back; the event is written after it."""
        from django.contrib.auth import authenticate

        from audit.services import begin_request, end_request

        token = begin_request()
        with contextlib.suppress(RuntimeError), transaction.atomic():
            authenticate(username="alice", password="not-her-password")
            raise RuntimeError
        end_request(token)

        assert _one("authn.login_failed").details == {"username": "alice"}

    def test_denied_api_request_rolls_back_but_keeps_its_denial(
        self, world, client_for
    ):
        response = client_for(world.viewer, "write").delete(
            f"/api/v1/projects/{world.acme_project.pk}/"
        )

        assert response.status_code == 403
        assert _one("authz.denied").details["operation"] == "destroy"
        assert Membership.objects.filter(user=world.viewer).exists()
