"""Error pages: problem details under /api/v1/, Django's own elsewhere.

Django answers an unknown route, a bad Host header or an unhandled error
before any API view runs, in HTML. Under /api/v1/ these must be problem
details too (and never a debug page listing the routes), so the API has a
catch-all route and these handlers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from security.exceptions import PROBLEM_CONTENT_TYPE, problem_body
from security.middleware import API_PREFIX


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem_body(status, code, detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Answer any /api/v1/ path that no route matches."""
    return _problem(404, "not_found", _("Not found."))


def bad_request(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_api(request):
        return _problem(400, "invalid", _("The request was malformed."))
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_api(request):
        return _problem(403, "permission_denied", _("You may not do this."))
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def page_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _problem(
            500, "server_error", _("The server could not complete the request.")
        )
    return defaults.server_error(request)
