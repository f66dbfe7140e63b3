"""The authorization endpoint: consent always shown, this session's login time.

Guarantees: a client can't skip the consent page (`approval_prompt=auto`
is ignored; ASVS 10.7.1), and the authorization code records when *this*
browser session last entered the password, not when the user last signed
in anywhere (which would let a stale session pass a step-up check).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from oauth2_provider.views import AuthorizationView as DOTAuthorizationView

SESSION_AUTH_TIME = "auth_time"


class AuthorizationView(DOTAuthorizationView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            query.pop("approval_prompt")
            request.GET = query  # type: ignore[assignment]
        return super().get(request, *args, **kwargs)

    def create_authorization_response(
        self,
        request: HttpRequest,
        scopes: str,
        credentials: dict[str, Any],
        allow: bool,  # noqa: FBT001 - DOT's signature
    ) -> Any:
        auth_time = request.session.get(SESSION_AUTH_TIME)
        if auth_time is not None:
            credentials = {**credentials, "auth_time": auth_time}
        return super().create_authorization_response(
            request, scopes, credentials, allow
        )
