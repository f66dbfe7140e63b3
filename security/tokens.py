"""Issue access tokens outside the OAuth endpoints (`manage.py issue_token`).

A token made here is the same signed JWT as one from `/o/token/`, stored
the same way (checksum only), and counts as a fresh login at the time it is
issued.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value

from security.jwt import encode_access_token

MAX_LIFETIME_SECONDS = 24 * 3600


def issue_access_token(
    *, user: Any, application: Any, scopes: list[str], lifetime_seconds: int
) -> str:
    """Create an access token and return it; only its checksum is kept."""
    if not 0 < lifetime_seconds <= MAX_LIFETIME_SECONDS:
        msg = "A token lives between 1 second and one day."
        raise ValueError(msg)
    unknown = set(scopes) - set(application.allowed_scope_list)
    if unknown:
        msg = f"{application.name} is not registered for: {' '.join(sorted(unknown))}."
        raise ValueError(msg)

    now = timezone.now()
    raw, jti = encode_access_token(
        subject=str(user.pk),
        client_id=application.client_id,
        scopes=scopes,
        lifetime_seconds=lifetime_seconds,
        auth_time=int(now.timestamp()),
    )
    token = get_access_token_model()(
        user=user,
        application=application,
        scope=" ".join(scopes),
        expires=now + timedelta(seconds=lifetime_seconds),
        auth_time=now,
        jti=jti,
    )
    set_token_value(token, raw)
    token.save()
    return raw
