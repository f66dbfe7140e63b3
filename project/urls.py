"""The project's routes: the API, its docs, OAuth, login, admin, probes."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import (
    SpectacularRedocView,
    SpectacularSwaggerOauthRedirectView,
    SpectacularSwaggerSplitView,
)
from oauth2_provider import views as oauth2_views

from project import health
from security.authentication import AdminSessionAuthentication
from security.authorize import AuthorizationView
from security.introspection import ResourceServerIntrospectionView
from security.permissions import IsStaffSession, PublicEndpoint
from security.schema_view import SchemaView
from security.views import ApiNotFoundView

if settings.ADMIN_REQUIRE_OTP:
    # Staff sign in to the admin with a password and a TOTP code.
    admin.site.__class__ = OTPAdminSite


def _docs(view: Any) -> Any:
    """Serve a docs page to staff only, unless DOCS_PUBLIC is on."""
    if settings.DOCS_PUBLIC:
        return view
    return staff_member_required(view, login_url=f"/{settings.ADMIN_URL}login/")


def _schema_access() -> dict[str, Any]:
    """Who may fetch the schema: everyone, or staff signed in to the admin."""
    if settings.DOCS_PUBLIC:
        return {"permission_classes": [PublicEndpoint], "authentication_classes": []}
    return {
        "permission_classes": [IsStaffSession],
        "authentication_classes": [AdminSessionAuthentication],
    }


# Only the endpoints this server offers: no device flow, no RP-initiated
# logout, and no self-service application registration (clients are
# registered by superusers).
oauth2_patterns = (
    [
        path("authorize/", AuthorizationView.as_view(), name="authorize"),
        path("token/", oauth2_views.TokenView.as_view(), name="token"),
        path(
            "revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"
        ),
        path(
            "introspect/",
            ResourceServerIntrospectionView.as_view(),
            name="introspect",
        ),
        re_path(
            r"^\.well-known/openid-configuration/?$",
            oauth2_views.ConnectDiscoveryInfoView.as_view(),
            name="oidc-connect-discovery-info",
        ),
        path(
            ".well-known/jwks.json",
            oauth2_views.JwksInfoView.as_view(),
            name="jwks-info",
        ),
        path("userinfo/", oauth2_views.UserInfoView.as_view(), name="user-info"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("api/v1/", include("resources.urls")),
    path("api/v1/", include("audit.urls")),
    # Last under /api/v1/: an unknown path is a problem-details 404, and
    # APPEND_SLASH never redirects (or, for a POST, fails) inside the API.
    re_path(r"^api/v1/", ApiNotFoundView.as_view()),
    path(
        "api/schema/",
        SchemaView.as_view(**_schema_access()),
        name="schema",
    ),
    # The split view serves Swagger UI's start-up script as a file of its
    # own, so the page needs no inline script.
    path(
        "api/docs/",
        _docs(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path(
        "api/docs/oauth2-redirect.html",
        SpectacularSwaggerOauthRedirectView.as_view(),
        name="swagger-oauth-redirect",
    ),
    path(
        "api/redoc/",
        _docs(
            SpectacularRedocView.as_view(
                url_name="schema", template_name="docs/redoc.html"
            )
        ),
        name="redoc",
    ),
    path("o/", include(oauth2_patterns)),
    # RFC 8414 section 3: the metadata of issuer https://host/o lives at
    # /.well-known/oauth-authorization-server/o.
    path(
        ".well-known/oauth-authorization-server/<path:issuer_path>",
        oauth2_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata-issuer",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=False),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "project.errors.bad_request"
handler403 = "project.errors.permission_denied"
handler404 = "project.errors.page_not_found"
handler500 = "project.errors.server_error"
