"""The current request's id, readable from code that has no request.

Set by `security.middleware.RequestIdMiddleware` for the length of one
request; outside a request it is the empty string.
"""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def get_request_id() -> str:
    """Return the id of the request being served, or an empty string."""
    return _request_id.get()


def set_request_id(value: str) -> object:
    """Set the current request id and return the token that resets it."""
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    """Restore the request id that was current before `set_request_id`."""
    _request_id.reset(token)  # type: ignore[arg-type]
