"""Development: every relaxation of base.py, one line each, with its reason."""

from project.logging import build_logging

from .base import *  # noqa: F403
from .base import (
    API_AUDIENCE,
    AUDIT,
    OAUTH2_PROVIDER,
    OAUTH_ISSUER,
    REDIS_URL,
    REST_FRAMEWORK,
    SECURITY,
    configure_signing,
    env,
    secret,
)

DJANGO_ENV = "development"

# Tracebacks in the browser are what a developer wants on their own machine.
DEBUG = env.bool("DEBUG", default=True)
# A fixed key keeps sessions across restarts; production refuses this value.
SECRET_KEY = secret("SECRET_KEY", default="development-only-insecure-secret-key")
# `make run` serves on loopback only.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Plain http on loopback: secure-only cookies would never be sent back.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Native and development clients redirect to loopback over http (RFC 8252).
OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["http", "https"]
# The browsable API, reached with the admin login session, reads only.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "security.authentication.BearerTokenAuthentication",
    "security.authentication.DevelopmentSessionAuthentication",
]
REST_FRAMEWORK["URL_FORMAT_OVERRIDE"] = "format"
SECURITY["ALLOW_FORMAT_PARAMETER"] = True
SECURITY["SESSION_SCOPES"] = ["read"]
if not REDIS_URL:
    # One `runserver` process: its local-memory cache is shared by all the
    # requests it serves, which is all django-ratelimit's check guards.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
# A signing key is generated under var/ on first use; production never does.
configure_signing(
    issuer=OAUTH_ISSUER or "http://127.0.0.1:8000/o",
    audience=API_AUDIENCE or "http://127.0.0.1:8000/api/v1/",
    generate=True,
)
# Readable log lines on a developer's terminal.
LOGGING = build_logging(
    json_lines=env.bool("LOG_JSON", default=False),
    level=env.str("LOG_LEVEL", default="INFO"),
)
# A fixed audit key, so that the chain of a development database verifies
# across restarts; production refuses to start without its own.
if not AUDIT["HMAC_KEYS"]:
    AUDIT["HMAC_KEYS"] = {"dev": "development-only-audit-key"}
    AUDIT["ACTIVE_KEY_ID"] = "dev"
