"""Secure defaults shared by every environment.

Each environment module starts from here; only development.py relaxes
anything, one documented line at a time.
"""

from pathlib import Path

from project.logging import build_logging

from .env import BASE_DIR, env, secret

DJANGO_ENV = env.str("DJANGO_ENV", default="production")

# GENERAL
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = False
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = secret("SECRET_KEY")
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key-fallbacks
SECRET_KEY_FALLBACKS = [
    key for key in secret("SECRET_KEY_FALLBACKS").split(",") if key.strip()
]
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True
ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# DATABASES
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# Unset DATABASE_URL means the embedded SQLite file, so that trying the
# project needs nothing installed; PostgreSQL for anything real.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url_config(
        secret("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
# Take SQLite's write lock when a transaction begins and wait for it,
# rather than fail with "database is locked" when two requests write at
# once; WAL lets readers go on meanwhile.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
# Every request runs in one transaction: a failure half-way through leaves
# no partial write behind.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=5000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A runaway query is cut off by the server instead of holding a worker.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    )

# CACHES
# -----------------------------------------------------------------------------
# https://django-ratelimit.readthedocs.io/en/stable/installation.html
# Rate-limit counters must be shared by every process, so Redis whenever it
# is configured; the local-memory cache only serves a single process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
RATELIMIT_USE_CACHE = "default"
# An unreachable store is handled by security.ratelimit, per endpoint kind.
RATELIMIT_FAIL_OPEN = False

# APPS
# -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "guardian",
    "django_ratelimit",
    "corsheaders",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "security",
    "audit",
    "resources",
]

MIDDLEWARE = [
    "security.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "security.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "audit.middleware.AuditMiddleware",
    "security.ratelimit.AuthRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.middleware.ApiResponseHeadersMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# AUTHENTICATION
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/#substituting-a-custom-user-model
AUTH_USER_MODEL = "security.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/api/docs/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#using-argon2-with-django
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# SESSIONS AND COOKIES
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#sessions
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# SECURITY HEADERS
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# CONTENT SECURITY POLICY
# -----------------------------------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html
# Pages (admin, login, Swagger UI, Redoc) get the minimum they need, with no
# inline script; API responses get `default-src 'none'` (see
# security.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Swagger UI and Redoc set styles from their scripts.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# CORS
# -----------------------------------------------------------------------------
# https://github.com/adamchainz/django-cors-headers#configuration
# None by default; an explicit allowlist for the API. The token endpoint
# answers CORS per application (Application.allowed_origins), and the
# authorization endpoint never does (RFC 9700 section 2.6).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]

# ADMIN AND DOCS
# -----------------------------------------------------------------------------
# Moving the admin off /admin/ keeps it out of the way of scanners.
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
# Staff need a TOTP code to enter the admin (production.py turns it on).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
# Schema and docs pages for everyone (production.py turns it off).
DOCS_PUBLIC = True
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Secure reference API")

# REQUEST LIMITS
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=1024 * 1024)

# STATIC FILES
# -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# Served by WhiteNoise from STATIC_ROOT (collectstatic) in production, from
# the apps' own folders elsewhere.
WHITENOISE_USE_FINDERS = True
# Look files up per request instead of scanning every app at start-up.
WHITENOISE_AUTOREFRESH = True
if STATIC_ROOT.is_relative_to(BASE_DIR / "var"):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# DJANGO REST FRAMEWORK
# -----------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "security.authentication.BearerTokenAuthentication",
    ],
    # Deny by default: a view that forgets its policy serves nothing.
    "DEFAULT_PERMISSION_CLASSES": ["security.permissions.DenyAll"],
    "DEFAULT_PARSER_CLASSES": ["security.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "security.parsers.SizeCheckingNegotiation",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "security.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "security.filters.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "security.schema.PolicyAutoSchema",
    "EXCEPTION_HANDLER": "security.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The browsable API and its ?format= switch exist in development only.
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# OPENAPI
# -----------------------------------------------------------------------------
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Secure reference API",
    "DESCRIPTION": (
        "Every operation states the scopes it needs, the rule that decides it, "
        "and the errors it can return."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs pages are public in development and test;
    # production restricts them (see production.py).
    "SERVE_PERMISSIONS": ["security.permissions.PublicEndpoint"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    # Swagger UI and Redoc come from the project's own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
    "SWAGGER_UI_OAUTH2_CONFIG": {
        "clientId": "demo-spa",
        "usePkceWithAuthorizationCodeGrant": True,
        "scopes": "read",
    },
    "OAUTH2_FLOWS": ["authorizationCode", "clientCredentials"],
    "OAUTH2_AUTHORIZATION_URL": "/o/authorize/",
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_REFRESH_URL": "/o/token/",
    "OAUTH2_SCOPES": None,  # filled from OAUTH2_PROVIDER["SCOPES"] below
    "AUTHENTICATION_WHITELIST": ["security.authentication.BearerTokenAuthentication"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "security.schema.uuid_path_parameters",
    ],
}

# OAUTH 2 AND OPENID CONNECT
# -----------------------------------------------------------------------------
# https://django-oauth-toolkit.readthedocs.io/en/latest/settings.html
OAUTH2_PROVIDER_APPLICATION_MODEL = "security.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "security.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "security.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "security.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "security.Grant"

# The issuer identifier comes from settings, never from a request's Host.
OAUTH_ISSUER = env.str("OAUTH_ISSUER", default="")
API_AUDIENCE = env.str("API_AUDIENCE", default="")
# Signing keys: the active key signs, every published key is in the JWKS.
# OIDC_RSA_PRIVATE_KEY(_FILE) gives a single key; OIDC_KEYS_DIR a rotatable
# set (see docs/authentication.md). Loaded per environment module.
OIDC_KEYS_DIR = Path(
    env.str("OIDC_KEYS_DIR", default=str(BASE_DIR / "var" / "oidc-keys"))
)
OIDC_RSA_PRIVATE_KEY = secret("OIDC_RSA_PRIVATE_KEY")

API_SCOPES = {
    "read": "Read the resources you can see.",
    "write": "Create, change and delete organizations, projects and documents.",
    "admin": "Change memberships and share documents.",
    "audit": "Read the audit events of the organizations you administer.",
    "openid": "Sign you in with OpenID Connect.",
    "profile": "Read your name.",
    "email": "Read your email address.",
}
OAUTH2_PROVIDER = {
    "SCOPES": API_SCOPES,
    # A client that names no scope gets its own defaults, never every scope.
    "DEFAULT_SCOPES": ["read"],
    "SCOPES_BACKEND_CLASS": "security.oauth.ApplicationScopes",
    "OAUTH2_VALIDATOR_CLASS": "security.oauth.OAuth2Validator",
    "OAUTH2_SERVER_CLASS": "security.oauth.Server",
    "OIDC_SERVER_CLASS": "security.oauth.Server",
    "APPLICATION_ADMIN_CLASS": "security.admin.ApplicationAdmin",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_LIFETIME", default=600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int(
        "REFRESH_TOKEN_LIFETIME", default=14 * 24 * 3600
    ),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env.int(
        "AUTHORIZATION_CODE_LIFETIME", default=60
    ),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "REQUEST_APPROVAL_PROMPT": "force",
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ],
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    # Access tokens are RFC 9068 JWTs; refresh tokens stay opaque.
    "ACCESS_TOKEN_GENERATOR": "security.jwt.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "OIDC_ENABLED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_JWKS_MAX_AGE_SECONDS": env.int("OIDC_JWKS_MAX_AGE_SECONDS", default=3600),
    "ID_TOKEN_EXPIRE_SECONDS": env.int("ID_TOKEN_LIFETIME", default=600),
    # Filled by each environment module from the keys and the issuer.
    "OIDC_RSA_PRIVATE_KEY": "",
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
    "OIDC_ISS_ENDPOINT": "",
}
SPECTACULAR_SETTINGS["OAUTH2_SCOPES"] = API_SCOPES

# GUARDIAN
# -----------------------------------------------------------------------------
# https://django-guardian.readthedocs.io/en/stable/configuration.html
# No anonymous user row: an unauthenticated caller holds no object grant.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# PROJECT SECURITY LAYER
# -----------------------------------------------------------------------------
# Read through security.conf.security_settings; see docs/security.md.
SECURITY = {
    "API_AUDIENCE": API_AUDIENCE,
    "TRUSTED_PROXY_COUNT": env.int("TRUSTED_PROXY_COUNT", default=0),
    "TRUSTED_PROXIES": env.list("TRUSTED_PROXIES", default=[]),
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": env.int(
        "REFRESH_TOKEN_ABSOLUTE_LIFETIME", default=30 * 24 * 3600
    ),
    "MAX_PAGE_SIZE": env.int("MAX_PAGE_SIZE", default=100),
    "RATE_LIMITS": {
        "auth_ip": env.str("RATE_LIMIT_AUTH_IP", default="20/m"),
        "auth_failures": env.str("RATE_LIMIT_AUTH_FAILURES", default="5/m"),
        "auth_username_alert": env.str("RATE_LIMIT_USERNAME_ALERT", default="30/h"),
        "api_read": env.str("RATE_LIMIT_API_READ", default="600/m"),
        "api_write": env.str("RATE_LIMIT_API_WRITE", default="120/m"),
        "api_anonymous_ip": env.str("RATE_LIMIT_API_ANONYMOUS_IP", default="60/m"),
        "sensitive": env.str("RATE_LIMIT_SENSITIVE", default="30/m"),
    },
    "STUFFING_DISTINCT_USERNAMES": env.int("STUFFING_DISTINCT_USERNAMES", default=10),
    "STUFFING_WINDOW_SECONDS": env.int("STUFFING_WINDOW_SECONDS", default=600),
    "STUFFING_BLOCK_SECONDS": env.int("STUFFING_BLOCK_SECONDS", default=900),
    "RATE_LIMIT_FAIL_OPEN": env.bool("RATE_LIMIT_FAIL_OPEN", default=True),
    "STEP_UP_MAX_AGE": env.int("STEP_UP_MAX_AGE", default=300),
    "MAX_JSON_DEPTH": env.int("MAX_JSON_DEPTH", default=32),
    "FIELD_MAX_LENGTHS": {
        "name": env.int("MAX_NAME_LENGTH", default=200),
        "title": env.int("MAX_TITLE_LENGTH", default=200),
        "description": env.int("MAX_DESCRIPTION_LENGTH", default=2000),
        "body": env.int("MAX_BODY_LENGTH", default=100_000),
        "internal_notes": env.int("MAX_INTERNAL_NOTES_LENGTH", default=10_000),
        "display_name": env.int("MAX_DISPLAY_NAME_LENGTH", default=200),
    },
    "ALLOW_FORMAT_PARAMETER": False,
}


# AUDIT TRAIL
# -----------------------------------------------------------------------------
# Read through audit.conf.audit_settings; see docs/audit.md. Keys are
# "id:secret" pairs; the secrets never reach the database.
def _audit_keys(spec: str) -> dict[str, str]:
    keys = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _sep, key = item.partition(":")
        keys[key_id] = key
    return keys


AUDIT = {
    "HMAC_KEYS": _audit_keys(secret("AUDIT_HMAC_KEYS")),
    "ACTIVE_KEY_ID": env.str("AUDIT_HMAC_ACTIVE_KEY_ID", default=""),
    "ALERT_WEBHOOK_URL": env.str("AUDIT_ALERT_WEBHOOK_URL", default=""),
    "ALERT_EMAIL": env.bool("AUDIT_ALERT_EMAIL", default=True),
    "AGGREGATE_SECONDS": env.int("AUDIT_AGGREGATE_SECONDS", default=60),
    "HEAD_LOG_SECONDS": env.int("AUDIT_HEAD_LOG_SECONDS", default=60),
}
ADMINS = [("Security", address) for address in env.list("ADMIN_EMAILS", default=[])]

# LOGGING
# -----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/
LOGGING = build_logging(
    json_lines=env.bool("LOG_JSON", default=True),
    level=env.str("LOG_LEVEL", default="INFO"),
)


def configure_signing(*, issuer: str, audience: str, generate: bool) -> None:
    """Fill the OAuth settings from this environment's keys and issuer.

    `generate` creates a development key when none exists; production never
    generates one.
    """
    from django.core.exceptions import ImproperlyConfigured

    from security import keys

    if generate and not OIDC_RSA_PRIVATE_KEY:
        keys.ensure_development_key(OIDC_KEYS_DIR)
    loaded = keys.load(OIDC_KEYS_DIR) if OIDC_KEYS_DIR.exists() else None
    if OIDC_RSA_PRIVATE_KEY:
        active, inactive = OIDC_RSA_PRIVATE_KEY, list(loaded.inactive if loaded else [])
    elif loaded is not None:
        active, inactive = loaded.active, list(loaded.inactive)
    else:
        msg = (
            "No token signing key: set OIDC_RSA_PRIVATE_KEY(_FILE) or OIDC_KEYS_DIR "
            "with an active key (manage.py rotate_signing_key --publish --activate)."
        )
        raise ImproperlyConfigured(msg)
    if not issuer or not audience:
        msg = "OAUTH_ISSUER and API_AUDIENCE must be set."
        raise ImproperlyConfigured(msg)
    OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = active
    OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] = inactive
    OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = issuer
    SECURITY["API_AUDIENCE"] = audience
