"""The request being served, readable from code that has no request.

Set by `security.middleware.RequestIdMiddleware` for the length of one
request: its id, and the request itself, so that the audit trail and the
logs can name the actor, client, address and path of whatever happens
during it (Django signals carry no request). Outside a request both are
empty.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_request: ContextVar[Any] = ContextVar("request", default=None)


def get_request_id() -> str:
    """Return the id of the request being served, or an empty string."""
    return _request_id.get()


def get_current_request() -> HttpRequest | None:
    """Return the Django request being served, or None."""
    request: HttpRequest | None = _request.get()
    return request


def bind(request_id: str, request: HttpRequest) -> tuple[object, object]:
    """Make a request current; return the tokens that `unbind` needs."""
    return _request_id.set(request_id), _request.set(request)


def unbind(tokens: tuple[object, object]) -> None:
    """Restore what was current before `bind`."""
    _request_id.reset(tokens[0])  # type: ignore[arg-type]
    _request.reset(tokens[1])  # type: ignore[arg-type]
