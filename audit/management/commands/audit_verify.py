"""Verify the whole audit chain; exit non-zero at the first broken event."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import seal_pending, verify
from audit.models import AuditEvent
from audit.services import record_event

logger = logging.getLogger("audit")


class Command(BaseCommand):
    help = "Check every event's hash, link and position; report the first bad one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=2000, help="Events per read.")
        parser.add_argument(
            "--expect-head",
            metavar="POSITION:HASH",
            help="A chain head from the log; fails if the chain ends before it "
            "or differs there (detects deleted newest events).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seal_pending()
        total = AuditEvent.objects.count()
        self.stderr.write(f"verifying {total} events")

        def progress(position: int) -> None:
            self.stderr.write(f"  {position}/{total} verified")

        problem = verify(chunk=options["chunk"], progress=progress)
        if problem is None and options["expect_head"]:
            problem = self._check_head(options["expect_head"])
        if problem is None:
            self.stdout.write(f"OK: {total} events, chain intact")
            return

        message = (
            f"Chain broken at position {problem.position}"
            f"{f' (event {problem.event_id})' if problem.event_id else ''}: "
            f"{problem.reason}"
        )
        # An event of its own (which alerts): the trail records that it was
        # found broken, and when.
        record_event(
            "audit.chain_broken",
            durable=True,
            outcome="failure",
            details={
                "position": problem.position,
                "event_id": problem.event_id or "",
                "reason": problem.reason,
            },
        )
        raise CommandError(message)

    def _check_head(self, spec: str) -> Any:
        from audit.chain import Problem

        position_text, _sep, expected_hash = spec.partition(":")
        if not position_text.isdigit() or not expected_hash:
            msg = "--expect-head takes POSITION:HASH."
            raise CommandError(msg)
        position = int(position_text)
        event = AuditEvent.objects.filter(position=position).first()
        if event is None:
            return Problem(position, None, "the logged head is missing (truncated)")
        if event.hash != expected_hash:
            return Problem(position, str(event.id), "differs from the logged head")
        return None
