"""Typed API errors and the handler that renders them as problem details.

Guarantees: every error that leaves `/api/v1/` is `application/problem+json`
(RFC 9457) with exactly `type`, `title`, `status`, `detail`, `code` and
`request_id`, plus `errors` on a 400 for invalid fields or parameters and the
documented extras (`required_scopes`, `max_age`). No exception text that the
code did not write for a client (SQL, paths, library messages) is ever
rendered: anything unexpected becomes a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from security import signals
from security.context import get_request_id

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


# ---------------------------------------------------------------------------
# Errors of our own
# ---------------------------------------------------------------------------


class InvalidToken(exceptions.AuthenticationFailed):
    default_detail = _("The access token is invalid, expired or revoked.")
    default_code = "invalid_token"


class InsufficientScope(exceptions.PermissionDenied):
    default_detail = _("The access token lacks a scope this operation requires.")
    default_code = "insufficient_scope"

    def __init__(self, required_scopes: Iterable[str]) -> None:
        super().__init__()
        self.required_scopes = sorted(required_scopes)


class ObjectNotVisible(exceptions.NotFound):
    """A 404 because the policy hides the object (or it does not exist)."""


class StepUpRequired(exceptions.APIException):
    """RFC 9470: the operation needs a password entered more recently."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Sign in again: this operation needs a recent login.")
    default_code = "insufficient_user_authentication"

    def __init__(self, max_age: int) -> None:
        super().__init__()
        self.max_age = max_age
        self.auth_header = (
            'Bearer realm="api", error="insufficient_user_authentication", '
            'error_description="A more recent authentication is required", '
            f'max_age="{max_age}"'
        )


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable; retry shortly.")
    default_code = "temporarily_unavailable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than this API accepts.")
    default_code = "payload_too_large"


# DRF's own codes renamed to the contract's vocabulary.
_CODE_ALIASES = {
    "not_authenticated": "not_authenticated",
    "authentication_failed": "invalid_token",
    "not_found": "not_found",
    "permission_denied": "permission_denied",
    "parse_error": "parse_error",
    "unsupported_media_type": "unsupported_media_type",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "throttled": "rate_limited",
}

_GENERIC_DETAIL = {
    status.HTTP_404_NOT_FOUND: _("Not found."),
    status.HTTP_500_INTERNAL_SERVER_ERROR: _(
        "The server could not complete the request."
    ),
}


def problem_body(status_code: int, code: str, detail: str) -> dict[str, Any]:
    """Return the contract's six members of a problem-details body."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": str(detail),
        "code": code,
        "request_id": get_request_id(),
    }


def problem(
    status_code: int,
    code: str,
    detail: str,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return a problem-details response with the contract's six members."""
    body = problem_body(status_code, code, detail)
    body.update(extra or {})
    response = Response(body, status=status_code, headers=dict(headers or {}))
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _flatten_errors(data: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ValidationError detail into `errors` entries."""
    if isinstance(data, Mapping):
        items: list[dict[str, str]] = []
        for key, value in data.items():
            name = key if key != "non_field_errors" else ""
            field = f"{prefix}.{name}" if prefix and name else (name or prefix)
            items.extend(_flatten_errors(value, field))
        return items
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            if isinstance(value, (Mapping, list)):
                items.extend(_flatten_errors(value, f"{prefix}[{index}]"))
            else:
                items.extend(_flatten_errors(value, prefix))
        return items
    code = getattr(data, "code", None) or "invalid"
    return [{"field": prefix, "code": str(code), "detail": str(data)}]


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """Render any exception raised in an API view as problem details.

    The request's transaction is always rolled back first: an error after a
    partial write must leave nothing behind (ATOMIC_REQUESTS alone would
    commit, since the view returns a response).
    """
    from rest_framework.views import set_rollback  # a cycle at import time

    set_rollback()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        logger.warning("suspicious_operation", extra={"reason": type(exc).__name__})
        exc = exceptions.ValidationError(
            {
                "": [
                    exceptions.ErrorDetail(
                        str(_("The request was malformed.")), "invalid"
                    )
                ]
            }
        )

    if isinstance(exc, OperationalError) and _statement_timed_out(exc):
        # The database cut off a query that ran past the statement timeout:
        # the server is overloaded for this request, not broken.
        logger.warning("statement_timeout", extra={"request_id": get_request_id()})
        exc = ServiceUnavailable()

    if not isinstance(exc, exceptions.APIException):
        # The view failed for a reason the client must not learn; the log
        # keeps the traceback, keyed by the request id in the body.
        logger.exception("unhandled_exception", extra={"request_id": get_request_id()})
        signals.server_error.send(
            sender=type(exc), exception=type(exc).__name__, request_id=get_request_id()
        )
        return problem(500, "server_error", str(_GENERIC_DETAIL[500]))

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten_errors(exc.detail)
        _report_rejected_input(errors)
        return problem(
            400,
            "invalid",
            str(_("The request has invalid fields or parameters.")),
            extra={"errors": errors},
            headers=headers,
        )

    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    code = _CODE_ALIASES.get(code, code)
    detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    if exc.status_code in _GENERIC_DETAIL and code == "not_found":
        detail = str(_GENERIC_DETAIL[exc.status_code])

    _report_denial(exc, code, context)

    extra: dict[str, Any] = {}
    if isinstance(exc, InsufficientScope):
        extra["required_scopes"] = exc.required_scopes
        # RFC 6750 section 3.1: name the scope the client must ask for.
        headers["WWW-Authenticate"] = (
            'Bearer realm="api", error="insufficient_scope", '
            f'scope="{" ".join(exc.required_scopes)}"'
        )
    max_age = getattr(exc, "max_age", None)
    if max_age is not None:
        extra["max_age"] = max_age
    return problem(exc.status_code, code, str(detail), extra=extra, headers=headers)


_ATTACK_CODES = frozenset({"unknown_field", "read_only", "not_writable"})


def _report_rejected_input(errors: list[dict[str, str]]) -> None:
    rejected = [e for e in errors if e["code"] in _ATTACK_CODES]
    if rejected:
        signals.input_rejected.send(
            sender=ValidationError,
            fields=sorted({e["field"] for e in rejected}),
            codes=sorted({e["code"] for e in rejected}),
        )


def _report_denial(
    exc: exceptions.APIException, code: str, context: Mapping[str, Any]
) -> None:
    denied = isinstance(
        exc,
        (
            exceptions.NotAuthenticated,
            exceptions.AuthenticationFailed,
            exceptions.PermissionDenied,
            ObjectNotVisible,
            StepUpRequired,
        ),
    )
    if not denied:
        return
    view = context.get("view")
    policy = getattr(view, "policy", None)
    kwargs = getattr(view, "kwargs", None) or {}
    signals.access_denied.send(
        sender=type(exc),
        status=exc.status_code,
        code=code,
        operation=getattr(view, "action", None) or "",
        rule=getattr(exc, "rule_description", ""),
        target_type=policy.model._meta.label_lower if policy else "",
        target_id=str(kwargs.get("pk", "")),
    )


def _statement_timed_out(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return type(cause).__name__ == "QueryCanceled" or "statement timeout" in str(exc)
