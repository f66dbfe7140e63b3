"""`record_event`: the one way anything is written to the audit trail.

Two kinds of events:
- transactional (data and permission changes): written to the outbox in the
  caller's transaction, so they commit or roll back with the change, and
  sealed into the chain right after the commit;
- durable (denials, failed logins, rate-limit hits): kept aside for the
  length of the request and written after it, in a transaction of their
  own, so that a request that fails and rolls back still leaves its record.

Client-supplied values (path, username, user agent) are stored escaped, so
a CR/LF or terminal escape can't forge a log line. Context (actor, client,
address, request id, method, path) comes from the current request.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.alerts import alert_if_critical
from audit.chain import pending_mac, seal_pending
from audit.models import PendingEvent
from security.context import get_current_request, get_request_id
from security.events import escape
from security.network import get_client_ip

logger = logging.getLogger("audit")

_deferred: ContextVar[list[PendingEvent] | None] = ContextVar("deferred", default=None)


def _clip(value: str, length: int) -> str:
    return escape(value)[:length]


def _context() -> dict[str, Any]:
    request = get_current_request()
    if request is None:
        return {"request_id": get_request_id()}
    user: Any = getattr(request, "user", None)
    authenticated = bool(getattr(user, "is_authenticated", False))
    return {
        "actor_id": user.pk if authenticated else None,
        "actor_username": _clip(user.get_username(), 150) if authenticated else "",
        "client_id": _clip(getattr(request, "oauth_client_id", "") or "", 255),
        "ip": get_client_ip(request),
        "user_agent": _clip(request.META.get("HTTP_USER_AGENT", ""), 512),
        "request_id": get_request_id(),
        "method": _clip(request.method or "", 16),
        "path": _clip(request.path, 1024),
    }


def build_event(
    action: str,
    *,
    outcome: str = "success",
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    organization: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
    actor_id: Any = None,
    actor_username: str | None = None,
    client_id: str | None = None,
) -> PendingEvent:
    """Return an unsaved event with the current request's context.

    `actor` (a user) or `actor_id`/`actor_username` name the actor when it
    is not the request's user (a login, a token issued to a client).
    """
    fields = _context()
    if actor is not None:
        fields["actor_id"] = actor.pk
        fields["actor_username"] = _clip(actor.get_username(), 150)
    if actor_id is not None:
        fields["actor_id"] = actor_id
        fields["actor_username"] = _clip(actor_username or "", 150)
    if client_id is not None:
        fields["client_id"] = _clip(client_id, 255)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    return PendingEvent(
        time=timezone.now(),
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_id=_clip(str(target_id), 64),
        organization=organization,
        details=_escape_details(details or {}),
        **fields,
    )


def _escape_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _escape_details(value)
    if isinstance(value, (list, tuple)):
        return [_escape_value(item) for item in value]
    return escape(value)


def _escape_details(details: dict[str, Any]) -> dict[str, Any]:
    return {escape(str(key)): _escape_value(value) for key, value in details.items()}


def record_event(
    action: str, *, durable: bool = False, critical: bool = False, **fields: Any
) -> PendingEvent:
    """Record an event: in the current transaction, or durably (see above).

    `critical` raises an alert even when the action is not one of
    AUDIT["CRITICAL_ACTIONS"] (a user made owner, say).
    """
    event = build_event(action, **fields)
    event.mac = pending_mac(event)
    if durable:
        deferred = _deferred.get()
        if deferred is not None:
            deferred.append(event)
        else:
            _write_now(event)
        alert_if_critical(event, force=critical)
    else:
        event.save(force_insert=True)
        transaction.on_commit(seal_pending)
        # Only a change that happened raises an alert.
        transaction.on_commit(lambda: alert_if_critical(event, force=critical))
    _log(event)
    return event


def _write_now(event: PendingEvent, *, seal: bool = True) -> None:
    with transaction.atomic():
        event.save(force_insert=True)
    if seal and not transaction.get_connection().in_atomic_block:
        seal_pending()


def _log(event: PendingEvent) -> None:
    logger.info(
        event.action,
        extra={
            "event": event.action,
            "outcome": event.outcome,
            "actor_id": str(event.actor_id) if event.actor_id else None,
            "client_id": event.client_id,
            "ip": event.ip,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "request_id": event.request_id,
        },
    )


def begin_request() -> object:
    """Start keeping durable events aside for the current request."""
    return _deferred.set([])


def end_request(token: object) -> None:
    """Write the durable events of the request that ends, then seal."""
    deferred = _deferred.get() or []
    _deferred.reset(token)  # type: ignore[arg-type]
    if not deferred:
        return
    for event in deferred:
        _write_now(event, seal=False)
    seal_pending()
