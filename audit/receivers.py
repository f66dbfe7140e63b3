"""Signal receivers that turn what happens into audit events.

Connected in `AuditConfig.ready()`. Authentication, token and denial
events are durable (recorded even when the request rolls back); privilege
changes are transactional. Repeated denials and rejected input from one
source are aggregated: one event per source and window, carrying how many
the previous window suppressed, so a flood of bad requests can't become a
flood of chained writes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import (
    get_user_model,
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from audit.alerts import send_alert
from audit.conf import audit_settings
from audit.services import record_event
from security import signals
from security.context import get_current_request
from security.network import get_client_ip

User = get_user_model()
logger = logging.getLogger("audit")


# ---------------------------------------------------------------------------
# Logins
# ---------------------------------------------------------------------------


@receiver(user_logged_in)
def _login_succeeded(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event("authn.login_succeeded", durable=True, actor=user, target=user)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Django masks the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    record_event(
        "authn.login_failed",
        durable=True,
        outcome="failure",
        actor_id=None,
        details={"username": username},
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event("authn.logout", durable=True, actor=user, target=user)


# ---------------------------------------------------------------------------
# OAuth
# ---------------------------------------------------------------------------


def _oauth(
    action: str,
    user_id: Any,
    client_id: Any,
    *,
    aggregate: bool = False,
    **details: Any,
) -> None:
    username = (
        User._default_manager.filter(pk=user_id)
        .values_list("username", flat=True)
        .first()
        if user_id
        else None
    )
    fields = {
        "actor_id": user_id,
        "actor_username": username or "",
        "client_id": client_id or "",
        "target_type": "security.accesstoken" if user_id else "",
        "details": {k: str(v) for k, v in details.items() if v is not None},
    }
    if aggregate:
        # Replays come in floods: one event (and one alert) per window.
        record_aggregated(action, **fields)
        return
    record_event(action, durable=True, outcome="success", **fields)


@receiver(signals.token_issued)
def _token_issued(sender: Any, user_id: Any, client_id: Any, **kw: Any) -> None:
    _oauth(
        "oauth.token_issued",
        user_id,
        client_id,
        grant_type=kw.get("grant_type"),
        jti=kw.get("jti"),
    )


@receiver(signals.token_refreshed)
def _token_refreshed(sender: Any, user_id: Any, client_id: Any, **kw: Any) -> None:
    _oauth("oauth.token_refreshed", user_id, client_id, jti=kw.get("jti"))


@receiver(signals.tokens_revoked)
def _tokens_revoked(sender: Any, user_id: Any, client_id: Any, **kw: Any) -> None:
    _oauth(
        "oauth.token_revoked",
        user_id,
        client_id,
        count=kw.get("count"),
        reason=kw.get("reason"),
    )


@receiver(signals.refresh_reuse_detected)
def _reuse(sender: Any, user_id: Any, client_id: Any, **kw: Any) -> None:
    _oauth(
        "oauth.refresh_reuse_detected",
        user_id,
        client_id,
        aggregate=True,
        family=kw.get("family"),
    )


@receiver(signals.code_replayed)
def _code_replayed(sender: Any, user_id: Any, client_id: Any, **kw: Any) -> None:
    _oauth(
        "oauth.code_replayed",
        user_id,
        client_id,
        aggregate=True,
        revoked=kw.get("count"),
    )


# ---------------------------------------------------------------------------
# Denials and rejected input, aggregated per source
# ---------------------------------------------------------------------------


def _source() -> str:
    request = get_current_request()
    if request is None:
        return "-"
    user: Any = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{get_client_ip(request)}"


def record_aggregated(action: str, **fields: Any) -> None:
    """Record the first event of a window per source; count the rest."""
    window = int(audit_settings.AGGREGATE_SECONDS)
    key = f"audit:aggregate:{action}:{_source()}"
    details = fields.pop("details", {})
    try:
        previous = _count_in_window(key, window)
    except Exception:
        # The cache is down: record every event rather than fail the request
        # (docs/rate-limiting.md: never a 500) or lose the record.
        logger.warning("audit_aggregation_unavailable", exc_info=True)
        previous = None
    else:
        if previous is False:
            return
    if previous:
        details["suppressed_in_previous_window"] = int(previous) - 1
    record_event(action, durable=True, outcome="failure", details=details, **fields)


def _count_in_window(key: str, window: int) -> Any:
    """Count one more event; False when it falls in a window already recorded.

    Otherwise return the previous window's count (or None).
    """
    if window and not cache.add(key, 1, timeout=window):
        try:
            count = cache.incr(key)
        except ValueError:  # the window closed meanwhile
            cache.add(key, 1, timeout=window)
            count = 1
        cache.set(f"{key}:last", count, timeout=window * 3)
        return False
    previous = cache.get(f"{key}:last")
    cache.delete(f"{key}:last")
    return previous


@receiver(signals.access_denied)
def _access_denied(sender: Any, **kw: Any) -> None:
    record_aggregated(
        "authz.denied",
        target_type=kw.get("target_type", ""),
        target_id=kw.get("target_id", ""),
        details={
            "status": kw.get("status"),
            "code": kw.get("code"),
            "operation": kw.get("operation"),
            "rule": kw.get("rule"),
        },
    )


@receiver(signals.rate_limited)
def _rate_limited(sender: Any, **kw: Any) -> None:
    record_aggregated(
        "ratelimit.exceeded",
        details={"scope": kw.get("scope"), "limit": kw.get("limit")},
    )


@receiver(signals.credential_stuffing_suspected)
def _credential_stuffing(sender: Any, **kw: Any) -> None:
    details = {"kind": kw.get("kind"), "count": kw.get("count")}
    if kw.get("username"):
        details["username"] = str(kw["username"])[:150]
    if kw.get("ip"):
        details["ip"] = kw["ip"]
    record_event(
        "security.credential_stuffing_suspected",
        durable=True,
        outcome="failure",
        details=details,
    )


@receiver(signals.server_error)
def _server_error(sender: Any, **kw: Any) -> None:
    # An alert, not an audit event: the log has the traceback.
    send_alert(
        "server.error",
        {"exception": kw.get("exception"), "request_id": kw.get("request_id")},
    )


@receiver(signals.input_rejected)
def _input_rejected(sender: Any, **kw: Any) -> None:
    record_aggregated(
        "input.rejected",
        details={"fields": kw.get("fields", []), "codes": kw.get("codes", [])},
    )


# ---------------------------------------------------------------------------
# Privileges: staff, superuser, groups, permissions
# ---------------------------------------------------------------------------

_PRIVILEGE_FLAGS = ("is_staff", "is_superuser")


@receiver(pre_save, sender=User)
def _note_privileges(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance._state.adding or instance.pk is None:
        before = dict.fromkeys(_PRIVILEGE_FLAGS, False)
    else:
        before = (
            sender._default_manager.filter(pk=instance.pk)
            .values(*_PRIVILEGE_FLAGS)
            .first()
            or {}
        )
    instance._audit_privileges = before


@receiver(post_save, sender=User)
def _privileges_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    before = getattr(instance, "_audit_privileges", None) or {}
    changes = {
        flag: [bool(before.get(flag)), getattr(instance, flag)]
        for flag in _PRIVILEGE_FLAGS
        if bool(before.get(flag)) != getattr(instance, flag)
    }
    if changes:
        record_event(
            "user.privilege_changed",
            target=instance,
            details=changes,
            critical=any(new for _old, new in changes.values()),
        )


def _m2m_names(model: Any, pks: Any) -> list[str]:
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(
        f"{app}.{codename}"
        for app, codename in model.objects.filter(pk__in=pks).values_list(
            "content_type__app_label", "codename"
        )
    )


def _membership_changed(
    sender: Any, instance: Any, action: str, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    field = "groups" if model is Group else "permissions"
    details = {
        "change": action.removeprefix("post_"),
        field: _m2m_names(model, pk_set or []),
    }
    record_event(
        "user.privilege_changed",
        target=instance,
        details=details,
        critical=action == "post_add",
    )


m2m_changed.connect(
    _membership_changed, sender=User.groups.through, dispatch_uid="audit:user-groups"
)
m2m_changed.connect(
    _membership_changed,
    sender=User.user_permissions.through,
    dispatch_uid="audit:user-permissions",
)
m2m_changed.connect(
    _membership_changed,
    sender=Group.permissions.through,
    dispatch_uid="audit:group-permissions",
)
