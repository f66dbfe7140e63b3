"""Production settings: refusals, a clean deploy check, headers, errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework import mixins

from security import keys
from security.views import PolicyViewSet
from tests import factories

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.django_db


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    key_dir = tmp_path / "keys"
    if not (key_dir / "keys.json").exists():
        keys.publish(key_dir, activate=True, size=2048)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG")
    }
    env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "k" * 20 + "Zq8Wv3Lm6Np1Rt4Yb7Hc2Jd5Fg9Ss0Xa3Ue",
            "ALLOWED_HOSTS": "api.example.com",
            "OAUTH_ISSUER": "https://api.example.com/o",
            "API_AUDIENCE": "https://api.example.com/api/v1/",
            "OIDC_KEYS_DIR": str(key_dir),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
            "AUDIT_HMAC_KEYS": "k1:" + "a" * 40,
            "AUDIT_HMAC_ACTIVE_KEY_ID": "k1",
        }
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "change-me-" + "x" * 60}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "at least 50"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"AUDIT_HMAC_KEYS": None}, "AUDIT_HMAC_KEYS"),
        ({"AUDIT_HMAC_KEYS": "k1:short"}, "AUDIT_HMAC_KEYS"),
        ({"OIDC_KEYS_DIR": "/nonexistent"}, "signing key"),
        ({"OAUTH_ISSUER": None}, "OAUTH_ISSUER"),
    ],
)
def test_production_refuses_to_start(tmp_path, overrides, message):
    result = manage(production_env(tmp_path, **overrides), "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("f" * 20 + "Pq8Wv3Lm6Np1Rt4Yb7Hc2Jd5Fg9Ss0Xa3Ue\n")
    env = production_env(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))

    assert manage(env, "check").returncode == 0


def test_deploy_check_is_clean_with_every_secret(tmp_path):
    env = production_env(tmp_path)
    assert manage(env, "migrate", "-v", "0").returncode == 0

    result = manage(
        env, "check", "--deploy", "--database", "default", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_refuses_demo_data(tmp_path):
    env = production_env(tmp_path)
    manage(env, "migrate", "-v", "0")
    dev = {**env, "DJANGO_ENV": "development"}
    assert (
        manage(dev, "seed_demo", "--password", "a-long-demo-passphrase").returncode == 0
    )

    result = manage(env, "check", "--deploy", "--database", "default")

    assert result.returncode != 0
    for check_id in ("secapi.E005", "secapi.E006", "secapi.E007"):
        assert check_id in result.stderr


class TestHeaders:
    COMMON = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }

    def _check_common(self, response):
        for header, value in self.COMMON.items():
            assert response[header] == value, header

    def test_api_response_headers(self, world, client_for):
        response = client_for(world.owner).get("/api/v1/projects/")

        self._check_common(response)
        directives = {d.strip() for d in response["Content-Security-Policy"].split(";")}
        assert directives == {"default-src 'none'", "frame-ancestors 'none'"}
        assert response["Cache-Control"] == "no-store"

    @pytest.mark.parametrize("url", ["/api/docs/", "/admin/login/", "/accounts/login/"])
    def test_page_headers_allow_no_inline_script(self, db, url):
        response = Client().get(url)

        self._check_common(response)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp

    def test_hsts_on_a_secure_request(self, db, settings):
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
        settings.SECURE_HSTS_PRELOAD = True

        for url in ("/api/v1/projects/", "/api/docs/", "/admin/login/"):
            response = Client().get(url, secure=True)
            assert response["Strict-Transport-Security"] == (
                "max-age=31536000; includeSubDomains; preload"
            ), url

    def test_swagger_redirect_page_runs_only_same_origin_script(self, db):
        response = Client().get(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.html"
        )

        assert response.status_code == 200
        assert "script-src 'self';" in response["Content-Security-Policy"]


class TestCors:
    def test_no_cors_by_default(self, world, client_for):
        response = client_for(world.owner).get(
            "/api/v1/projects/", HTTP_ORIGIN="https://evil.example"
        )

        assert "Access-Control-Allow-Origin" not in response

    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
    def test_allowlisted_origin_gets_cors_on_the_api_only(self, world, client_for):
        api = client_for(world.owner).get(
            "/api/v1/projects/", HTTP_ORIGIN="https://app.example"
        )
        authorize = Client().options("/o/authorize/", HTTP_ORIGIN="https://app.example")

        assert api["Access-Control-Allow-Origin"] == "https://app.example"
        assert "Access-Control-Allow-Origin" not in authorize


class TestDocsInProduction:
    @pytest.fixture
    def staff_only(self, settings):
        settings.DOCS_PUBLIC = False
        from importlib import reload

        from django.urls import clear_url_caches

        import project.urls

        reload(project.urls)
        clear_url_caches()
        yield
        settings.DOCS_PUBLIC = True
        reload(project.urls)
        clear_url_caches()

    def test_schema_is_401_without_a_staff_session(self, db, staff_only):
        response = Client().get("/api/schema/")

        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_authenticated"

    def test_docs_redirect_to_the_admin_login(self, db, staff_only):
        response = Client().get("/api/docs/")

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_staff_session_reads_the_schema(self, db, staff_only):
        staff = factories.user("staffer", is_staff=True)
        client = Client()
        client.force_login(staff)

        assert client.get("/api/schema/").status_code == 200


def _boom(request):
    msg = "database password is hunter2 at /srv/app/secret.py"
    raise RuntimeError(msg)


class BoomViewSet(PolicyViewSet, mixins.ListModelMixin):
    from resources.policies import ProjectPolicy as policy  # noqa: N813

    def list(self, request, *args, **kwargs):
        return _boom(request)


urlpatterns = [path("api/v1/boom/", BoomViewSet.as_view({"get": "list"}))]


@pytest.mark.urls(__name__)
def test_500_reveals_nothing_and_logs_the_traceback(
    world, client_for, caplog, settings
):
    settings.DEBUG = False
    client = client_for(world.owner)

    with caplog.at_level(logging.ERROR, logger="security.exceptions"):
        response = client.get("/api/v1/boom/")

    assert response.status_code == 500
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server could not complete the request.",
        "code": "server_error",
        "request_id": response["X-Request-ID"],
    }
    assert "hunter2" not in response.content.decode()
    record = next(r for r in caplog.records if r.getMessage() == "unhandled_exception")
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])
    assert record.request_id == response["X-Request-ID"]


def test_unknown_username_costs_a_password_hash_too(world):
    """Same time whether or not the user exists: the hasher runs either way."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    with_calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        with_calls.append(password)
        return original(self, password, salt)

    from unittest import mock

    with mock.patch.object(MD5PasswordHasher, "encode", counting):
        Client().post(
            "/accounts/login/", {"username": "nobody", "password": "pw-123456789"}
        )
    unknown = len(with_calls)
    with_calls.clear()
    with mock.patch.object(MD5PasswordHasher, "encode", counting):
        Client().post(
            "/accounts/login/", {"username": "alice", "password": "pw-123456789"}
        )

    assert unknown == len(with_calls) == 1


def test_login_failure_answers_alike_for_unknown_and_known_users(world):
    unknown = Client().post(
        "/accounts/login/", {"username": "nobody", "password": "x" * 12}
    )
    known = Client().post(
        "/accounts/login/", {"username": "alice", "password": "x" * 12}
    )

    strip = lambda html: html.replace("nobody", "").replace("alice", "")  # noqa: E731
    assert unknown.status_code == known.status_code == 200
    csrf = 'name="csrfmiddlewaretoken" value="'

    def body(response):
        text = response.content.decode()
        start = text.find(csrf)
        return strip(text[:start] + text[text.find('"', start + len(csrf)) :])

    assert body(unknown) == body(known)


def test_otp_enrollment_prints_a_provisioning_uri(world):
    import io

    from django.core.management import call_command

    staff = factories.user("ops", is_staff=True)
    out = io.StringIO()

    call_command("enroll_totp", "--user", "ops", stdout=out)

    assert out.getvalue().startswith("otpauth://totp/")
    assert staff.totpdevice_set.count() == 1


def test_admin_requires_a_second_factor_when_configured(world, settings):
    from importlib import reload

    from django.contrib import admin
    from django.contrib.admin import AdminSite
    from django.urls import clear_url_caches

    import project.urls

    settings.ADMIN_REQUIRE_OTP = True
    reload(project.urls)
    clear_url_caches()
    try:
        staff = factories.user("ops2", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(staff)
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    finally:
        admin.site.__class__ = AdminSite
        settings.ADMIN_REQUIRE_OTP = False
        reload(project.urls)
        clear_url_caches()


class SlowViewSet(PolicyViewSet, mixins.ListModelMixin):
    from resources.policies import ProjectPolicy as policy  # noqa: N813

    def list(self, request, *args, **kwargs):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 50")
            cursor.execute("SELECT pg_sleep(1)")


urlpatterns.append(path("api/v1/slow/", SlowViewSet.as_view({"get": "list"})))


@pytest.mark.urls(__name__)
def test_statement_timeout_is_503_not_500(world, client_for):
    from django.db import connection

    from tests.conftest import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL")

    response = client_for(world.owner).get("/api/v1/slow/")

    assert response.status_code == 503
    assert response.json()["code"] == "temporarily_unavailable"


class PartialWriteViewSet(PolicyViewSet, mixins.ListModelMixin):
    from resources.policies import ProjectPolicy as policy  # noqa: N813

    def list(self, request, *args, **kwargs):
        from rest_framework.exceptions import ValidationError

        from resources.models import Organization, Project

        Project.objects.create(organization=Organization.objects.first(), name="half")
        raise ValidationError({"name": ["refused after a write"]})


urlpatterns.append(
    path("api/v1/partial/", PartialWriteViewSet.as_view({"get": "list"}))
)


@pytest.mark.urls(__name__)
def test_an_error_after_a_write_leaves_nothing_behind(world, client_for):
    from resources.models import Project

    response = client_for(world.owner).get("/api/v1/partial/")

    assert response.status_code == 400
    assert not Project.objects.filter(name="half").exists()
