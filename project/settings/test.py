"""Test: fast and deterministic, otherwise as strict as production."""

from project.logging import build_logging

from .base import *  # noqa: F403
from .base import (
    API_AUDIENCE,
    AUDIT,
    OAUTH2_PROVIDER,
    OAUTH_ISSUER,
    REDIS_URL,
    configure_signing,
    env,
)

DJANGO_ENV = "test"

SECRET_KEY = "test-only-secret-key-not-for-any-deployment"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Argon2 by design costs time; the suite hashes hundreds of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The live-server tests talk plain http to 127.0.0.1.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["http", "https"]
if not REDIS_URL:
    # A test run without Redis is one process; CI always sets REDIS_URL.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
LOGGING = build_logging(json_lines=True, level=env.str("LOG_LEVEL", default="CRITICAL"))
# A signing key is generated under var/ on first use; production never does.
configure_signing(
    issuer=OAUTH_ISSUER or "http://testserver/o",
    audience=API_AUDIENCE or "http://testserver/api/v1/",
    generate=True,
)
# A fixed audit key, so that the chain of a development database verifies
# across restarts; production refuses to start without its own.
if not AUDIT["HMAC_KEYS"]:
    AUDIT["HMAC_KEYS"] = {"dev": "development-only-audit-key"}
    AUDIT["ACTIVE_KEY_ID"] = "dev"
