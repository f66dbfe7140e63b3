"""Write the events of a period as JSON lines, with their chain hashes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from audit.chain import seal_pending
from audit.models import PUBLIC_FIELDS, AuditEvent

FIELDS = [*PUBLIC_FIELDS, "key_id"]


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        msg = f"{value!r} is not an ISO 8601 time with a zone."
        raise CommandError(msg)
    return parsed


class Command(BaseCommand):
    help = "Export the audit events of a period as JSON lines, with hashes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, type=_when)
        parser.add_argument("--until", required=True, type=_when)

    def handle(self, *args: Any, **options: Any) -> None:
        seal_pending()
        events = (
            AuditEvent.objects.filter(
                time__gte=options["since"], time__lte=options["until"]
            )
            .order_by("position")
            .values(*FIELDS)
        )
        count = 0
        for event in events.iterator(chunk_size=2000):
            self.stdout.write(json.dumps(event, default=str, sort_keys=True))
            count += 1
        self.stderr.write(f"exported {count} events")
