"""Signing-key rotation: publish, activate, retire, and what verifies when."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from jwcrypto import jwk, jwt

from security import keys
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _use_keys(settings, directory: Path) -> None:
    loaded = keys.load(directory)
    provider = dict(settings.OAUTH2_PROVIDER)
    provider["OIDC_RSA_PRIVATE_KEY"] = loaded.active
    provider["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] = list(loaded.inactive)
    settings.OAUTH2_PROVIDER = provider


def _jwks() -> jwk.JWKSet:
    return jwk.JWKSet.from_json(Client().get("/o/.well-known/jwks.json").content)


def _header_kid(token: str) -> str:
    parsed = jwt.JWT()
    parsed.deserialize(token)
    return parsed.token.jose_header["kid"]


def _verifies(token: str) -> bool:
    try:
        jwt.JWT(jwt=token, key=_jwks())
    except Exception:  # any failure means "does not verify"
        return False
    return True


def test_two_step_rotation_keeps_old_tokens_verifying(tmp_path, settings, world):
    old = keys.publish(tmp_path, activate=True, size=2048)
    _use_keys(settings, tmp_path)
    old_token = factories.token(world.owner)
    assert _header_kid(old_token) == old

    new = keys.publish(tmp_path, size=2048)
    _use_keys(settings, tmp_path)

    published = {key["kid"] for key in _jwks()["keys"]}
    assert published == {old, new}
    assert _header_kid(factories.token(world.owner)) == old

    keys.activate(tmp_path, new, min_published=timedelta(0))
    _use_keys(settings, tmp_path)
    new_token = factories.token(world.owner)

    assert _header_kid(new_token) == new
    assert _verifies(old_token)
    assert _verifies(new_token)

    keys.retire(tmp_path, old)
    _use_keys(settings, tmp_path)

    assert {key["kid"] for key in _jwks()["keys"]} == {new}
    assert not _verifies(old_token)
    assert _verifies(new_token)
    assert not (tmp_path / f"{old}.pem").exists()


def test_activation_waits_for_the_jwks_cache_lifetime(tmp_path):
    keys.publish(tmp_path, activate=True, size=2048)
    new = keys.publish(tmp_path, size=2048)

    with pytest.raises(keys.SigningKeyError, match="cache lifetime"):
        keys.activate(tmp_path, new, min_published=timedelta(hours=1))

    keys.activate(tmp_path, new, min_published=timedelta(hours=1), force=True)
    assert keys.read_manifest(tmp_path)["active"] == new


def test_active_key_cannot_be_retired(tmp_path):
    active = keys.publish(tmp_path, activate=True, size=2048)

    with pytest.raises(keys.SigningKeyError, match="active"):
        keys.retire(tmp_path, active)


def test_key_files_are_private(tmp_path):
    kid = keys.publish(tmp_path, activate=True, size=2048)

    assert (tmp_path / f"{kid}.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600


def test_rotate_command_drives_the_steps(tmp_path, settings):
    settings.OIDC_KEYS_DIR = tmp_path
    out = io.StringIO()
    call_command("rotate_signing_key", "--publish", "--first", stdout=out)
    first = out.getvalue().strip()
    out = io.StringIO()
    call_command("rotate_signing_key", "--publish", stdout=out)
    second = out.getvalue().strip()

    with pytest.raises(CommandError, match="cache lifetime"):
        call_command("rotate_signing_key", "--activate", second)
    call_command("rotate_signing_key", "--activate", second, "--force")
    with pytest.raises(CommandError, match="active"):
        call_command("rotate_signing_key", "--retire", second)
    call_command("rotate_signing_key", "--retire", first)

    out = io.StringIO()
    call_command("rotate_signing_key", "--status", stdout=out)
    assert out.getvalue().startswith(f"{second} active")


def _production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    keys.publish(tmp_path / "keys", activate=True, size=2048)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "p" * 30 + "Q7v9xZ2kLm4Nw8Rt5Yb3Hc6Jd1Fg0Ss",
            "ALLOWED_HOSTS": "api.example.com",
            "OAUTH_ISSUER": "https://api.example.com/o",
            "API_AUDIENCE": "https://api.example.com/api/v1/",
            "OIDC_KEYS_DIR": str(tmp_path / "keys"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "AUDIT_HMAC_KEYS": "k1:" + "a" * 40,
            "AUDIT_HMAC_ACTIVE_KEY_ID": "k1",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        }
    )
    env.update(overrides)
    return env


def test_deploy_check_reports_no_oauth2_provider_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )

    output = result.stdout + result.stderr
    assert "oauth2_provider" not in output, output


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    env = _production_env(tmp_path, OIDC_KEYS_DIR=str(tmp_path / "empty"))

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "No token signing key" in result.stderr


def test_production_sessions_live_in_the_cache_only(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SESSION_ENGINE, settings.SESSION_COOKIE_AGE)",
        ],
        cwd=ROOT,
        env={**_production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["django.contrib.sessions.backends.cache", "3600"]
