"""Test: fast and deterministic, otherwise as strict as production."""

from .base import *  # noqa: F403
from .base import (
    API_AUDIENCE,
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
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": env.str("LOG_LEVEL", default="WARNING")},
}
# A signing key is generated under var/ on first use; production never does.
configure_signing(
    issuer=OAUTH_ISSUER or "http://testserver/o",
    audience=API_AUDIENCE or "http://testserver/api/v1/",
    generate=True,
)
