"""Keep durable audit events aside during a request, and write them after it.

Placed after `security.middleware.RequestIdMiddleware`, so the request's
context is bound. The view's transaction (ATOMIC_REQUESTS) has ended,
committed or rolled back, when the events are written: a denial or a failed
login is recorded even when its request rolls back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.services import begin_request, end_request


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = begin_request()
        try:
            return self.get_response(request)
        finally:
            end_request(token)
