"""End every token of a user or of a client at once (incident containment)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from security import signals
from security.events import emit


class Command(BaseCommand):
    help = "Revoke all access and refresh tokens of a user or of a client."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--user", help="Username.")
        group.add_argument("--client", help="Client id.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                msg = f"No user {options['user']!r}."
                raise CommandError(msg)
            lookup: dict[str, Any] = {"user": user}
            user_id, client_id = str(user.pk), None
        else:
            client = (
                get_application_model()
                .objects.filter(client_id=options["client"])
                .first()
            )
            if client is None:
                msg = f"No client {options['client']!r}."
                raise CommandError(msg)
            lookup = {"application": client}
            user_id, client_id = None, client.client_id

        count, _ = get_access_token_model().objects.filter(**lookup).delete()
        get_refresh_token_model().objects.filter(revoked=None, **lookup).update(
            revoked=timezone.now()
        )
        signals.tokens_revoked.send(
            sender=type(self),
            user_id=user_id,
            client_id=client_id,
            count=count,
            reason="revoke_tokens_command",
        )
        emit(
            "oauth.token_revoked",
            actor_id=user_id,
            client_id=client_id,
            count=count,
            reason="revoke_tokens_command",
        )
        self.stdout.write(f"revoked {count} access tokens and their refresh tokens")
