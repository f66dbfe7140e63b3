"""Access tokens as signed JWTs in the RFC 9068 profile.

Guarantees: every access token is an RS256 JWT with header `typ: at+jwt`
and the `kid` of the active signing key, carrying `iss` (from settings,
never from the request's Host), `sub` (the user's id, or the service
account's for client credentials), `aud`, `client_id`, `scope`, `iat`,
`exp`, `jti` and `auth_time`. It carries identity and scopes, never roles,
so a role change applies to tokens already issued.

Another service can verify it offline against the JWKS; this API still looks
every token up by its checksum, so a revoked token stops working at once.
Refresh tokens stay opaque random strings.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from jwcrypto import jwk, jwt
from oauth2_provider.settings import oauth2_settings

from security.conf import security_settings


@functools.lru_cache(maxsize=4)
def _load_key(pem: str) -> jwk.JWK:
    # Loading checks the RSA key's consistency, which costs milliseconds;
    # the cache keeps it to once per key and process.
    return jwk.JWK.from_pem(pem.encode("ascii"))


def _signing_key() -> jwk.JWK:
    return _load_key(oauth2_settings.OIDC_RSA_PRIVATE_KEY)


def issuer() -> str:
    """Return the issuer identifier, which comes from settings only."""
    return str(oauth2_settings.OIDC_ISS_ENDPOINT)


def _audience(resources: Iterable[str]) -> str | list[str]:
    audiences = [r for r in resources if r] or [security_settings.API_AUDIENCE]
    return audiences[0] if len(audiences) == 1 else audiences


def encode_access_token(
    *,
    subject: str,
    client_id: str,
    scopes: Iterable[str],
    lifetime_seconds: int,
    auth_time: int | None,
    resources: Iterable[str] = (),
    jti: str | None = None,
) -> tuple[str, str]:
    """Return a signed access token and its `jti`."""
    key = _signing_key()
    now = int(time.time())
    jti = jti or str(uuid.uuid4())
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": subject,
        "aud": _audience(resources),
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": jti,
    }
    if auth_time is not None:
        claims["auth_time"] = auth_time
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key.thumbprint()}
    token = jwt.JWT(header=header, claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize(), jti


def _requested_resources(request: Any) -> list[str]:
    resource = getattr(request, "resource", None)
    if isinstance(resource, str):
        return [resource] if resource.strip() else []
    return list(resource or [])


def generate_access_token(request: Any, refresh_token: bool = False) -> str:  # noqa: FBT001, FBT002 - oauthlib's signature
    """Build the access token of a token response (ACCESS_TOKEN_GENERATOR)."""
    from security.oauth import auth_time_of

    if request.grant_type == "client_credentials":
        user = request.client.service_account
    else:
        user = request.user
    auth_time = auth_time_of(request)
    request.auth_time = auth_time
    token, jti = encode_access_token(
        subject=str(user.pk),
        client_id=request.client.client_id,
        scopes=request.scopes,
        lifetime_seconds=int(request.expires_in),
        auth_time=int(auth_time.timestamp()) if auth_time else None,
        resources=_requested_resources(request),
    )
    request.access_token_jti = jti
    return token
