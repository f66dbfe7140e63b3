"""Grant the application's database role what it needs, and no more.

Run as the owner of the tables, after `migrate`. On PostgreSQL: read and
write on every table except the audit ledger, which the role may only read
and append to (no UPDATE, DELETE or TRUNCATE); see docs/audit.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from audit.triggers import TABLE


class Command(BaseCommand):
    help = "Grant the application role its rights; the audit table append-only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The application's database role.")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stderr.write("Roles exist on PostgreSQL only; nothing to grant.")
            return
        role = options["role"]
        if not role.replace("_", "").isalnum():
            msg = f"{role!r} is not a plain role name."
            raise CommandError(msg)
        name = connection.ops.quote_name(role)
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {name}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
            f"TO {name}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"granted {role}; {TABLE} is append-only for it")
