"""Who reads the audit trail, and where critical events raise alerts."""

from __future__ import annotations

import json
import logging
import uuid
from unittest import mock

import pytest
from django.contrib.admin.sites import site

from audit.chain import seal_pending
from audit.models import AuditEvent
from audit.services import record_event
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def events(world):
    record_event("test.acme", organization=world.acme.pk, durable=True)
    record_event("test.globex", organization=world.globex.pk, durable=True)
    record_event("test.nowhere", durable=True)
    seal_pending()


def _actions(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["action"] for row in response.json()["results"]}


def test_admin_reads_only_their_organizations_events(world, events, client_for):
    actions = _actions(client_for(world.admin, "audit").get(URL))

    assert "test.acme" in actions
    assert "test.globex" not in actions
    assert "test.nowhere" not in actions


def test_member_with_audit_scope_gets_an_empty_list(world, events, client_for):
    response = client_for(world.member, "audit").get(URL)

    assert response.json()["count"] == 0


def test_superuser_reads_every_event(world, events, client_for):
    root = factories.user("root", is_superuser=True)

    actions = _actions(client_for(root, "audit").get(URL, {"page_size": 100}))

    assert {"test.acme", "test.globex", "test.nowhere"} <= actions


def test_audit_scope_is_required(world, events, client_for):
    response = client_for(world.owner, "read write admin").get(URL)

    assert response.status_code == 403
    assert response.json()["required_scopes"] == ["audit"]


def test_events_are_read_only_through_the_api(world, events, client_for):
    client = client_for(world.owner, "audit read write admin")
    event = AuditEvent.objects.get(action="test.acme")

    responses = [
        client.post(URL, {"action": "forged"}, format="json"),
        client.patch(f"{URL}{event.pk}/", {"action": "forged"}, format="json"),
        client.delete(f"{URL}{event.pk}/"),
    ]

    assert [r.status_code for r in responses] == [405, 405, 405]
    assert AuditEvent.objects.filter(action="forged").count() == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "test.acme"}, {"test.acme"}),
        ({"target_type": "nothing"}, set()),
        ({"since": "2999-01-01T00:00:00Z"}, set()),
        ({"until": "2000-01-01T00:00:00Z"}, set()),
    ],
)
def test_filters(world, events, client_for, params, expected):
    actions = _actions(client_for(world.owner, "audit").get(URL, params))

    assert actions & {"test.acme"} == expected


def test_filter_by_actor(world, client_for):
    record_event(
        "test.by_bob", actor=world.admin, organization=world.acme.pk, durable=True
    )
    record_event(
        "test.by_carol", actor=world.member, organization=world.acme.pk, durable=True
    )
    seal_pending()

    actions = _actions(
        client_for(world.owner, "audit").get(URL, {"actor": str(world.admin.pk)})
    )

    assert actions == {"test.by_bob"}


def test_bad_filter_values_are_400(world, client_for):
    client = client_for(world.owner, "audit")

    assert client.get(URL, {"actor": "nope"}).status_code == 400
    assert client.get(URL, {"since": "yesterday"}).status_code == 400
    assert client.get(URL, {"secret": "1"}).status_code == 400


def test_event_fields_are_the_contracts(world, events, client_for):
    row = (
        client_for(world.owner, "audit")
        .get(URL, {"action": "test.acme"})
        .json()["results"][0]
    )

    assert set(row) == {
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
    uuid.UUID(row["id"])
    assert row["organization"] == str(world.acme.pk)


def test_admin_site_is_read_only(world, events):
    model_admin = site._registry[AuditEvent]
    request = mock.Mock(user=factories.user("root2", is_superuser=True, is_staff=True))

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


class TestAlerts:
    def test_critical_event_goes_to_the_alert_logger_and_admins(
        self, world, caplog, mailoutbox, settings
    ):
        settings.ADMINS = [("Security", "security@example.com")]

        with caplog.at_level(logging.CRITICAL, logger="security.alert"):
            record_event(
                "oauth.refresh_reuse_detected", durable=True, actor=world.owner
            )

        assert [r.getMessage() for r in caplog.records] == [
            "oauth.refresh_reuse_detected"
        ]
        assert mailoutbox[0].to == ["security@example.com"]
        assert "refresh_reuse_detected" in mailoutbox[0].subject

    def test_webhook_receives_the_alert(self, world, settings):
        settings.AUDIT = {
            **settings.AUDIT,
            "ALERT_WEBHOOK_URL": "https://alerts.example/hook",
        }

        with mock.patch("urllib.request.urlopen") as urlopen:
            record_event("security.credential_stuffing_suspected", durable=True)

        request = urlopen.call_args.args[0]
        assert request.full_url == "https://alerts.example/hook"
        assert (
            json.loads(request.data)["action"]
            == "security.credential_stuffing_suspected"
        )

    def test_webhook_failure_does_not_fail_the_request(self, world, settings):
        settings.AUDIT = {
            **settings.AUDIT,
            "ALERT_WEBHOOK_URL": "https://alerts.example/hook",
        }

        with mock.patch("urllib.request.urlopen", side_effect=OSError("down")):
            record_event("audit.chain_broken", durable=True)

        seal_pending()
        assert AuditEvent.objects.filter(action="audit.chain_broken").exists()

    def test_making_someone_owner_alerts_once_committed(
        self, world, client_for, caplog, django_capture_on_commit_callbacks
    ):
        membership = world.member.memberships.get()
        client = client_for(world.owner, "admin")

        with (
            caplog.at_level(logging.CRITICAL, logger="security.alert"),
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            response = client.patch(
                f"/api/v1/memberships/{membership.pk}/",
                {"role": "owner"},
                format="json",
            )
            assert caplog.records == []
        for callback in callbacks:
            callback()

        assert response.status_code == 200
        assert [r.getMessage() for r in caplog.records] == ["membership.role_changed"]

    def test_staff_flag_alerts_once_committed(
        self, world, caplog, django_capture_on_commit_callbacks
    ):
        with (
            caplog.at_level(logging.CRITICAL, logger="security.alert"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            world.member.is_staff = True
            world.member.save()

        assert [r.getMessage() for r in caplog.records] == ["user.privilege_changed"]

    def test_ordinary_event_does_not_alert(self, world, caplog):
        with caplog.at_level(logging.CRITICAL, logger="security.alert"):
            record_event("authn.logout", durable=True)

        assert caplog.records == []
