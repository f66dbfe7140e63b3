"""Token introspection (RFC 7662) for resource servers only.

Guarantees: only a confidential client marked `is_resource_server` that
authenticates with HTTP Basic may introspect, and only by POST (a token in a
URL would land in access logs); anyone else gets 401 `invalid_client`, and
the answer never depends on whether the token exists.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_application_model
from oauth2_provider.views import IntrospectTokenView

# A hash to compare against when the client is unknown, so that an unknown
# client id costs the same time as a wrong secret.
_DUMMY_SECRET = make_password("no-such-client")


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 section 2.3.1: both parts are form-urlencoded.
    return unquote_plus(client_id), unquote_plus(secret)


def _unauthorized() -> HttpResponse:
    response = JsonResponse({"error": "invalid_client"}, status=401)
    response["WWW-Authenticate"] = 'Basic realm="introspection"'
    return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class ResourceServerIntrospectionView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        credentials = _basic_credentials(request)
        if credentials is None:
            return _unauthorized()
        client_id, secret = credentials
        application = (
            get_application_model()
            .objects.filter(client_id=client_id, client_type="confidential")
            .first()
        )
        stored = application.client_secret if application else _DUMMY_SECRET
        if not check_password(secret, stored) or application is None:
            return _unauthorized()
        if not application.is_resource_server:
            return _unauthorized()
        response: HttpResponse = IntrospectTokenView.get_token_response(
            request.POST.get("token")
        )
        return response
