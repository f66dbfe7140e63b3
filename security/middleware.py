"""Request ids and the headers every API response carries.

Guarantees: every response has an `X-Request-ID`, the same id that error
bodies and log lines carry; an id sent by the client is never trusted (it
could forge or collide with another request's trail). API responses are
never stored by a cache (`Cache-Control: no-store`, OWASP ASVS 14.3.2).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from security.context import bind, unbind

API_PREFIX = "/api/v1/"


class RequestIdMiddleware:
    """Give each request a fresh id and echo it in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = bind(request_id, request)
        try:
            response = self.get_response(request)
        finally:
            unbind(tokens)
        response["X-Request-ID"] = request_id
        return response


class ApiResponseHeadersMiddleware:
    """Mark API responses as never cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
            response.headers.setdefault("Pragma", "no-cache")
        return response
