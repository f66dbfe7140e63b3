"""The database triggers that make the audit table append-only.

PostgreSQL and SQLite both refuse UPDATE and DELETE on `audit_auditevent`
(PostgreSQL also TRUNCATE), whoever asks: the ORM, the admin, a raw SQL
session. `install(..., test_bypass=True)` is used by the test suite alone,
on its own throw-away database, so that it can empty that database between
tests; every other database gets the strict form.
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditevent"
NAMES = ("audit_event_no_update", "audit_event_no_delete", "audit_event_no_truncate")
MESSAGE = "audit_auditevent is append-only"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {bypass}
    RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege';
END
$$;
"""
_PG_BYPASS = """
    IF current_setting('audit.test_allow_flush', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
"""
_PG_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS audit_event_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}",
    f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    f"CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
]

_SQLITE_TRIGGER = (
    "CREATE TRIGGER {name} BEFORE {operation} ON " + TABLE + " {when}"
    "BEGIN SELECT RAISE(ABORT, '" + MESSAGE + "'); END"
)


def install(connection: Any, *, test_bypass: bool = False) -> None:
    """Create or replace the append-only triggers of this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            bypass = _PG_BYPASS if test_bypass else ""
            cursor.execute(_PG_FUNCTION.format(bypass=bypass, message=MESSAGE))
            for statement in _PG_TRIGGERS:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            when = "WHEN NOT audit_test_allow_flush() " if test_bypass else ""
            for name, operation in (
                ("audit_event_no_update", "UPDATE"),
                ("audit_event_no_delete", "DELETE"),
            ):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(
                    _SQLITE_TRIGGER.format(name=name, operation=operation, when=when)
                )


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in NAMES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
        elif connection.vendor == "sqlite":
            for name in NAMES[:2]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def missing(connection: Any) -> list[str]:
    """Return the names of the triggers that are absent or disabled."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
            expected = set(NAMES)
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            expected = set(NAMES[:2])
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return sorted(expected - present)
