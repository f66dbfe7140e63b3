"""Rotate the token signing keys of OIDC_KEYS_DIR in two steps.

    rotate_signing_key --status
    rotate_signing_key --publish            # new key, published, not signing
    rotate_signing_key --activate KID       # after the JWKS cache lifetime
    rotate_signing_key --retire KID         # once its tokens have expired

Every replica reads the directory at start-up: restart them after each step
(docs/authentication.md has the runbook).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.settings import oauth2_settings

from security import keys

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish, activate or retire token signing keys (two-step rotation)."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--status", action="store_true", help="List the keys.")
        group.add_argument(
            "--publish", action="store_true", help="Publish a new, inactive key."
        )
        group.add_argument("--activate", metavar="KID", help="Make a key the signer.")
        group.add_argument("--retire", metavar="KID", help="Stop publishing a key.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Activate before the JWKS cache lifetime has passed.",
        )
        parser.add_argument(
            "--first",
            action="store_true",
            help="With --publish: make the new key active at once (empty directory).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = settings.OIDC_KEYS_DIR
        try:
            if options["publish"]:
                kid = keys.publish(directory, activate=options["first"])
                logger.info("signing_key_published", extra={"kid": kid})
                self.stdout.write(kid)
            elif options["activate"]:
                min_published = timedelta(
                    seconds=oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
                )
                keys.activate(
                    directory,
                    options["activate"],
                    min_published=min_published,
                    force=options["force"],
                )
                logger.info("signing_key_activated", extra={"kid": options["activate"]})
            elif options["retire"]:
                keys.retire(directory, options["retire"])
                logger.info("signing_key_retired", extra={"kid": options["retire"]})
            else:
                self._status(directory)
        except keys.SigningKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _status(self, directory: Any) -> None:
        manifest = keys.read_manifest(directory)
        entries = manifest.get("keys") or {}
        now = datetime.now(tz=UTC)
        for kid, meta in sorted(entries.items()):
            age = now - datetime.fromisoformat(meta["published_at"])
            state = "active" if kid == manifest.get("active") else "published"
            self.stdout.write(
                f"{kid} {state} published {int(age.total_seconds())} s ago"
            )
