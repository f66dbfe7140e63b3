"""The demo commands: seed_demo and issue_token, as the contract describes."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.test import APIClient

from resources.models import Document, Membership, Organization, Project

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-demo-passphrase"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _snapshot():
    users = get_user_model().objects
    return (
        sorted(users.values_list("username", "password")),
        Organization.objects.count(),
        sorted(
            Membership.objects.values_list(
                "user__username", "organization__slug", "role"
            )
        ),
        Project.objects.count(),
        Document.objects.count(),
        sorted(get_application_model().objects.values_list("name", "client_secret")),
    )


def test_seed_demo_creates_the_contract_world():
    output = run("seed_demo")

    roles = set(
        Membership.objects.values_list("user__username", "organization__slug", "role")
    )
    assert roles == {
        ("alice", "acme", "owner"),
        ("bob", "acme", "admin"),
        ("carol", "acme", "member"),
        ("dave", "acme", "viewer"),
        ("erin", "globex", "owner"),
        ("svc-reporting", "acme", "viewer"),
    }
    assert (
        not get_user_model().objects.get(username="svc-reporting").has_usable_password()
    )
    assert set(Document.objects.values_list("classification", flat=True)) == {
        "public",
        "internal",
        "confidential",
    }
    assert Document.objects.exclude(internal_notes="").exists()
    assert Project.objects.filter(organization__slug="globex").exists()
    spa = get_application_model().objects.get(name="demo-spa")
    assert spa.client_type == "public"
    assert spa.redirect_uris == "http://127.0.0.1:8000/api/docs/oauth2-redirect.html"
    assert spa.allowed_scope_list == [
        "openid",
        "profile",
        "email",
        "read",
        "write",
        "admin",
        "audit",
    ]
    assert spa.default_scope_list == ["read"]
    service = get_application_model().objects.get(name="demo-service")
    assert service.authorization_grant_type == "client-credentials"
    assert service.service_account.username == "svc-reporting"
    assert (service.allowed_scopes, service.default_scopes) == ("read", "read")
    lines = output.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("user alice password ")
    assert lines[-1].startswith("client demo-service secret ")


def test_generated_passwords_are_printed_once_and_work():
    output = run("seed_demo")
    password = output.splitlines()[0].split()[-1]

    assert get_user_model().objects.get(username="alice").check_password(password)
    assert run("seed_demo") == ""


def test_seed_demo_twice_changes_nothing():
    run("seed_demo")
    before = _snapshot()

    run("seed_demo")

    assert _snapshot() == before


def test_password_option_sets_every_demo_users_password_also_existing():
    run("seed_demo")

    output = run("seed_demo", "--password", PASSWORD)

    assert output == ""
    for username in ("alice", "bob", "carol", "dave", "erin"):
        assert get_user_model().objects.get(username=username).check_password(PASSWORD)


def test_password_option_is_validated():
    with pytest.raises(CommandError, match="--password"):
        run("seed_demo", "--password", "short")

    assert not get_user_model().objects.exists()


def test_service_secret_option_sets_the_secret():
    run("seed_demo", "--service-secret", "first-secret-value-0001")
    run("seed_demo", "--service-secret", "second-secret-value-002")

    response = APIClient().post(
        "/o/token/",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=_basic("demo-service", "second-secret-value-002"),
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "read"


def test_client_secret_is_stored_hashed():
    run("seed_demo", "--service-secret", "first-secret-value-0001")

    stored = get_application_model().objects.get(name="demo-service").client_secret

    assert "first-secret-value-0001" not in stored
    assert stored.startswith(("argon2", "md5", "pbkdf2"))


def test_demo_commands_refuse_production(settings):
    settings.DJANGO_ENV = "production"

    with pytest.raises(CommandError, match="production"):
        run("seed_demo")
    with pytest.raises(CommandError, match="production"):
        run("issue_token", "--user", "alice", "--scope", "read")
    assert not get_user_model().objects.exists()


class TestIssueToken:
    def test_prints_only_a_token_that_calls_the_api(self):
        run("seed_demo")

        output = run("issue_token", "--user", "alice", "--scope", "read write")

        token = output.strip()
        assert "\n" not in token
        assert " " not in token
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/projects/").json()["count"] == 2

    def test_token_carries_scopes_lifetime_and_fresh_auth_time(self):
        run("seed_demo")

        run("issue_token", "--user", "bob", "--scope", "read", "--expires", "120")

        stored = get_access_token_model().objects.get()
        assert stored.scope == "read"
        assert stored.application.name == "demo-spa"
        lifetime = (stored.expires - stored.created).total_seconds()
        assert 119 <= lifetime <= 121
        assert stored.auth_time is not None

    def test_default_lifetime_is_the_access_token_lifetime(self):
        run("seed_demo")

        run("issue_token", "--user", "bob", "--scope", "read")

        stored = get_access_token_model().objects.get()
        assert 599 <= (stored.expires - stored.created).total_seconds() <= 601

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--user", "alice", "--scope", "read", "--expires", "86401"], "between"),
            (["--user", "nobody", "--scope", "read"], "No active user"),
            (
                ["--user", "alice", "--scope", "read", "--client", "nope"],
                "No application",
            ),
            (
                ["--user", "alice", "--scope", "write", "--client", "demo-service"],
                "not registered",
            ),
        ],
    )
    def test_refusals(self, args, message):
        run("seed_demo")

        with pytest.raises(CommandError, match=message):
            run("issue_token", *args)
        assert not get_access_token_model().objects.exists()


def _basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_commands_print_only_their_output_on_stdout(tmp_path):
    """Logs go to standard error: a token can be captured with $(...)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "INFO",
    }
    env.pop("LOG_STREAM", None)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )

    manage("migrate", "-v", "0")
    seeded = manage("seed_demo", "--password", PASSWORD)
    token = manage("issue_token", "--user", "alice", "--scope", "read")

    assert seeded.stdout.startswith("client demo-service secret ")
    assert len(seeded.stdout.splitlines()) == 1
    assert "demo_user_created" in seeded.stderr
    assert len(token.stdout.strip().split()) == 1
    assert token.stdout.count(".") == 2
    assert "token_issued_by_command" in token.stderr
