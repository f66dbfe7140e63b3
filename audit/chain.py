"""The hash chain: sealing pending events into it, and verifying it.

Guarantees:
- each sealed event gets the next position and
  `hash = HMAC-SHA256(key, canonical content + prev_hash)`, with the key id
  stored beside it; the key itself never touches the database;
- appends are serialized by a PostgreSQL advisory lock (on SQLite, by its
  write lock) held only for the seal's own short transaction, never for a
  request; positions are unique, so a race can only fail and retry, never
  fork the chain;
- `verify()` reads the chain in position order in bounded memory and
  reports the first event whose hash, link or position is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction

from audit.conf import audit_settings
from audit.models import AuditEvent, EventFields, PendingEvent

logger = logging.getLogger("audit")

GENESIS = "0" * 64
# An arbitrary, fixed 64-bit key naming the chain's advisory lock.
_ADVISORY_LOCK_KEY = 0x617564697463686E
_FIELDS = [
    field.name
    for field in EventFields._meta.get_fields()
    if field.name not in ("id",) and hasattr(field, "attname")
]


class AuditKeyMissingError(Exception):
    """An event names a key id that the settings do not hold."""


def _key(key_id: str) -> bytes:
    keys = audit_settings.HMAC_KEYS
    if key_id not in keys:
        raise AuditKeyMissingError(key_id)
    secret: str = keys[key_id]
    return secret.encode("utf-8")


def canonical(event: Any) -> bytes:
    """Return the bytes an event's hash covers, in one fixed encoding."""
    content = {
        "id": str(event.id),
        "position": event.position,
        "key_id": event.key_id,
        "prev_hash": event.prev_hash,
    }
    for name in _FIELDS:
        value = getattr(event, name)
        if name == "time":
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, dict, list)):
            value = str(value)
        content[name] = value
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")


def pending_mac(event: Any, key_id: str | None = None) -> str:
    """Return the `key_id:hmac` that vouches for an outbox row.

    Only the application, which holds the key, can write a row that seals:
    a row put into the outbox by anyone else is caught before it enters the
    chain.
    """
    key_id = key_id or audit_settings.ACTIVE_KEY_ID
    content = {"id": str(event.id)}
    for name in _FIELDS:
        value = getattr(event, name)
        if name == "time":
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, dict, list)):
            value = str(value)
        content[name] = value
    body = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return f"{key_id}:{hmac.new(_key(key_id), body, hashlib.sha256).hexdigest()}"


def _authentic(item: PendingEvent) -> bool:
    key_id, _sep, _digest = item.mac.partition(":")
    try:
        return hmac.compare_digest(item.mac, pending_mac(item, key_id))
    except AuditKeyMissingError:
        return False


def compute_hash(event: Any) -> str:
    digest = hmac.new(_key(event.key_id), canonical(event), hashlib.sha256)
    return digest.hexdigest()


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    else:
        # A write statement takes SQLite's write lock at once, before the
        # head is read, so two sealers can't both read the same head.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_pendingevent WHERE 1 = 0")


def _seal_batch(limit: int) -> int:
    with transaction.atomic():
        _lock()
        pending = list(PendingEvent.objects.order_by("time", "id")[:limit])
        if not pending:
            return 0
        forged = [item for item in pending if not _authentic(item)]
        pending = [item for item in pending if _authentic(item)]
        if forged:
            _quarantine(forged)
            if not pending:
                return len(forged)
        head = (
            AuditEvent.objects.order_by("-position").values("position", "hash").first()
        )
        position = head["position"] if head else 0
        prev_hash = head["hash"] if head else GENESIS
        key_id = audit_settings.ACTIVE_KEY_ID
        sealed = []
        for item in pending:
            position += 1
            event = AuditEvent(
                id=item.id,
                position=position,
                key_id=key_id,
                prev_hash=prev_hash,
                **{name: getattr(item, name) for name in _FIELDS},
            )
            event.hash = compute_hash(event)
            prev_hash = event.hash
            sealed.append(event)
        AuditEvent.objects.bulk_create(sealed)
        PendingEvent.objects.filter(pk__in=[item.pk for item in pending]).delete()
    _log_head(position, prev_hash)
    return len(sealed)


def _quarantine(forged: list[PendingEvent]) -> None:
    """Replace outbox rows the application did not write by one alarm each."""
    from audit.alerts import send_alert

    for item in forged:
        evidence = {name: str(getattr(item, name)) for name in _FIELDS}
        alarm = PendingEvent(
            time=item.time,
            action="audit.chain_broken",
            outcome="failure",
            details={
                "reason": "an outbox row without the application's MAC",
                **evidence,
            },
        )
        alarm.mac = pending_mac(alarm)
        alarm.save(force_insert=True)
        send_alert(
            "audit.chain_broken", {"reason": "forged outbox row", "id": str(item.id)}
        )
    PendingEvent.objects.filter(pk__in=[item.pk for item in forged]).delete()


def seal_pending(limit: int = 500, attempts: int = 5) -> int:
    """Move pending events into the chain; return how many were sealed."""
    total = 0
    for attempt in range(attempts):
        try:
            while True:
                count = _seal_batch(limit)
                total += count
                if count < limit:
                    return total
        except (IntegrityError, OperationalError):
            # Another sealer won the race for this position; try again.
            logger.warning("audit_seal_retry", extra={"attempt": attempt + 1})
            time.sleep(0.05 * (attempt + 1))
    logger.error("audit_seal_failed", extra={"pending": PendingEvent.objects.count()})
    return total


def _log_head(position: int, head_hash: str) -> None:
    """Write the chain head to the log at intervals, to detect truncation."""
    interval = int(audit_settings.HEAD_LOG_SECONDS)
    try:
        due = not interval or cache.add("audit:head-logged", 1, timeout=interval)
    except Exception:  # no cache: log the head every time rather than never
        due = True
    if not due:
        return
    logger.info("audit.chain_head", extra={"position": position, "hash": head_hash})


@dataclass(frozen=True)
class Problem:
    position: int
    event_id: str | None
    reason: str


def verify(
    *, chunk: int = 2000, progress: Callable[[int], None] | None = None
) -> Problem | None:
    """Check the whole chain; return the first problem, or None."""
    stray = AuditEvent.objects.filter(position__lt=1).order_by("position").first()
    if stray is not None:
        return Problem(stray.position, str(stray.id), "inserted outside the chain")
    expected_position = 1
    prev_hash = GENESIS
    for event in _in_order(chunk):
        if event.position != expected_position:
            return Problem(expected_position, None, "missing event (gap in positions)")
        if event.prev_hash != prev_hash:
            return Problem(
                event.position, str(event.id), "does not link to the previous event"
            )
        try:
            valid = hmac.compare_digest(event.hash, compute_hash(event))
        except AuditKeyMissingError:
            return Problem(
                event.position, str(event.id), f"unknown key id {event.key_id}"
            )
        if not valid:
            return Problem(
                event.position, str(event.id), "content does not match its hash"
            )
        prev_hash = event.hash
        expected_position += 1
        if progress and event.position % chunk == 0:
            progress(event.position)
    return None


# TODO(audit): verification always starts from the genesis hash, so a chain
# whose oldest segment was archived can't be verified in place. Fix: let
# verify() start after a given position and hash (the archived head).
def _in_order(chunk: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(position__gt=last).order_by("position")[:chunk]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].position
