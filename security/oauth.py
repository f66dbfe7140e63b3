"""Per-client scopes and the OAuth 2 validator the authorization server uses.

Guarantees:
- a client may ask only for the scopes it is registered for
  (`Application.allowed_scopes`); anything else is `invalid_scope`, and a
  request that names no scope gets the client's own defaults (OWASP ASVS
  10.4.11);
- a client-credentials token acts as the client's service account and
  carries no more than the client's allowed scopes;
- every code and token records `auth_time`, the moment its user last
  entered a password; refreshing copies it and never renews it, so a
  step-up check (RFC 9470) can't be satisfied by refreshing.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from oauth2_provider import oauth2_validators
from oauth2_provider.models import get_grant_model
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings


class ApplicationScopes(BaseScopes):
    """Scopes limited per application."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(oauth2_settings.SCOPES)

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return []
        known = self.get_all_scopes()
        return [scope for scope in application.allowed_scope_list if scope in known]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        available = set(self.get_available_scopes(application, request))
        if application is None:
            return []
        return [scope for scope in application.default_scope_list if scope in available]


class OAuth2Validator(oauth2_validators.OAuth2Validator):
    """DOT's validator, with service accounts and `auth_time`."""

    def _auth_time(self, request: Any) -> Any:
        grant_type = getattr(request, "grant_type", None)
        if grant_type == "authorization_code":
            grant = (
                get_grant_model()
                .objects.filter(code=request.code, application=request.client)
                .only("auth_time")
                .first()
            )
            return grant.auth_time if grant else None
        if grant_type == "refresh_token":
            previous = getattr(request, "refresh_token_instance", None)
            return previous.auth_time if previous is not None else None
        # Client credentials: the client proved its secret just now.
        return timezone.now()

    def _create_access_token(
        self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None
    ) -> Any:
        if request.grant_type == "client_credentials":
            request.user = request.client.service_account
        request.auth_time = self._auth_time(request)
        access_token = super()._create_access_token(
            expires, request, token, source_refresh_token=source_refresh_token
        )
        access_token.auth_time = request.auth_time
        access_token.save(update_fields=["auth_time"])
        return access_token

    def _create_authorization_code(
        self, request: Any, code: Any, expires: Any = None
    ) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        # last_login is set when the user signs in with their password on the
        # login page; it is the authentication time of this authorization.
        grant.auth_time = request.user.last_login or timezone.now()
        grant.save(update_fields=["auth_time"])
        return grant

    def _create_refresh_token(
        self,
        request: Any,
        refresh_token_code: Any,
        access_token: Any,
        previous_refresh_token: Any,
    ) -> Any:
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        started = (
            previous_refresh_token.family_started_at
            if previous_refresh_token is not None
            else None
        )
        refresh_token.family_started_at = started or timezone.now()
        refresh_token.auth_time = getattr(request, "auth_time", None)
        refresh_token.save(update_fields=["family_started_at", "auth_time"])
        return refresh_token

    def validate_scopes(
        self,
        client_id: Any,
        scopes: Any,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if (
            request.grant_type == "client_credentials"
            and client.service_account is None
        ):
            # A client-credentials client without a service account has no one
            # to act as; refuse rather than mint a token with no user.
            return False
        return super().validate_scopes(
            client_id, scopes, client, request, *args, **kwargs
        )
