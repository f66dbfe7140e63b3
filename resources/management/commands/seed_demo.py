"""Create the demo organizations, users, content and OAuth clients.

Idempotent: a second run creates nothing and changes nothing, except the
passwords `--password` sets and the secret `--service-secret` sets. New
users' generated passwords and a new client secret are printed once.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from oauth2_provider.models import get_application_model

from resources.models import (
    Classification,
    Document,
    Membership,
    Organization,
    Project,
    Role,
)
from security.management.base import refuse_in_production

logger = logging.getLogger(__name__)

ORGANIZATIONS = {"acme": "Acme", "globex": "Globex"}

# username -> (organization slug, role, display name)
USERS = {
    "alice": ("acme", Role.OWNER, "Alice Archer"),
    "bob": ("acme", Role.ADMIN, "Bob Baker"),
    "carol": ("acme", Role.MEMBER, "Carol Cole"),
    "dave": ("acme", Role.VIEWER, "Dave Dunn"),
    "erin": ("globex", Role.OWNER, "Erin Ellis"),
}
SERVICE_ACCOUNT = "svc-reporting"

# slug -> [(project, [(title, classification, owner, internal notes)])]
CONTENT = {
    "acme": [
        (
            "Rocket skates",
            [
                ("Launch checklist", Classification.PUBLIC, "carol", ""),
                (
                    "Supplier terms",
                    Classification.INTERNAL,
                    "bob",
                    "Renegotiate in Q3.",
                ),
                (
                    "Incident review",
                    Classification.CONFIDENTIAL,
                    "alice",
                    "Legal hold.",
                ),
            ],
        ),
        (
            "Giant magnets",
            [
                ("Field test plan", Classification.INTERNAL, "carol", ""),
                (
                    "Patent draft",
                    Classification.CONFIDENTIAL,
                    "carol",
                    "Not filed yet.",
                ),
            ],
        ),
    ],
    "globex": [
        (
            "Hammock district",
            [
                ("Press kit", Classification.PUBLIC, "erin", ""),
                ("Budget", Classification.INTERNAL, "erin", "Board approved."),
                ("Acquisition memo", Classification.CONFIDENTIAL, "erin", "Eyes only."),
            ],
        ),
    ],
}

SPA_REDIRECT_URI = "http://127.0.0.1:8000/api/docs/oauth2-redirect.html"


class Command(BaseCommand):
    help = "Create the demo data of the API contract (refused in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", help="Set every demo user's password to this value."
        )
        parser.add_argument(
            "--service-secret", help="Set demo-service's client secret."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production("seed_demo")
        password = options["password"]
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError("--password: " + " ".join(exc.messages)) from exc

        with transaction.atomic():
            generated = self._users(password)
            self._organizations()
            self._content()
            secret = self._applications(options["service_secret"])

        for username, new_password in generated.items():
            self.stdout.write(f"user {username} password {new_password}")
        if secret:
            self.stdout.write(f"client demo-service secret {secret}")

    def _users(self, password: str | None) -> dict[str, str]:
        user_model = get_user_model()
        generated: dict[str, str] = {}
        for username, (_org, _role, display_name) in USERS.items():
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model(
                    username=username,
                    email=f"{username}@example.com",
                    display_name=display_name,
                )
                if password is None:
                    generated[username] = secrets.token_urlsafe(12)
                user.set_password(password or generated[username])
                user.save()
                logger.info("demo_user_created", extra={"username": username})
            elif password is not None:
                user.set_password(password)
                user.save(update_fields=["password"])
        service = user_model.objects.filter(username=SERVICE_ACCOUNT).first()
        if service is None:
            service = user_model(
                username=SERVICE_ACCOUNT,
                display_name="Reporting service",
                is_service_account=True,
            )
            service.set_unusable_password()
            service.save()
        return generated

    def _organizations(self) -> None:
        user_model = get_user_model()
        for slug, name in ORGANIZATIONS.items():
            if not Organization.objects.filter(slug=slug).exists():
                Organization.objects.create(name=name, slug=slug)
        members = {**USERS, SERVICE_ACCOUNT: ("acme", Role.VIEWER, "")}
        for username, (slug, role, _name) in members.items():
            Membership.objects.get_or_create(
                organization=Organization.objects.get(slug=slug),
                user=user_model.objects.get(username=username),
                defaults={"role": role},
            )

    def _content(self) -> None:
        user_model = get_user_model()
        for slug, projects in CONTENT.items():
            organization = Organization.objects.get(slug=slug)
            creator = Membership.objects.filter(
                organization=organization, role=Role.OWNER
            ).first()
            for project_name, documents in projects:
                project, _created = Project.objects.get_or_create(
                    organization=organization,
                    name=project_name,
                    defaults={"created_by": creator.user if creator else None},
                )
                for title, classification, owner, notes in documents:
                    Document.objects.get_or_create(
                        project=project,
                        title=title,
                        defaults={
                            "classification": classification,
                            "owner": user_model.objects.get(username=owner),
                            "internal_notes": notes,
                            "body": f"{title} for {project_name}.",
                        },
                    )

    def _applications(self, service_secret: str | None) -> str | None:
        application_model = get_application_model()
        user_model = get_user_model()
        if not application_model.objects.filter(name="demo-spa").exists():
            application_model.objects.create(
                name="demo-spa",
                client_id="demo-spa",
                client_type=application_model.CLIENT_PUBLIC,
                authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
                redirect_uris=SPA_REDIRECT_URI,
                allowed_scopes="openid profile email read write admin audit",
                default_scopes="read",
                client_secret="",
                hash_client_secret=False,
            )
        service = application_model.objects.filter(name="demo-service").first()
        printed = None
        if service is None:
            printed = service_secret or secrets.token_urlsafe(32)
            application_model.objects.create(
                name="demo-service",
                client_id="demo-service",
                client_type=application_model.CLIENT_CONFIDENTIAL,
                authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
                client_secret=printed,
                allowed_scopes="read",
                default_scopes="read",
                service_account=user_model.objects.get(username=SERVICE_ACCOUNT),
            )
            return None if service_secret else printed
        if service_secret:
            service.client_secret = service_secret
            service.save(update_fields=["client_secret"])
        return None
