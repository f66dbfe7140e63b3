"""The audit trail's settings, read lazily from the `AUDIT` dict.

`HMAC_KEYS` maps key ids to secrets (never stored in the database);
`ACTIVE_KEY_ID` names the key that signs new events. Older keys stay listed
so that `audit_verify` can check the events they signed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "HMAC_KEYS": {},
    "ACTIVE_KEY_ID": "",
    # Events that alert as well as record.
    "CRITICAL_ACTIONS": [
        "security.credential_stuffing_suspected",
        "oauth.refresh_reuse_detected",
        "oauth.code_replayed",
        "user.privilege_changed",
        "audit.chain_broken",
        "server.error",
    ],
    # Where alerts go besides the `security.alert` logger.
    "ALERT_EMAIL": True,
    "ALERT_WEBHOOK_URL": "",
    "ALERT_WEBHOOK_TIMEOUT": 3,
    # Repeated denials and limit hits from one source: one event per window.
    "AGGREGATE_SECONDS": 60,
    # How often the chain head is written to the application log.
    "HEAD_LOG_SECONDS": 60,
}


class AuditSettings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(name)
        return getattr(settings, "AUDIT", {}).get(name, DEFAULTS[name])


audit_settings = AuditSettings()
