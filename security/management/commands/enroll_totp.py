"""Give a staff user a TOTP device and print its provisioning URI."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Enroll a staff user for the admin's second factor; prints the otpauth:// "
        "URI to load in an authenticator app (show it as a QR code, then discard)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Username of a staff user.")
        parser.add_argument(
            "--replace", action="store_true", help="Remove the user's existing devices."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None or not user.is_active or not user.is_staff:
            msg = f"No active staff user {options['user']!r}."
            raise CommandError(msg)
        existing = TOTPDevice.objects.devices_for_user(user)
        if existing.exists() and not options["replace"]:
            msg = "The user already has a device; pass --replace to start over."
            raise CommandError(msg)
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name="admin", confirmed=True)
        self.stdout.write(device.config_url)
