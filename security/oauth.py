"""Per-client scopes and the OAuth 2 validator the authorization server uses.

Guarantees, on top of django-oauth-toolkit's RFC 9700 settings:
- a client may ask only for the scopes it is registered for
  (`Application.allowed_scopes`); anything else is `invalid_scope`, and a
  request that names no scope gets the client's own defaults (OWASP ASVS
  10.4.11);
- a client-credentials token acts as the client's service account and
  carries no more than the client's allowed scopes;
- every code and token records `auth_time`, the moment its user last
  entered a password; refreshing copies it and never renews it, so a
  step-up check (RFC 9470) can't be satisfied by refreshing;
- a refresh-token family dies at an absolute age, however often it is
  refreshed (OWASP ASVS 10.4.8);
- a replayed refresh token revokes its whole family, and a replayed
  authorization code revokes every token of its first exchange (RFC 6749
  section 10.5), each with a signal and a security event.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone
from oauth2_provider import oauth2_validators
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749.utils import scope_to_list
from oauthlib.openid import Server as OpenIDServer

from security import signals
from security.conf import security_settings
from security.events import emit


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Server(OpenIDServer):
    """oauthlib's server with only the grants and response types offered here.

    The password, implicit and device grants are not merely refused for
    each client: they do not exist, so their endpoints answer
    `unsupported_grant_type` / `unsupported_response_type` before any
    credential is looked at (a password grant that checked the password
    first would be a password oracle).
    """

    GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
    RESPONSE_TYPES = ("code",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # oauthlib is untyped; read through getattr so mypy needs no guess.
        grants: dict[str, Any] = getattr(self, "_grant_types")  # noqa: B009
        responses: dict[str, Any] = getattr(self, "_response_types")  # noqa: B009
        self._grant_types = {k: v for k, v in grants.items() if k in self.GRANT_TYPES}
        self._response_types = {
            k: v for k, v in responses.items() if k in self.RESPONSE_TYPES
        }


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


def auth_time_of(request: Any) -> Any:
    """Return when the user behind a token request last entered a password."""
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


def revoke_family(family: Any) -> int:
    """Revoke a family's refresh tokens and delete their access tokens."""
    refresh_model = get_refresh_token_model()
    access_ids = list(
        refresh_model.objects.filter(token_family=family)
        .exclude(access_token=None)
        .values_list("access_token_id", flat=True)
    )
    _deleted, _ = get_access_token_model().objects.filter(pk__in=access_ids).delete()
    refresh_model.objects.filter(token_family=family, revoked=None).update(
        revoked=timezone.now()
    )
    return len(access_ids)


# TODO(oauth): tokens are bearer tokens; a stolen refresh token works until
# its family is caught by reuse detection. Fix: sender-constrained tokens
# (DPoP, RFC 9449) once django-oauth-toolkit supports them.
class OAuth2Validator(oauth2_validators.OAuth2Validator):
    """DOT's validator with service accounts, `auth_time`, replay defence."""

    # ---- issuing --------------------------------------------------------

    def _create_access_token(
        self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None
    ) -> Any:
        if request.grant_type == "client_credentials":
            request.user = request.client.service_account
        access_token = super()._create_access_token(
            expires, request, token, source_refresh_token=source_refresh_token
        )
        access_token.auth_time = getattr(request, "auth_time", None)
        fields = ["auth_time"]
        jti = getattr(request, "access_token_jti", None)
        if jti:
            access_token.jti = jti
            fields.append("jti")
        access_token.save(update_fields=fields)
        return access_token

    def _create_authorization_code(
        self, request: Any, code: Any, expires: Any = None
    ) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        # The session's own login time (security.authorize); last_login is
        # the latest login anywhere and only a fallback.
        session_time = getattr(request, "auth_time", None)
        if session_time is not None:
            grant.auth_time = datetime.fromtimestamp(float(session_time), tz=UTC)
        else:
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

    def _save_bearer_token(
        self, token: Any, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        grant_type = request.grant_type
        code = getattr(request, "code", None)
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        user_id = str(request.user.pk) if request.user is not None else None
        client_id = request.client.client_id
        jti = getattr(request, "access_token_jti", None)
        if grant_type == "authorization_code" and code:
            self._remember_code(code, request)
        if grant_type == "refresh_token":
            signals.token_refreshed.send(
                sender=type(self), user_id=user_id, client_id=client_id, jti=jti
            )
            emit("oauth.token_refreshed", actor_id=user_id, client_id=client_id)
        else:
            signals.token_issued.send(
                sender=type(self),
                user_id=user_id,
                client_id=client_id,
                grant_type=grant_type,
                jti=jti,
            )
            emit(
                "oauth.token_issued",
                actor_id=user_id,
                client_id=client_id,
                reason=grant_type,
            )
        return result

    # ---- authorization codes --------------------------------------------

    def _remember_code(self, code: str, request: Any) -> None:
        from security.models import UsedAuthorizationCode

        family = (
            get_refresh_token_model()
            .objects.filter(
                access_token__jti=getattr(request, "access_token_jti", None)
            )
            .values_list("token_family", flat=True)
            .first()
        )
        # Codes live a minute; a day of memory catches any replay that matters.
        UsedAuthorizationCode.objects.filter(
            used_at__lt=timezone.now() - timedelta(days=1)
        ).delete()
        UsedAuthorizationCode.objects.create(
            code_checksum=_checksum(code),
            application=request.client,
            user=request.user,
            token_family=family,
        )

    def validate_code(
        self,
        client_id: Any,
        code: Any,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        valid: bool = super().validate_code(
            client_id, code, client, request, *args, **kwargs
        )
        if not valid:
            self._on_replayed_code(code, client)
        return valid

    def _on_replayed_code(self, code: str, client: Any) -> None:
        from security.models import UsedAuthorizationCode

        used = UsedAuthorizationCode.objects.filter(
            code_checksum=_checksum(code), application=client
        ).first()
        if used is None:
            return
        count = revoke_family(used.token_family) if used.token_family else 0
        user_id = str(used.user_id) if used.user_id else None
        signals.code_replayed.send(
            sender=type(self), user_id=user_id, client_id=client.client_id, count=count
        )
        emit(
            "oauth.code_replayed",
            level="warning",
            actor_id=user_id,
            client_id=client.client_id,
            count=count,
        )

    # ---- refresh tokens -------------------------------------------------

    def validate_refresh_token(
        self, refresh_token: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        refresh_model = get_refresh_token_model()
        presented = (
            refresh_model.objects.filter(token_checksum=_checksum(refresh_token))
            .order_by(F("revoked").desc(nulls_first=True))
            .first()
        )
        valid: bool = super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        )
        if not valid:
            if presented is not None and presented.revoked is not None:
                self._on_reused_refresh_token(presented)
            return False

        started = request.refresh_token_instance.family_started_at
        limit = timedelta(seconds=security_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME)
        return not (started is not None and started + limit <= timezone.now())

    def _on_reused_refresh_token(self, presented: Any) -> None:
        if presented.token_family:
            # DOT has already revoked the family's refresh tokens; their
            # access tokens go too, so the stolen branch stops at once.
            revoke_family(presented.token_family)
        user_id = str(presented.user_id) if presented.user_id else None
        client_id = presented.application.client_id if presented.application else None
        signals.refresh_reuse_detected.send(
            sender=type(self),
            user_id=user_id,
            client_id=client_id,
            family=presented.token_family,
        )
        emit(
            "oauth.refresh_reuse_detected",
            level="warning",
            actor_id=user_id,
            client_id=client_id,
        )

    # ---- revocation -----------------------------------------------------

    def revoke_token(
        self, token: Any, token_type_hint: Any, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        lookup = {
            "token_checksum": _checksum(token),
            "application_id": getattr(request.client, "pk", None),
        }
        owner = (
            get_access_token_model().objects.filter(**lookup).values("user_id").first()
            or get_refresh_token_model()
            .objects.filter(revoked=None, **lookup)
            .values("user_id")
            .first()
        )
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        if lookup["application_id"] is None or owner is None:
            return  # RFC 7009 2.2: an unknown token is answered alike, silently.
        user_id = str(owner["user_id"]) if owner["user_id"] else None
        client_id = request.client.client_id
        signals.tokens_revoked.send(
            sender=type(self),
            user_id=user_id,
            client_id=client_id,
            count=1,
            reason="revocation_endpoint",
        )
        emit(
            "oauth.token_revoked",
            actor_id=user_id,
            client_id=client_id,
            reason="revocation_endpoint",
        )

    # ---- grants never offered -------------------------------------------

    def validate_user(self, *args: Any, **kwargs: Any) -> bool:
        """Refuse every password grant without checking the password."""
        return False

    def validate_silent_login(self, request: Any) -> bool:
        """`prompt=none` gets `login_required`: the user is always asked."""
        return False

    def validate_silent_authorization(self, request: Any) -> bool:
        """`prompt=none` gets `consent_required` (OpenID Connect 3.1.2.6)."""
        return False

    def validate_grant_type(
        self,
        client_id: Any,
        grant_type: Any,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if grant_type == "client_credentials" and client.client_type != "confidential":
            # RFC 6749 section 4.4: confidential clients only; a public one
            # would get a token for an empty secret.
            return False
        valid: bool = super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs
        )
        return valid

    def get_original_scopes(
        self, refresh_token: Any, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Refreshing never yields a scope the client is no longer allowed."""
        original = super().get_original_scopes(refresh_token, request, *args, **kwargs)
        allowed = set(request.client.allowed_scope_list)
        return [scope for scope in scope_to_list(original) or [] if scope in allowed]

    def get_id_token_dictionary(
        self, token: Any, token_handler: Any, request: Any
    ) -> Any:
        claims, expiration = super().get_id_token_dictionary(
            token, token_handler, request
        )
        auth_time = getattr(request, "auth_time", None)
        if auth_time is not None:
            # The authentication the tokens stem from, never a later login.
            claims["auth_time"] = int(auth_time.timestamp())
        return claims, expiration

    # ---- scopes and claims ----------------------------------------------

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
        valid: bool = super().validate_scopes(
            client_id, scopes, client, request, *args, **kwargs
        )
        return valid

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "name": user.display_name or user.get_username(),
            "preferred_username": user.get_username(),
            "email": user.email,
        }
