"""Create the append-only triggers again (after a table rebuild, say)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from audit import triggers


class Command(BaseCommand):
    help = "Install the append-only triggers on the audit table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        triggers.install(connection)
        missing = triggers.missing(connection)
        if missing:
            self.stderr.write(f"Still missing: {', '.join(missing)}")
