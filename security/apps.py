"""The security layer's app: its models, checks and schema extensions."""

from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from security import checks, receivers, schema  # noqa: F401 - registers them
