"""The reference domain: organizations, memberships, projects, documents."""

from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Reference resources"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from resources import signals  # noqa: F401 - connects the receivers
        from resources.auditing import register_models

        register_models()
