"""End a user's tokens when their account is disabled or password changes.

Guarantees (OWASP ASVS 7.4.2): saving a user with `is_active` turned off, or
with a new password hash, deletes every access token and revokes every
refresh token of that user in the same transaction, whatever made the change
(API, admin, `changepassword`, a script using the ORM's `save()`). Deleting
a user deletes their tokens through the foreign keys.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, user_logged_in
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from security import signals
from security.authorize import SESSION_AUTH_TIME
from security.events import emit

_REASON = "_token_revocation_reason"


def revoke_user_tokens(user_id: Any, *, reason: str) -> int:
    """Delete a user's access tokens and revoke their refresh tokens."""
    count, _ = get_access_token_model().objects.filter(user_id=user_id).delete()
    # A code not yet exchanged would otherwise still become a token.
    get_grant_model().objects.filter(user_id=user_id).delete()
    get_refresh_token_model().objects.filter(user_id=user_id, revoked=None).update(
        revoked=timezone.now()
    )
    return count


@receiver(user_logged_in)
def _remember_login_time(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Note in the session when its user entered the password (step-up)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_TIME] = timezone.now().timestamp()


@receiver(pre_save, sender=get_user_model())
def _note_credential_change(instance: Any, **kwargs: Any) -> None:
    if instance._state.adding or instance.pk is None:
        return
    before = (
        type(instance)
        ._default_manager.filter(pk=instance.pk)
        .values("is_active", "password")
        .first()
    )
    if before is None:
        return
    if before["is_active"] and not instance.is_active:
        setattr(instance, _REASON, "user_deactivated")
    elif before["password"] != instance.password:
        # Also true when Django upgrades a hash at login (new hasher
        # parameters); ending sessions then is the safe side of the doubt.
        setattr(instance, _REASON, "password_changed")


@receiver(post_save, sender=get_user_model())
def _revoke_on_credential_change(instance: Any, **kwargs: Any) -> None:
    reason = getattr(instance, _REASON, None)
    if reason is None:
        return
    delattr(instance, _REASON)
    count = revoke_user_tokens(instance.pk, reason=reason)
    signals.tokens_revoked.send(
        sender=type(instance),
        user_id=str(instance.pk),
        client_id=None,
        count=count,
        reason=reason,
    )
    emit("oauth.token_revoked", actor_id=str(instance.pk), count=count, reason=reason)
