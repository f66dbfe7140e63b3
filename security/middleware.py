"""Request ids, the Content-Security-Policy, and API response headers.

Guarantees: every response has an `X-Request-ID`, the same id that error
bodies and log lines carry; an id sent by the client is never trusted (it
could forge or collide with another request's trail). API responses are
never stored by a cache (`Cache-Control: no-store`, OWASP ASVS 14.3.2).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponse, HttpResponseBase

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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy, with `default-src 'none'` on API responses.

    An API response is data, never a page: nothing in it may load or run.
    """

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,  # noqa: FBT001, FBT002 - django-csp's signature
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(API_PREFIX) or request.path.startswith("/o/."):
            parts.replace = {
                "default-src": ["'none'"],
                "frame-ancestors": ["'none'"],
                "style-src": None,
                "script-src": None,
                "img-src": None,
                "font-src": None,
                "connect-src": None,
                "worker-src": None,
                "object-src": None,
                "base-uri": None,
            }
        return parts


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
