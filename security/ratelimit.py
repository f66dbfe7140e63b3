"""Rate limits shared by every process, and credential-stuffing defence.

Counting is django-ratelimit's (`get_usage`), in the cache named by
`RATELIMIT_USE_CACHE` (Redis in every real deployment), so a limit holds
whichever process or machine serves the request. Keys are built here, from
the client address as `security.network` derives it (never from a header
the client controls) and from the authenticated user or client.

Guarantees:
- API (`PolicyViewSet`): a request without valid credentials counts against
  its address (60/min by default) when authentication fails, and a flood of
  bad tokens is refused with 429 before 401; an authenticated one counts
  against its user, reads and writes apart (600/120 per minute), plus any
  tighter limit its viewset declares for the operation (`rate_limits`).
  Every API response carries `RateLimit-Limit`, `RateLimit-Remaining` and
  `RateLimit-Reset` for the limit with the fewest requests left.
- Login and token endpoints (`AuthRateLimitMiddleware`): every attempt
  counts per address (20/min); failures count per (address, username or
  client id) (5/min). Failures for many usernames from one address block
  that address for a while and raise an alert; many failures for one
  username from anywhere raise an alert but never lock the account, so
  nobody can lock a user out.
- When the cache is unreachable (refused, timed out, dropped mid-request)
  the login and token endpoints fail closed (503) and the API fails open,
  logging the failure once per interval; `SECURITY["RATE_LIMIT_FAIL_OPEN"]`
  chooses for the API. Never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import logging
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage
from rest_framework import exceptions, status

from security import signals
from security.conf import security_settings
from security.events import emit
from security.exceptions import ServiceUnavailable
from security.network import get_client_ip

logger = logging.getLogger(__name__)

USAGES_ATTRIBUTE = "_rate_limit_usages"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateLimited(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many requests; retry after the time in Retry-After.")
    default_code = "rate_limited"

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.wait = max(1, wait)


class LimitStoreUnavailableError(Exception):
    """The cache that holds the counters could not be reached."""


@dataclass(frozen=True)
class Usage:
    name: str
    limit: int
    remaining: int
    reset: int
    exceeded: bool


def _rate(name: str) -> str:
    rate: str = security_settings.RATE_LIMITS[name]
    return rate


def _store() -> Any:
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def usage(
    request: HttpRequest, name: str, key: str, *, increment: bool = True
) -> Usage:
    """Count (or read) one limit for one key, in the shared store."""
    rate = _rate(name)
    try:
        result = get_usage(
            request,
            group=f"secapi:{name}",
            key=lambda group, req: key,
            rate=rate,
            increment=increment,
        )
    except Exception as exc:
        raise LimitStoreUnavailableError from exc
    if result is None:  # RATELIMIT_ENABLE is off
        return Usage(name, 0, 0, 0, exceeded=False)
    if result["time_left"] == -1 and result["limit"] == 0:
        # django-ratelimit's answer when it could neither add nor increment.
        raise LimitStoreUnavailableError
    remaining = max(0, int(result["limit"]) - int(result["count"]))
    return Usage(
        name,
        limit=int(result["limit"]),
        remaining=remaining,
        reset=max(0, int(result["time_left"])),
        exceeded=bool(result["should_limit"]),
    )


_last_failure_log = {"at": 0.0}


def _log_store_failure(where: str) -> None:
    """Log an unreachable limit store at most once per interval."""
    now = time.monotonic()
    interval = float(security_settings.RATE_LIMIT_FAILURE_LOG_SECONDS)
    if now - _last_failure_log["at"] >= interval:
        _last_failure_log["at"] = now
        logger.error("ratelimit_store_unavailable", extra={"reason": where})


def _refuse(request: Any, used: Usage, scope: str) -> RateLimited:
    signals.rate_limited.send(sender=RateLimited, scope=scope, limit=used.name)
    emit("ratelimit.exceeded", level="warning", reason=used.name, path=request.path)
    return RateLimited(wait=used.reset)


def _remember(request: Any, used: Usage) -> None:
    usages = getattr(request, USAGES_ATTRIBUTE, None)
    if usages is None:
        usages = []
        setattr(request, USAGES_ATTRIBUTE, usages)
    usages.append(used)


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


def limit_unauthenticated(request: Any) -> None:
    """Count a request without valid credentials against its address."""
    django_request = getattr(request, "_request", request)
    try:
        ip = get_client_ip(django_request)
        used = usage(django_request, "api_anonymous_ip", address_key(ip))
    except LimitStoreUnavailableError:
        _api_store_failure()
        return
    _remember(django_request, used)
    if used.exceeded:
        raise _refuse(django_request, used, "ip")


def limit_authenticated(
    request: Any, operation_rate: str | None = None, operation: str = ""
) -> None:
    """Count an authenticated request against its user, and its operation."""
    django_request = getattr(request, "_request", request)
    who = f"user:{request.user.pk}"
    kind = "api_read" if django_request.method in _SAFE_METHODS else "api_write"
    try:
        used = [usage(django_request, kind, who)]
        if operation_rate:
            used.append(usage(django_request, operation_rate, f"{who}:{operation}"))
    except LimitStoreUnavailableError:
        _api_store_failure()
        return
    for item in used:
        _remember(django_request, item)
    for item in used:
        if item.exceeded:
            raise _refuse(django_request, item, "user")


def _api_store_failure() -> None:
    _log_store_failure("api")
    if not security_settings.RATE_LIMIT_FAIL_OPEN:
        raise ServiceUnavailable


def add_headers(request: Any, response: HttpResponse) -> None:
    """Set RateLimit-* for the limit with the fewest requests left."""
    django_request = getattr(request, "_request", request)
    usages: list[Usage] = getattr(django_request, USAGES_ATTRIBUTE, None) or []
    counted = [u for u in usages if u.limit]
    if not counted:
        return
    tightest = min(counted, key=lambda u: (u.remaining, u.reset))
    response["RateLimit-Limit"] = str(tightest.limit)
    response["RateLimit-Remaining"] = str(tightest.remaining)
    response["RateLimit-Reset"] = str(tightest.reset)


# ---------------------------------------------------------------------------
# Login and token endpoints
# ---------------------------------------------------------------------------


def address_key(ip: str) -> str:
    """Return the rate-limit key of an address: an IPv6 client's whole /64.

    One IPv6 host usually holds a whole /64; counting its addresses one by
    one would let it rotate through fresh counters.
    """
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:24]


def _client_id(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        # RFC 6749 section 2.3.1: form-encoded, as the OAuth server reads it.
        return unquote_plus(decoded.partition(":")[0])
    return str(request.POST.get("client_id", ""))


@dataclass(frozen=True)
class GuardedEndpoint:
    path: str
    subject: Callable[[HttpRequest], str]
    failed: Callable[[HttpResponse], bool]
    oauth: bool


def _login_failed(response: HttpResponse) -> bool:
    # The login views redirect on success and show the form again otherwise.
    return response.status_code != 302


def _oauth_failed(response: HttpResponse) -> bool:
    return response.status_code >= 400


def guarded_endpoints() -> list[GuardedEndpoint]:
    def username(request: HttpRequest) -> str:
        # As Django's login form sees it (stripped, NFKC): every spelling
        # that reaches one account shares its counter.
        raw = str(request.POST.get("username", ""))
        return unicodedata.normalize("NFKC", raw.strip())[:150]

    admin_login = f"/{settings.ADMIN_URL}login/"
    login_paths = [
        settings.LOGIN_URL,
        admin_login,
        *security_settings.EXTRA_LOGIN_PATHS,
    ]
    return [
        *(
            GuardedEndpoint(path, username, _login_failed, oauth=False)
            for path in login_paths
        ),
        *(
            GuardedEndpoint(path, _client_id, _oauth_failed, oauth=True)
            for path in ("/o/token/", "/o/revoke_token/", "/o/introspect/")
        ),
    ]


def _refusal(endpoint: GuardedEndpoint, wait: int) -> HttpResponse:
    if endpoint.oauth:
        response: HttpResponse = JsonResponse({"error": "rate_limited"}, status=429)
    else:
        response = HttpResponse(
            "Too many attempts. Try again later.", status=429, content_type="text/plain"
        )
    response["Retry-After"] = str(max(1, wait))
    return response


def _unavailable(endpoint: GuardedEndpoint) -> HttpResponse:
    if endpoint.oauth:
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    return HttpResponse(
        "Signing in is temporarily unavailable.", status=503, content_type="text/plain"
    )


def _cache_call(method: str, *args: Any) -> Any:
    try:
        return getattr(_store(), method)(*args)
    except Exception as exc:
        raise LimitStoreUnavailableError from exc


def _blocked_for(ip: str) -> int:
    until = _cache_call("get", f"secapi:blocked:{address_key(ip)}")
    return max(0, int(until - time.time())) if until else 0


def _record_failure(request: HttpRequest, ip: str, subject: str) -> None:
    usage(request, "auth_failures", f"{ip}|{_digest(subject)}")
    _detect_stuffing_from_address(ip, subject)
    _detect_attack_on_username(request, subject)


# TODO(ratelimit): the set of usernames per address is read and written
# without a lock, so two concurrent failures may count once. It is a
# detection threshold, not a limit. Fix: a Redis set (SADD, SCARD) through
# django-redis's raw client.
def _detect_stuffing_from_address(ip: str, subject: str) -> None:
    key = f"secapi:subjects:{address_key(ip)}"
    window = int(security_settings.STUFFING_WINDOW_SECONDS)
    subjects = set(_cache_call("get", key) or ())
    subjects.add(_digest(subject))
    _cache_call("set", key, sorted(subjects), window)
    if len(subjects) < int(security_settings.STUFFING_DISTINCT_USERNAMES):
        return
    block = int(security_settings.STUFFING_BLOCK_SECONDS)
    if _cache_call(
        "add", f"secapi:blocked:{address_key(ip)}", time.time() + block, block
    ):
        signals.credential_stuffing_suspected.send(
            sender=GuardedEndpoint, kind="address", ip=ip, count=len(subjects)
        )
        emit(
            "security.credential_stuffing_suspected",
            level="warning",
            ip=ip,
            count=len(subjects),
            reason="many usernames from one address",
        )


def _detect_attack_on_username(request: HttpRequest, subject: str) -> None:
    if not subject:
        return
    used = usage(request, "auth_username_alert", f"subject:{_digest(subject)}")
    if used.limit and used.remaining == 0 and not used.exceeded:
        # Exactly at the threshold: alert once per window. The account is
        # never locked (an attacker could lock anyone out otherwise).
        signals.credential_stuffing_suspected.send(
            sender=GuardedEndpoint, kind="username", username=subject, count=used.limit
        )
        emit(
            "security.credential_stuffing_suspected",
            level="warning",
            count=used.limit,
            reason="many failures for one username",
        )


class AuthRateLimitMiddleware:
    """Limit the login and token endpoints; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = self._endpoint(request)
        if endpoint is None:
            return self.get_response(request)
        ip = get_client_ip(request)
        subject = endpoint.subject(request)
        try:
            blocked = _blocked_for(ip)
            if blocked:
                return _refusal(endpoint, blocked)
            every = usage(request, "auth_ip", address_key(ip))
            failures = usage(
                request, "auth_failures", f"{ip}|{_digest(subject)}", increment=False
            )
        except LimitStoreUnavailableError:
            _log_store_failure("auth")
            return _unavailable(endpoint)
        # Failures are read, not counted, here: the next one is refused
        # once the allowance is used up.
        failures_used_up = failures.limit and failures.remaining == 0
        for used, over in ((every, every.exceeded), (failures, failures_used_up)):
            if over:
                refused = _refuse(request, used, "auth")
                return _refusal(endpoint, refused.wait)

        response = self.get_response(request)
        if endpoint.failed(response):
            try:
                _record_failure(request, ip, subject)
            except LimitStoreUnavailableError:
                _log_store_failure("auth")
        return response

    @staticmethod
    def _endpoint(request: HttpRequest) -> GuardedEndpoint | None:
        if request.method != "POST":
            return None
        for endpoint in guarded_endpoints():
            if request.path == endpoint.path:
                return endpoint
        return None
