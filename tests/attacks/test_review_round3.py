"""Third adversarial review: rate limits, abuse defence, production hardening.

Each test names the behaviour that the contract (/work/shared/API-CONTRACT.md)
or the docs (docs/rate-limiting.md, project/settings/production.py) promise,
and fails today because of the bug its docstring describes. The rate-limit
tests count in Redis, as production does (tests/security/test_ratelimit.py).
"""

from __future__ import annotations

import base64
import os
import socket
from importlib import reload
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.cache import caches
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from security.models import Application
from tests import factories
from tests.conftest import require_service
from tests.test_production import manage, production_env

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
PASSWORD = "correct-horse-battery-staple"
WRONG = "wrong-password-xyz"
DEAD_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
}


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_store(settings):
    """Count the limits in the shared Redis, as in production."""
    require_service(_redis_up(), "Redis")
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    caches["ratelimit"].clear()
    return url


def _limits(settings, **rates: str) -> None:
    settings.SECURITY = {
        **settings.SECURITY,
        "RATE_LIMITS": {**settings.SECURITY["RATE_LIMITS"], **rates},
    }


def _login(client: Client, username: str, password: str = WRONG):
    return client.post("/accounts/login/", {"username": username, "password": password})


# ---------------------------------------------------------------------------
# Login and token endpoints
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", [" alice", "alice\t", "\uff41\uff4c\uff49\uff43\uff45"]
)
def test_login_failure_limit_counts_the_account_not_its_spelling(
    world, redis_store, settings, spelling
):
    """The per-(address, username) limit is keyed on the raw POST value.

    Django's login form strips whitespace and NFKC-normalizes the username
    before authenticating, so " alice", "alice\\t" and full-width "alice"
    (U+FF41...) all sign in as alice while each gets its own failure
    counter (and its own username-alert counter). An attacker rotating
    spellings gets the whole per-address allowance (20/min) against one
    account instead of 5/min (contract: "5/min of failures per (IP,
    username or client id)").
    """
    _limits(settings, auth_failures="2/m", auth_ip="100/m")
    settings.SECURITY = {**settings.SECURITY, "STUFFING_DISTINCT_USERNAMES": 100}
    client = Client()
    assert [_login(client, "alice").status_code for _ in range(3)] == [200, 200, 429]

    respelled = _login(client, spelling, PASSWORD)

    assert respelled.status_code == 429


def test_token_failure_limit_counts_the_client_not_its_encoding(
    world, redis_store, settings
):
    """The per-(address, client id) limit reads the Basic id undecoded.

    RFC 6749 2.3.1 form-urlencodes the Basic credentials and
    django-oauth-toolkit `unquote_plus`es them, so "svc%2Dclient" is the
    client "svc-client"; the limiter digests the encoded text, so every
    encoding is a fresh failure counter for the same client's secret.
    """
    _limits(settings, auth_failures="2/m", auth_ip="100/m")
    settings.SECURITY = {**settings.SECURITY, "STUFFING_DISTINCT_USERNAMES": 100}
    factories.application(
        name="svc-client",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="the-right-secret-0123456789",
        service_account=world.viewer,
        allowed_scopes="read",
    )

    def token(client_id: str, secret: str) -> int:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return (
            Client(HTTP_AUTHORIZATION=f"Basic {basic}")
            .post(
                "/o/token/",
                urlencode({"grant_type": "client_credentials"}),
                content_type=FORM,
            )
            .status_code
        )

    assert [token("svc-client", "guess") for _ in range(3)] == [401, 401, 429]

    assert token("svc%2Dclient", "the-right-secret-0123456789") == 429


# ---------------------------------------------------------------------------
# The client address
# ---------------------------------------------------------------------------


def test_malformed_forwarded_for_does_not_move_the_client_to_another_key(
    world, redis_store, settings
):
    """A client can leave its own per-address counter by sending junk.

    With TRUSTED_PROXY_COUNT=1 the proxy appends the address it saw, so
    only the rightmost entry is vouched for; but any unparsable entry to
    its left (written by the client) makes the whole header fall back to
    the socket address, the proxy's, a counter the client did not use yet
    (docs/rate-limiting.md: "a client can't pick its own key by sending a
    header").
    """
    _limits(settings, api_anonymous_ip="1/m")
    settings.SECURITY = {**settings.SECURITY, "TRUSTED_PROXY_COUNT": 1}

    def get(forwarded: str) -> int:
        return (
            APIClient(REMOTE_ADDR="10.0.0.2")
            .get("/api/v1/projects/", HTTP_X_FORWARDED_FOR=forwarded)
            .status_code
        )

    assert get("203.0.113.1") == 401
    assert get("203.0.113.1") == 429

    assert get("not-an-address, 203.0.113.1") == 429


# ---------------------------------------------------------------------------
# Headers and the store going away
# ---------------------------------------------------------------------------


def test_unrouted_api_paths_carry_rate_limit_headers(world, client_for, redis_store):
    """The /api/v1/ catch-all answers without counting or RateLimit-*.

    docs/rate-limiting.md: "Every API response carries RateLimit-Limit,
    RateLimit-Remaining and RateLimit-Reset"; the catch-all (unknown paths,
    ids that are not UUIDs, a missing trailing slash) is a plain Django
    view that never authenticates, counts, or sets them.
    """
    client = client_for(world.owner)

    for url in ("/api/v1/nothing-here/", "/api/v1/projects/not-a-uuid/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "RateLimit-Limit" in response, url
        assert "RateLimit-Remaining" in response, url


def test_denials_are_not_500s_when_the_shared_redis_is_down(
    world, client_for, settings
):
    """Production keeps the limits and the audit aggregation in one Redis.

    With it unreachable the limiter fails open as documented, but every
    401 and 403 then records its aggregated audit event through the same
    cache without a guard, and the exception turns the denial into a 500
    (docs/rate-limiting.md, "When Redis is unreachable": "Never a 500").
    """
    settings.CACHES = {**settings.CACHES, "default": DEAD_REDIS}
    settings.RATELIMIT_USE_CACHE = "default"
    viewer = client_for(world.viewer, "write")
    viewer.raise_request_exception = False
    anonymous = APIClient(raise_request_exception=False)

    forbidden = viewer.patch(
        f"/api/v1/projects/{world.acme_project.pk}/", {"name": "x"}, format="json"
    )
    unauthenticated = anonymous.get("/api/v1/projects/")

    assert forbidden.status_code == 403
    assert unauthenticated.status_code == 401


# ---------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------


def test_production_refuses_the_example_audit_key(tmp_path):
    """.env.example's AUDIT_HMAC_KEYS placeholder starts a production server.

    production.py promises to refuse "a secret [that] is missing or an
    example value"; only SECRET_KEY is compared with the example markers,
    and the placeholder `k1:change-me-to-48-random-characters` is 33
    characters, over the 32-character minimum. Anyone who read the example
    file can then forge the audit chain's HMACs.
    """
    env = production_env(
        tmp_path, AUDIT_HMAC_KEYS="k1:change-me-to-48-random-characters"
    )

    result = manage(env, "check", "--deploy")

    assert result.returncode != 0
    assert "AUDIT_HMAC_KEYS" in result.stderr


@pytest.fixture
def production_docs(settings):
    """Docs and schema for staff, the admin behind TOTP: production."""
    import project.urls

    settings.DOCS_PUBLIC = False
    settings.ADMIN_REQUIRE_OTP = True
    reload(project.urls)
    clear_url_caches()
    yield
    admin.site.__class__ = AdminSite
    settings.DOCS_PUBLIC = True
    settings.ADMIN_REQUIRE_OTP = False
    reload(project.urls)
    clear_url_caches()


def test_schema_needs_the_admin_sign_in_not_just_a_staff_password(
    world, production_docs
):
    """A staff password at /accounts/login/ opens the schema without TOTP.

    Production puts the admin behind a second factor and serves the schema
    to "staff signed in to the admin" (production.py, IsStaffSession); but
    IsStaffSession only checks `is_staff` on the session, so a stolen staff
    password, used on the plain login page, reads the schema (contract: the
    schema answers 401 without a staff admin session).
    """
    factories.user("ops", is_staff=True)
    client = Client()
    assert _login(client, "ops", PASSWORD).status_code == 302

    assert client.get("/api/schema/").status_code == 401
