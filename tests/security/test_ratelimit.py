"""Rate limits, credential-stuffing defence, step-up, and a failing store.

These run on Redis, as production does: the limits are only worth anything
when every process shares them.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import pytest
import requests
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.chain import seal_pending
from audit.models import AuditEvent
from security.models import AccessToken
from tests import factories
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def redis_store(settings):
    """Use the shared Redis cache, as in production."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    reachable = _redis_up(url)
    require_service(reachable, "Redis")
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


def _redis_up(url: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _limits(settings, **rates: str) -> None:
    settings.SECURITY = {
        **settings.SECURITY,
        "RATE_LIMITS": {**settings.SECURITY["RATE_LIMITS"], **rates},
    }


WRONG = "wrong-password-xyz"


def _login(client: Client, username: str, password: str = WRONG, **extra):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, **extra
    )


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


class TestApiLimits:
    def test_reads_are_limited_per_user_with_headers(self, world, client_for, settings):
        _limits(settings, api_read="3/m")
        client = client_for(world.owner)

        responses = [client.get("/api/v1/projects/") for _ in range(4)]

        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert [r["RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]
        assert responses[0]["RateLimit-Limit"] == "3"
        assert 0 <= int(responses[0]["RateLimit-Reset"]) <= 60
        refused = responses[3]
        assert refused.json()["code"] == "rate_limited"
        assert set(refused.json()) == {
            "type",
            "title",
            "status",
            "detail",
            "code",
            "request_id",
        }
        assert int(refused["Retry-After"]) >= 1

    def test_the_limit_is_per_user(self, world, client_for, settings):
        _limits(settings, api_read="2/m")
        for _ in range(2):
            client_for(world.owner).get("/api/v1/projects/")

        assert client_for(world.owner).get("/api/v1/projects/").status_code == 429
        assert client_for(world.admin).get("/api/v1/projects/").status_code == 200

    def test_writes_have_their_own_limit(self, world, client_for, settings):
        _limits(settings, api_write="1/m")
        client = client_for(world.owner, "write")
        url = f"/api/v1/projects/{world.acme_project.pk}/"

        first = client.patch(url, {"name": "a"}, format="json")
        second = client.patch(url, {"name": "b"}, format="json")

        assert (first.status_code, second.status_code) == (200, 429)
        assert client.get("/api/v1/projects/").status_code == 200

    def test_limit_resets_after_its_window(self, world, client_for, settings):
        _limits(settings, api_read="1/m")
        client = client_for(world.owner)
        assert client.get("/api/v1/projects/").status_code == 200
        assert client.get("/api/v1/projects/").status_code == 429

        with mock.patch(
            "django_ratelimit.core.time.time", return_value=time.time() + 61
        ):
            assert client.get("/api/v1/projects/").status_code == 200

    def test_sharing_has_a_tighter_limit(self, world, client_for, settings):
        _limits(settings, sensitive="2/m")
        client = client_for(world.owner, "admin")
        url = f"/api/v1/documents/{world.confidential_doc.pk}/share/"
        body = {"user": str(world.member.pk), "permission": "view"}

        statuses = [client.post(url, body, format="json").status_code for _ in range(3)]

        assert statuses == [204, 204, 429]

    def test_requests_without_credentials_are_limited_per_address(
        self, world, settings
    ):
        _limits(settings, api_anonymous_ip="3/m")
        client = APIClient()

        statuses = [client.get("/api/v1/projects/").status_code for _ in range(4)]

        assert statuses == [401, 401, 401, 429]

    def test_bad_tokens_count_against_the_address_and_429_comes_first(
        self, world, settings
    ):
        _limits(settings, api_anonymous_ip="2/m")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer forged")

        statuses = [client.get("/api/v1/projects/").status_code for _ in range(3)]

        assert statuses == [401, 401, 429]

    def test_valid_token_is_not_limited_by_the_address_limit(
        self, world, client_for, settings
    ):
        _limits(settings, api_anonymous_ip="1/m")
        APIClient().get("/api/v1/projects/")
        APIClient().get("/api/v1/projects/")

        assert client_for(world.owner).get("/api/v1/projects/").status_code == 200

    def test_rotating_forwarded_for_does_not_escape_the_limit(self, world, settings):
        _limits(settings, api_anonymous_ip="2/m")

        statuses = [
            APIClient()
            .get("/api/v1/projects/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
            .status_code
            for n in range(4)
        ]

        assert statuses == [401, 401, 429, 429]

    def test_trusted_proxy_keys_by_the_forwarded_address(self, world, settings):
        _limits(settings, api_anonymous_ip="1/m")
        settings.SECURITY = {**settings.SECURITY, "TRUSTED_PROXY_COUNT": 1}

        def get(forwarded: str) -> int:
            return (
                APIClient()
                .get("/api/v1/projects/", HTTP_X_FORWARDED_FOR=forwarded)
                .status_code
            )

        assert get("203.0.113.1") == 401
        assert get("203.0.113.1") == 429
        assert get("203.0.113.2") == 401
        # A client prepending its own value can't escape: the proxy appends
        # the real address, and that is the one counted.
        assert get("198.51.100.9, 203.0.113.1") == 429

    def test_limit_hits_are_audited(self, world, client_for, settings):
        _limits(settings, api_read="1/m")
        client = client_for(world.owner)

        for _ in range(5):
            client.get("/api/v1/projects/")

        seal_pending()
        events = AuditEvent.objects.filter(action="ratelimit.exceeded")
        assert events.count() == 1
        assert events.get().details == {"scope": "user", "limit": "api_read"}


# ---------------------------------------------------------------------------
# Login and token endpoints
# ---------------------------------------------------------------------------


class TestAuthLimits:
    def test_every_login_attempt_counts_per_address(self, world, settings):
        _limits(settings, auth_ip="3/m", auth_failures="100/m")
        client = Client()

        statuses = [_login(client, f"user{n}").status_code for n in range(4)]

        assert statuses == [200, 200, 200, 429]

    def test_failures_per_address_and_username(self, world, settings):
        _limits(settings, auth_failures="2/m")
        client = Client()

        failures = [_login(client, "alice").status_code for _ in range(3)]
        other_user = _login(client, "bob").status_code
        right_password_now = _login(client, "alice", "correct-horse-battery-staple")

        assert failures == [200, 200, 429]
        assert other_user == 200
        assert right_password_now.status_code == 429
        assert int(right_password_now["Retry-After"]) >= 1

    def test_token_endpoint_answers_in_oauth_format(self, world, settings):
        _limits(settings, auth_ip="1/m")
        client = Client()
        body = urlencode({"grant_type": "client_credentials", "client_id": "x"})

        client.post("/o/token/", body, content_type=FORM)
        refused = client.post("/o/token/", body, content_type=FORM)

        assert refused.status_code == 429
        assert refused.json() == {"error": "rate_limited"}
        assert "Retry-After" in refused

    def test_token_failures_count_per_client(self, world, settings):
        _limits(settings, auth_failures="2/m")
        credentials = base64.b64encode(b"nobody:wrong").decode()
        client = Client(HTTP_AUTHORIZATION=f"Basic {credentials}")
        body = urlencode({"grant_type": "client_credentials"})

        statuses = [
            client.post("/o/token/", body, content_type=FORM).status_code
            for _ in range(3)
        ]

        assert statuses == [401, 401, 429]

    def test_many_usernames_from_one_address_block_it_and_alert(self, world, settings):
        settings.SECURITY = {**settings.SECURITY, "STUFFING_DISTINCT_USERNAMES": 4}
        client = Client()

        for n in range(4):
            _login(client, f"victim{n}")
        blocked = _login(client, "alice", "correct-horse-battery-staple")
        elsewhere = _login(
            Client(REMOTE_ADDR="192.0.2.50"), "alice", "correct-horse-battery-staple"
        )

        assert blocked.status_code == 429
        assert elsewhere.status_code == 302
        seal_pending()
        event = AuditEvent.objects.get(action="security.credential_stuffing_suspected")
        assert event.details["kind"] == "address"
        assert event.details["ip"] == "127.0.0.1"

    def test_many_failures_for_one_username_alert_but_never_lock(self, world, settings):
        _limits(
            settings, auth_username_alert="3/h", auth_failures="100/m", auth_ip="100/m"
        )
        settings.SECURITY = {**settings.SECURITY, "STUFFING_DISTINCT_USERNAMES": 100}

        for n in range(5):
            _login(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "alice")
        owner_logs_in = _login(
            Client(REMOTE_ADDR="198.51.100.1"), "alice", "correct-horse-battery-staple"
        )

        assert owner_logs_in.status_code == 302
        seal_pending()
        events = AuditEvent.objects.filter(
            action="security.credential_stuffing_suspected"
        )
        assert [e.details["kind"] for e in events] == ["username"]
        assert events.get().details["username"] == "alice"

    def test_login_limit_holds_across_two_server_processes(
        self, world, settings, tmp_path
    ):
        """Two servers share Redis: the N+1-th attempt is refused on either."""
        url = settings.CACHES["ratelimit"]["LOCATION"]
        servers = [_start_server(tmp_path, url, port) for port in _free_ports(2)]
        try:
            statuses = []
            for attempt in range(4):
                base = servers[attempt % 2][1]
                response = requests.post(
                    f"{base}/o/token/",
                    data={"grant_type": "client_credentials", "client_id": "x"},
                    timeout=10,
                )
                statuses.append(response.status_code)
        finally:
            for process, _base in servers:
                process.terminate()
                process.wait(timeout=10)

        assert statuses[:3] != [429, 429, 429]
        assert statuses[3] == 429
        assert statuses.count(429) == 1


def _free_ports(count: int) -> list[int]:
    ports = []
    for _ in range(count):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return ports


def _start_server(
    tmp_path: Path, redis_url: str, port: int
) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "project.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": redis_url,
        "RATE_LIMIT_AUTH_IP": "3/m",
    }
    if not (tmp_path / "shared.sqlite3").exists():
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return process, base


# ---------------------------------------------------------------------------
# Step-up (RFC 9470)
# ---------------------------------------------------------------------------


class TestStepUp:
    def _stale(self, user, scope: str) -> APIClient:
        raw = factories.token(user, scope)
        AccessToken.objects.filter(user=user).update(
            auth_time=timezone.now() - timedelta(hours=1)
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    def test_making_someone_owner_needs_a_recent_login(self, world):
        membership = world.member.memberships.get()

        response = self._stale(world.owner, "admin").patch(
            f"/api/v1/memberships/{membership.pk}/", {"role": "owner"}, format="json"
        )

        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "insufficient_user_authentication"
        assert body["max_age"] == 300
        assert response["WWW-Authenticate"] == (
            'Bearer realm="api", error="insufficient_user_authentication", '
            'error_description="A more recent authentication is required", '
            'max_age="300"'
        )
        membership.refresh_from_db()
        assert membership.role == "member"

    def test_other_role_changes_do_not_need_it(self, world):
        membership = world.member.memberships.get()

        response = self._stale(world.owner, "admin").patch(
            f"/api/v1/memberships/{membership.pk}/", {"role": "viewer"}, format="json"
        )

        assert response.status_code == 200

    def test_deleting_an_organization_needs_a_recent_login(self, world):
        response = self._stale(world.owner, "write").delete(
            f"/api/v1/organizations/{world.acme.pk}/"
        )

        assert response.status_code == 401
        assert response.json()["max_age"] == 300
        assert type(world.acme).objects.filter(pk=world.acme.pk).exists()

    def test_404_comes_before_step_up(self, world):
        response = self._stale(world.outsider, "write").delete(
            f"/api/v1/organizations/{world.acme.pk}/"
        )

        assert response.status_code == 404


# ---------------------------------------------------------------------------
# The store going away
# ---------------------------------------------------------------------------


class TestStoreUnavailable:
    @pytest.fixture
    def dead_store(self, settings):
        from security import ratelimit

        ratelimit._last_failure_log["at"] = 0.0
        settings.CACHES = {
            **settings.CACHES,
            "ratelimit": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
            },
        }

    def test_login_fails_closed_with_503(self, world, dead_store, caplog):
        with caplog.at_level(logging.ERROR, logger="security.ratelimit"):
            response = _login(Client(), "alice", "correct-horse-battery-staple")

        assert response.status_code == 503
        assert "ratelimit_store_unavailable" in caplog.text

    def test_token_endpoint_fails_closed_in_oauth_format(self, world, dead_store):
        response = Client().post(
            "/o/token/",
            urlencode({"grant_type": "client_credentials"}),
            content_type=FORM,
        )

        assert response.status_code == 503
        assert response.json() == {"error": "temporarily_unavailable"}

    def test_api_fails_open(self, world, dead_store, client_for):
        response = client_for(world.owner).get("/api/v1/projects/")

        assert response.status_code == 200
        assert "RateLimit-Limit" not in response

    def test_api_can_be_set_to_fail_closed(
        self, world, dead_store, client_for, settings
    ):
        settings.SECURITY = {**settings.SECURITY, "RATE_LIMIT_FAIL_OPEN": False}

        response = client_for(world.owner).get("/api/v1/projects/")

        assert response.status_code == 503
        assert response.json()["code"] == "temporarily_unavailable"

    def test_store_dropping_mid_request_is_not_a_500(self, world, client_for):
        from redis.exceptions import ConnectionError as RedisConnectionError

        with (
            mock.patch(
                "django_redis.cache.RedisCache.incr",
                side_effect=RedisConnectionError("gone"),
            ),
            mock.patch("django_redis.cache.RedisCache.add", return_value=False),
        ):
            api = client_for(world.owner).get("/api/v1/projects/")
            login = _login(Client(), "alice")

        assert api.status_code == 200
        assert login.status_code == 503


class TestAddresses:
    def test_an_ipv6_client_can_not_rotate_through_its_64(self, world, settings):
        _limits(settings, api_anonymous_ip="2/m")

        statuses = [
            APIClient(REMOTE_ADDR=f"2001:db8:1:2::{n}")
            .get("/api/v1/projects/")
            .status_code
            for n in range(1, 4)
        ]
        elsewhere = APIClient(REMOTE_ADDR="2001:db8:1:3::1").get("/api/v1/projects/")

        assert statuses == [401, 401, 429]
        assert elsewhere.status_code == 401

    def test_an_html_accept_header_does_not_skip_authentication(self, world):
        response = APIClient().get("/api/v1/projects/", HTTP_ACCEPT="text/html")

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert "RateLimit-Limit" in response


def test_the_admin_login_is_limited_like_the_login_page(world, settings):
    _limits(settings, auth_ip="2/m", auth_failures="100/m")
    client = Client()

    statuses = [
        client.post("/admin/login/", {"username": "x", "password": "y"}).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]
