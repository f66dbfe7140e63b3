"""Bearer-token authentication for the API, from the Authorization header only.

Guarantees:
- a token is accepted only in `Authorization: Bearer` (RFC 6750 section 2.1);
  an `access_token` in the query string or a form body makes the request a
  401 even beside a valid header (RFC 9700 section 4.3.2);
- the body is never parsed here, so a malformed body can't pre-empt the 401;
- every token is looked up in the database by its checksum on every request,
  so revocation, expiry and a deactivated user take effect at once;
- the token's value never appears in a log line or an error.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_access_token_model
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from security.conf import security_settings
from security.exceptions import InvalidToken

if TYPE_CHECKING:
    from rest_framework.request import Request

TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def token_checksum(token: str) -> str:
    """Return the checksum under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_MULTIPART_TOKEN = re.compile(
    rb"content-disposition:[^\r\n]*\bname=\"?access_token\"?", re.IGNORECASE
)


def _token_outside_header(request: Request) -> bool:
    """Tell whether a token was sent where RFC 9700 forbids it.

    Form bodies are scanned as raw bytes, never handed to a parser, so a
    malformed body can't turn this check into an error.
    """
    django_request = request._request
    if TOKEN_PARAMETER in django_request.GET:
        return True
    content_type = django_request.META.get("CONTENT_TYPE", "").lower()
    if not content_type.startswith(_FORM_TYPES):
        return False
    try:
        body = django_request.body
    except Exception:  # an unreadable or oversized body is judged later
        return False
    if content_type.startswith("multipart/"):
        return _MULTIPART_TOKEN.search(body) is not None
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    return any(key == TOKEN_PARAMETER for key, _value in pairs)


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate a request by the OAuth 2 access token in its header.

    No header: anonymous (the policy then answers 401 `not_authenticated`).
    A token that is unknown, expired, revoked, for an inactive user, or sent
    outside the header: 401 `invalid_token`.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if _token_outside_header(request):
            request._bearer_error = "invalid_request"  # type: ignore[attr-defined]
            raise InvalidToken(
                _("Send the access token in the Authorization header only.")
            )

        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        if header[:6].lower() != "bearer":
            return None
        # RFC 6750 section 2.1: "Bearer", one or more spaces, the token.
        scheme, _sep, credentials = header.partition(" ")
        token = credentials.strip(" ")
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            raise InvalidToken

        access_token = (
            get_access_token_model()
            .objects.select_related("user", "application")
            .filter(token_checksum=token_checksum(token))
            .first()
        )
        if access_token is None or access_token.expires <= timezone.now():
            raise InvalidToken
        user = access_token.user
        if user is None or not user.is_active:
            raise InvalidToken
        audiences = access_token.resource or []
        if audiences and security_settings.API_AUDIENCE not in audiences:
            # A token minted for another service (RFC 8707) is not ours.
            raise InvalidToken
        if access_token.application is not None:
            # For the audit trail and the logs: which client acted.
            request._request.oauth_client_id = (  # type: ignore[attr-defined]
                access_token.application.client_id
            )
        return user, access_token

    def authenticate_header(self, request: Request) -> str:
        error = getattr(request, "_bearer_error", None)
        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        if error is None and header.lower().startswith("bearer"):
            error = "invalid_token"
        challenge = f'Bearer realm="{self.www_authenticate_realm}"'
        if error:
            challenge += f', error="{error}"'
        return challenge


class AdminSessionAuthentication(SessionAuthentication):
    """The admin login session, for the schema in production.

    Answers 401 (not 403) without one, as the contract says, with a
    challenge that names the admin login.
    """

    def authenticate_header(self, request: Request) -> str:
        return 'Session realm="admin"'


class DevelopmentSessionAuthentication(SessionAuthentication):
    """The admin login session, for the browsable API in development only.

    Listed only by `project.settings.development`; a session is treated as
    holding `SECURITY["SESSION_SCOPES"]`.
    """
