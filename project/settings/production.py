"""Production: secrets come from the environment, with no defaults."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    API_AUDIENCE,
    AUDIT,
    OAUTH_ISSUER,
    SECRET_KEY,
    configure_signing,
)

DJANGO_ENV = "production"

_EXAMPLE_MARKERS = ("change-me", "insecure", "example", "development", "test-only")

if not SECRET_KEY or any(marker in SECRET_KEY.lower() for marker in _EXAMPLE_MARKERS):
    msg = (
        "SECRET_KEY (or SECRET_KEY_FILE) must be set to a long random value in "
        "production; generate one with `python -c 'import secrets; "
        "print(secrets.token_urlsafe(64))'`."
    )
    raise ImproperlyConfigured(msg)
if len(SECRET_KEY) < 50:
    msg = "SECRET_KEY must be at least 50 characters long."
    raise ImproperlyConfigured(msg)
if not ALLOWED_HOSTS:
    msg = "ALLOWED_HOSTS must list the host names this API is served under."
    raise ImproperlyConfigured(msg)

# Sessions live in the shared cache only: a copy of the database holds no
# session key that could be replayed.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-ssl-redirect
SECURE_SSL_REDIRECT = True
# One year, subdomains included (OWASP ASVS 3.4.1).
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True

configure_signing(issuer=OAUTH_ISSUER, audience=API_AUDIENCE, generate=False)

if (
    AUDIT["ACTIVE_KEY_ID"] not in AUDIT["HMAC_KEYS"]
    or len(AUDIT["HMAC_KEYS"][AUDIT["ACTIVE_KEY_ID"]]) < 32
):
    msg_0 = (
        "AUDIT_HMAC_KEYS (or _FILE) must hold the key named by "
        "AUDIT_HMAC_ACTIVE_KEY_ID, at least 32 characters long."
    )
    raise ImproperlyConfigured(msg_0)
