"""Alerts for critical events: the `security.alert` logger, mail, a webhook.

An alert never fails the request that raised it: a mail or webhook error is
logged and dropped. The webhook gets a small JSON body of ids and names,
never a secret or a request body.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from django.core.mail import mail_admins

from audit.conf import audit_settings

logger = logging.getLogger("security.alert")


def _payload(event: Any) -> dict[str, Any]:
    return {
        "action": event.action,
        "outcome": event.outcome,
        "time": event.time.isoformat(),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_username": event.actor_username,
        "client_id": event.client_id,
        "ip": event.ip,
        "request_id": event.request_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
    }


def alert_if_critical(event: Any, *, force: bool = False) -> None:
    """Send an alert when the event's action is one of the critical ones."""
    if not force and event.action not in audit_settings.CRITICAL_ACTIONS:
        return
    send_alert(event.action, _payload(event))


def send_alert(action: str, payload: dict[str, Any]) -> None:
    logger.critical(action, extra={"event": action, "alert": payload})
    if audit_settings.ALERT_EMAIL:
        try:
            mail_admins(
                f"Security alert: {action}",
                json.dumps(payload, indent=2, sort_keys=True, default=str),
                fail_silently=False,
            )
        except Exception:
            logger.exception("alert_mail_failed", extra={"event": action})
    url = audit_settings.ALERT_WEBHOOK_URL
    if url:
        _post_webhook(url, action, payload)


def _post_webhook(url: str, action: str, payload: dict[str, Any]) -> None:
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        logger.error("alert_webhook_refused", extra={"reason": "not https"})
        return
    body = json.dumps(payload, default=str).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - scheme checked above
            request, timeout=audit_settings.ALERT_WEBHOOK_TIMEOUT
        ):
            pass
    except Exception:
        logger.exception("alert_webhook_failed", extra={"event": action})
