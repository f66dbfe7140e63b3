"""Shared guard for commands that must never run against production."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError


def refuse_in_production(command: str) -> None:
    """Raise CommandError when the production settings are loaded."""
    if getattr(settings, "DJANGO_ENV", "production") == "production":
        msg = (
            f"{command} creates demo credentials and refuses to run with production "
            "settings; set DJANGO_ENV=development."
        )
        raise CommandError(msg)
