"""Build: only what `collectstatic` needs in the Docker image, no secrets.

Never serves a request: no signing key, no database, no cache.
"""

from .base import *  # noqa: F403

DJANGO_ENV = "build"
SECRET_KEY = "build-only-never-serves-a-request"
ALLOWED_HOSTS = []
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
