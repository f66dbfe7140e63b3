"""The audit trail: an append-only, hash-chained table, and its outbox.

`AuditEvent` is the ledger. Rows are only ever inserted: database triggers
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), and the ORM refuses
both before the database is asked. Each row carries a position in the
chain and an HMAC over its content and the previous row's hash.

`PendingEvent` is the outbox: events are written there in the transaction
of the change they describe, then moved into the chain right after commit
under a short lock (see `audit.chain`). A rolled-back change leaves no
pending row; a committed one always has one until it is sealed.

Events hold ids, not foreign keys: deleting a user or an organization never
touches, or is blocked by, its history.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

#: The fields of an event as the API and exports show them (the contract's).
PUBLIC_FIELDS = (
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
)


class EventFields(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    time = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16)
    actor_id = models.UUIDField(null=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=16, blank=True)
    path = models.CharField(max_length=1024, blank=True)
    target_type = models.CharField(max_length=100, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    organization = models.UUIDField(null=True, db_index=True)
    details = models.JSONField(default=dict)

    class Meta:
        abstract = True


APPEND_ONLY = "Audit events are append-only."


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)


class AuditEvent(EventFields):
    position = models.BigIntegerField(unique=True)
    key_id = models.CharField(max_length=32)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)


class PendingEvent(EventFields):
    # `key_id:HMAC` over the row, written by the application (audit.chain).
    mac = models.CharField(max_length=100, blank=True, db_default="")

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"pending {self.action}"
