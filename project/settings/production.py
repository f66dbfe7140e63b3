"""Production: secrets come from the environment, with no defaults.

The process refuses to start, with a message that names the fix, when a
secret is missing or an example value, DEBUG is asked for, no host is
allowed, the cache is not shared, or a signing or audit key is missing.
Refusals that read the database (demo data, http redirect URIs, the audit
triggers) are system checks run at start-up and by
`check --deploy --database default`.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    API_AUDIENCE,
    AUDIT,
    OAUTH_ISSUER,
    REDIS_URL,
    SECRET_KEY,
    SECURITY,
    configure_signing,
    env,
)

DJANGO_ENV = "production"

_EXAMPLE_MARKERS = ("change-me", "insecure", "example", "development", "test-only")


def _refuse(message: str) -> None:
    raise ImproperlyConfigured(message)


if not SECRET_KEY or any(marker in SECRET_KEY.lower() for marker in _EXAMPLE_MARKERS):
    _refuse(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set to a long random value in "
        "production; generate one with `python -c 'import secrets; "
        "print(secrets.token_urlsafe(64))'`."
    )
if len(SECRET_KEY) < 50:
    _refuse("SECRET_KEY must be at least 50 characters long.")
if env.bool("DEBUG", default=False):
    _refuse("DEBUG must be off in production: it shows tracebacks and settings.")
if not ALLOWED_HOSTS:
    _refuse("ALLOWED_HOSTS must list the host names this API is served under.")
if not REDIS_URL:
    _refuse(
        "REDIS_URL must point at the Redis that every process shares: rate "
        "limits and sessions live there."
    )
configure_signing(issuer=OAUTH_ISSUER, audience=API_AUDIENCE, generate=False)
_audit_key = AUDIT["HMAC_KEYS"].get(AUDIT["ACTIVE_KEY_ID"], "")
if len(_audit_key) < 32 or any(m in _audit_key.lower() for m in _EXAMPLE_MARKERS):
    _refuse(
        "AUDIT_HMAC_KEYS (or _FILE) must hold the key named by "
        "AUDIT_HMAC_ACTIVE_KEY_ID: at least 32 random characters, not the "
        "example's placeholder."
    )

DEBUG = False

# STATIC FILES
# -----------------------------------------------------------------------------
# Collected at image build time, served by WhiteNoise with far-future caching.
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# SESSIONS
# -----------------------------------------------------------------------------
# Sessions live in the shared cache only: a copy of the database holds no
# session key that could be replayed.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

# HTTPS
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-ssl-redirect
SECURE_SSL_REDIRECT = True
# Probes call the app directly over http; they must not get a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# One year, subdomains included (OWASP ASVS 3.4.1); preload is a promise to
# browsers that is hard to take back, so it is a setting.
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=True)
if SECURITY["TRUSTED_PROXY_COUNT"] or SECURITY["TRUSTED_PROXIES"]:
    # Trusted only when a proxy is declared: otherwise a client could claim
    # https by sending the header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ADMIN AND DOCS
# -----------------------------------------------------------------------------
# Staff enter the admin with a password and a TOTP code (django-otp).
ADMIN_REQUIRE_OTP = True
# The schema and docs are for staff signed in to the admin unless made public.
DOCS_PUBLIC = env.bool("DOCS_PUBLIC", default=False)
