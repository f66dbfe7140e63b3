"""The security layer's settings, read lazily from the `SECURITY` dict.

Nothing here is read at import time, so `override_settings(SECURITY=...)` in
a test takes effect on the next access.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Pagination: a larger page_size is capped, never refused.
    "MAX_PAGE_SIZE": 100,
    # Longest text each named field accepts, wherever a serializer has it.
    "FIELD_MAX_LENGTHS": {},
    # Deepest nesting of arrays and objects a JSON body may have.
    "MAX_JSON_DEPTH": 32,
    # The browsable API's ?format= switch; development only.
    "ALLOW_FORMAT_PARAMETER": False,
    # Scopes a development session (browsable API) is treated as holding.
    "SESSION_SCOPES": [],
    # Scopes that include others: a `write` token may also read.
    "SCOPE_IMPLIES": {"write": ["read"], "admin": ["read"]},
    # This API's identifier: the `aud` of its tokens (RFC 8707, RFC 9068).
    "API_AUDIENCE": "http://127.0.0.1:8000/api/v1/",
    # A refresh-token family dies this many seconds after its first token,
    # however often it is refreshed.
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": 30 * 24 * 3600,
    # Proxies in front of the app (see security.network): a count of hops,
    # or the networks they live in. Neither set: X-Forwarded-For is ignored.
    "TRUSTED_PROXY_COUNT": 0,
    "TRUSTED_PROXIES": [],
    # Rate limits (django-ratelimit rates); see security.ratelimit.
    "RATE_LIMITS": {
        "auth_ip": "20/m",
        "auth_failures": "5/m",
        "auth_username_alert": "30/h",
        "api_read": "600/m",
        "api_write": "120/m",
        "api_anonymous_ip": "60/m",
        "sensitive": "30/m",
    },
    "STUFFING_DISTINCT_USERNAMES": 10,
    "STUFFING_WINDOW_SECONDS": 600,
    "STUFFING_BLOCK_SECONDS": 900,
    # With the limit store down: the API serves (True) or answers 503.
    "RATE_LIMIT_FAIL_OPEN": True,
    "RATE_LIMIT_FAILURE_LOG_SECONDS": 60,
    # Login forms besides LOGIN_URL that the login limits guard.
    "EXTRA_LOGIN_PATHS": [],
    # Accounts and clients that only demo data has; production refuses them.
    "DEMO_USERNAMES": ["alice", "bob", "carol", "dave", "erin", "svc-reporting"],
    "DEMO_CLIENT_NAMES": ["demo-spa", "demo-service"],
    # Step-up: seconds since the last password entry for sensitive changes.
    "STEP_UP_MAX_AGE": 300,
    # Where organization roles are kept, and their order, lowest first.
    "MEMBERSHIP_MODEL": "resources.Membership",
    "ROLES": ["viewer", "member", "admin", "owner"],
}


class SecuritySettings:
    """Attribute access to `settings.SECURITY`, falling back to DEFAULTS."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            msg = f"SECURITY has no setting {name!r}."
            raise AttributeError(msg)
        return getattr(settings, "SECURITY", {}).get(name, DEFAULTS[name])


security_settings = SecuritySettings()
