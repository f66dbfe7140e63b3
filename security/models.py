"""The user and OAuth 2 models that the security layer owns.

The user model and django-oauth-toolkit's swappable models live here from the
first migration, because swapping either later means rewriting every foreign
key that points at them. The extra fields carry what the authentication and
authorization layers decide with:

- a client's allowed and default scopes, its service account, and whether it
  may introspect tokens;
- the time a user last entered a password (`auth_time`) on codes and tokens,
  which refreshing never renews (RFC 9470 step-up);
- the start of a refresh-token family, for an absolute lifetime.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)


class User(AbstractUser):
    """A person, or a service account that an OAuth client acts as."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        help_text=_("Acts for an OAuth client; never signs in with a password."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


def _split_scopes(value: str) -> list[str]:
    return [scope for scope in value.split() if scope]


class Application(AbstractApplication):
    """An OAuth 2 client, limited to the scopes it was registered for."""

    allowed_scopes = models.CharField(
        _("allowed scopes"),
        max_length=255,
        default="read",
        help_text=_("Space-separated; a request for any other scope is refused."),
    )
    default_scopes = models.CharField(
        _("default scopes"),
        max_length=255,
        default="read",
        help_text=_("Granted when a request names no scope."),
    )
    service_account = models.ForeignKey(
        "security.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_applications",
        verbose_name=_("service account"),
        help_text=_("The user a client-credentials token acts as."),
    )
    is_resource_server = models.BooleanField(
        _("resource server"),
        default=False,
        help_text=_("May introspect tokens (RFC 7662)."),
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    @property
    def allowed_scope_list(self) -> list[str]:
        return _split_scopes(self.allowed_scopes)

    @property
    def default_scope_list(self) -> list[str]:
        return _split_scopes(self.default_scopes)


class Grant(AbstractGrant):
    """An authorization code, with when its user last gave a password."""

    # TODO(oauth): the code itself is stored in clear (as django-oauth-toolkit
    # looks it up), for at most its 60-second life; a database copy taken in
    # that minute holds usable codes (PKCE still protects them). Fix: store a
    # checksum and override the validator's code lookups to use it.

    auth_time = models.DateTimeField(_("authentication time"), null=True, blank=True)

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class AccessToken(AbstractAccessToken):
    """An access token; only its checksum is stored."""

    jti = models.UUIDField(
        _("token id"), default=uuid.uuid4, unique=True, editable=False
    )
    auth_time = models.DateTimeField(_("authentication time"), null=True, blank=True)

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    """A refresh token; rotation keeps `family_started_at` and `auth_time`."""

    auth_time = models.DateTimeField(_("authentication time"), null=True, blank=True)
    family_started_at = models.DateTimeField(
        _("family started at"), null=True, blank=True
    )

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class IDToken(AbstractIDToken):
    """An OpenID Connect ID token."""

    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


class UsedAuthorizationCode(models.Model):
    """The checksum of an exchanged authorization code, to catch its replay.

    django-oauth-toolkit deletes a code when it is exchanged; a second
    exchange then looks like an unknown code. Remembering the checksum and
    the refresh-token family it produced lets the server revoke those tokens
    when the code comes back (RFC 6749 section 10.5).
    """

    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey("security.Application", on_delete=models.CASCADE)
    user = models.ForeignKey("security.User", on_delete=models.CASCADE, null=True)
    token_family = models.UUIDField(null=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"code used {self.used_at:%Y-%m-%d %H:%M:%S}"
