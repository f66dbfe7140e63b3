"""The chain: append-only in the database, tamper-evident, safe under load."""

from __future__ import annotations

import io
import itertools
import json
import logging
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import triggers
from audit.chain import GENESIS, seal_pending, verify
from audit.checks import check_append_only_triggers
from audit.models import AuditEvent
from audit.services import record_event
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def _fill(count: int) -> None:
    for index in range(count):
        record_event("test.event", durable=True, details={"n": index})
    seal_pending()


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _verify_command() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as exc:
        return False, str(exc)
    return True, out.getvalue()


def test_sealed_events_form_a_chain(db):
    _fill(5)

    events = list(AuditEvent.objects.order_by("position"))

    assert [e.position for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert {e.key_id for e in events} == {"dev"}
    assert verify() is None


class TestAppendOnly:
    def test_orm_refuses_update_and_delete(self, db):
        _fill(1)
        event = AuditEvent.objects.get()

        with pytest.raises(PermissionError):
            AuditEvent.objects.update(action="x")
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            event.save()

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE audit_auditevent SET action = 'forged'",
            "DELETE FROM audit_auditevent",
        ],
    )
    def test_database_refuses_update_and_delete(self, db, strict_audit_triggers, sql):
        _fill(2)

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(sql)

        assert AuditEvent.objects.filter(action="test.event").count() == 2

    def test_database_refuses_truncate_on_postgresql(self, db, strict_audit_triggers):
        require_service(connection.vendor == "postgresql", "PostgreSQL")
        _fill(1)

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("TRUNCATE audit_auditevent")

    def test_system_check_reports_a_missing_trigger(self, db):
        assert check_append_only_triggers(databases=["default"]) == []

        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER audit_event_no_delete"
                + (" ON audit_auditevent" if connection.vendor == "postgresql" else "")
            )

        errors = check_append_only_triggers(databases=["default"])
        assert [e.id for e in errors] == ["audit.E001"]
        assert "audit_event_no_delete" in errors[0].msg
        triggers.install(connection, test_bypass=True)


class TestTamperEvidence:
    """With the trigger bypassed (as an attacker with DBA rights would)."""

    def test_edited_event_is_named(self, db):
        _fill(5)
        _raw(
            "UPDATE audit_auditevent SET action = 'nothing.happened' WHERE position = 3"
        )

        ok, message = _verify_command()

        assert not ok
        assert "position 3" in message
        assert "does not match its hash" in message

    def test_deleted_event_is_named(self, db):
        _fill(5)
        _raw("DELETE FROM audit_auditevent WHERE position = 2")

        ok, message = _verify_command()

        assert not ok
        assert "position 2" in message
        assert "missing" in message

    def test_reordered_events_are_named(self, db):
        _fill(5)
        _raw(
            "UPDATE audit_auditevent SET position = position + 100 "
            "WHERE position IN (2, 3)"
        )
        _raw("UPDATE audit_auditevent SET position = 3 WHERE position = 102")
        _raw("UPDATE audit_auditevent SET position = 2 WHERE position = 103")

        ok, message = _verify_command()

        assert not ok
        assert "position 2" in message

    def test_rehashed_event_fails_without_the_key(self, db, settings):
        """Recomputing a plain SHA-256 is not enough: the hash is keyed."""
        import hashlib

        from audit.chain import canonical

        _fill(3)
        event = AuditEvent.objects.get(position=2)
        event.action = "forged"
        forged_hash = hashlib.sha256(canonical(event)).hexdigest()
        _raw(
            "UPDATE audit_auditevent SET action = 'forged', hash = %s "
            "WHERE position = 2",
            [forged_hash],
        )

        problem = verify()

        assert problem is not None
        assert problem.position == 2

    def test_truncated_newest_events_are_caught_against_the_logged_head(self, db):
        _fill(5)
        head = AuditEvent.objects.get(position=5)
        _raw("DELETE FROM audit_auditevent WHERE position >= 4")

        assert verify() is None
        with pytest.raises(CommandError, match="truncated"):
            call_command(
                "audit_verify",
                "--expect-head",
                f"5:{head.hash}",
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )

    def test_broken_chain_alerts(self, db, caplog, mailoutbox, settings):
        settings.ADMINS = [("Security", "security@example.com")]
        _fill(2)
        _raw("UPDATE audit_auditevent SET outcome = 'forged' WHERE position = 1")

        with caplog.at_level(logging.CRITICAL, logger="security.alert"):
            ok, _message = _verify_command()

        assert not ok
        assert any(r.getMessage() == "audit.chain_broken" for r in caplog.records)
        assert mailoutbox[0].subject.endswith("audit.chain_broken")

    def test_verify_reports_progress(self, db):
        _fill(5)
        err = io.StringIO()

        call_command("audit_verify", "--chunk", "2", stdout=io.StringIO(), stderr=err)

        assert "2/5 verified" in err.getvalue()
        assert "4/5 verified" in err.getvalue()


def test_key_rotation_keeps_old_events_verifying(db, settings):
    _fill(2)
    settings.AUDIT = {
        **settings.AUDIT,
        "HMAC_KEYS": {**settings.AUDIT["HMAC_KEYS"], "k2": "second-key-" + "x" * 30},
        "ACTIVE_KEY_ID": "k2",
    }

    _fill(2)

    assert list(
        AuditEvent.objects.order_by("position").values_list("key_id", flat=True)
    ) == [
        "dev",
        "dev",
        "k2",
        "k2",
    ]
    assert verify() is None


def test_export_writes_verifiable_json_lines(db):
    _fill(3)
    out = io.StringIO()
    now = timezone.now()

    call_command(
        "audit_export",
        "--since",
        (now - timedelta(minutes=5)).isoformat(),
        "--until",
        (now + timedelta(minutes=5)).isoformat(),
        stdout=out,
        stderr=io.StringIO(),
    )

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["position"] for line in lines] == [1, 2, 3]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    assert {"hash", "key_id", "details", "action"} <= set(lines[0])


def test_chain_head_is_logged_at_intervals(db, caplog, settings):
    from django.core.cache import cache

    cache.clear()
    with caplog.at_level(logging.INFO, logger="audit"):
        _fill(3)
        _fill(3)

    heads = [r for r in caplog.records if r.getMessage() == "audit.chain_head"]
    assert len(heads) == 1
    assert heads[0].position == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_intact():
    """Four writers, two hundred events each, at once."""
    require_service(connection.vendor == "postgresql", "PostgreSQL")
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def writer(index: int) -> None:
        try:
            barrier.wait()
            for n in range(200):
                with transaction.atomic():
                    record_event("load.test", details={"writer": index, "n": n})
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seal_pending()

    assert errors == []
    assert AuditEvent.objects.filter(action="load.test").count() == 800
    positions = list(
        AuditEvent.objects.order_by("position").values_list("position", flat=True)
    )
    assert positions == list(range(1, len(positions) + 1))
    assert verify() is None
