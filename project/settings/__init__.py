"""Load the settings module that DJANGO_ENV names; unset means production.

Failing closed: a deployment that forgets the variable gets the strictest
settings, never the development relaxations. Naming a submodule directly
(`DJANGO_SETTINGS_MODULE=project.settings.test`, as the test suite does)
bypasses the selection.
"""

import os

from django.core.exceptions import ImproperlyConfigured

if os.environ.get("DJANGO_SETTINGS_MODULE", __name__) == __name__:
    DJANGO_ENV = os.environ.get("DJANGO_ENV", "production")
    if DJANGO_ENV == "production":
        from .production import *  # noqa: F403
    elif DJANGO_ENV == "development":
        from .development import *  # noqa: F403
    elif DJANGO_ENV == "test":
        from .test import *  # noqa: F403
    else:
        msg = f"DJANGO_ENV={DJANGO_ENV!r} is not one of production, development, test."
        raise ImproperlyConfigured(msg)
