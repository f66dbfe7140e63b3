"""Print an access token for a user, for trying the API from a shell."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings

from security.management.base import refuse_in_production
from security.tokens import MAX_LIFETIME_SECONDS, issue_access_token

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Issue an access token for a user and print it alone on standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Username.")
        parser.add_argument(
            "--scope", required=True, help='Scopes, as in "read write".'
        )
        parser.add_argument(
            "--client", default="demo-spa", help="Application name (default demo-spa)."
        )
        parser.add_argument(
            "--expires",
            type=int,
            default=None,
            help="Lifetime in seconds (default: access-token lifetime; max a day).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production("issue_token")
        lifetime = options["expires"]
        if lifetime is None:
            lifetime = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
        if not 0 < lifetime <= MAX_LIFETIME_SECONDS:
            msg = "--expires must be between 1 and 86400 seconds."
            raise CommandError(msg)

        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None or not user.is_active:
            msg = f"No active user {options['user']!r}."
            raise CommandError(msg)
        application = (
            get_application_model().objects.filter(name=options["client"]).first()
        )
        if application is None:
            msg = f"No application {options['client']!r}."
            raise CommandError(msg)
        scopes = options["scope"].split()
        if not scopes:
            msg = "--scope names no scope."
            raise CommandError(msg)

        try:
            token = issue_access_token(
                user=user,
                application=application,
                scopes=scopes,
                lifetime_seconds=lifetime,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        logger.info(
            "token_issued_by_command",
            extra={"actor_id": str(user.pk), "client_id": application.client_id},
        )
        self.stdout.write(token)
