"""Builders for test data: users, organizations, content, clients, tokens."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from resources.models import Document, Membership, Organization, Project, Role
from security.tokens import issue_access_token

_counter = itertools.count(1)

Application = get_application_model()


def user(username: str | None = None, **fields: Any) -> Any:
    username = username or f"user{next(_counter)}"
    obj = get_user_model()(username=username, email=f"{username}@example.com", **fields)
    obj.set_password("correct-horse-battery-staple")
    obj.save()
    return obj


def organization(name: str | None = None, **fields: Any) -> Organization:
    name = name or f"Org {next(_counter)}"
    return Organization.objects.create(name=name, **fields)


def membership(org: Organization, member: Any, role: str = Role.MEMBER) -> Membership:
    return Membership.objects.create(organization=org, user=member, role=role)


def project(org: Organization, name: str | None = None, **fields: Any) -> Project:
    return Project.objects.create(
        organization=org, name=name or f"Project {next(_counter)}", **fields
    )


def document(proj: Project, owner: Any, **fields: Any) -> Document:
    fields.setdefault("title", f"Document {next(_counter)}")
    return Document.objects.create(project=proj, owner=owner, **fields)


def application(name: str = "test-client", **fields: Any) -> Any:
    defaults: dict[str, Any] = {
        "client_id": name,
        "client_type": Application.CLIENT_PUBLIC,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": "http://127.0.0.1:8000/cb",
        "allowed_scopes": "openid profile email read write admin audit",
        "default_scopes": "read",
        "client_secret": "",
        "hash_client_secret": False,
    }
    defaults.update(fields)
    existing = Application.objects.filter(name=name).first()
    return existing or Application.objects.create(name=name, **defaults)


def token(
    owner: Any, scope: str = "read", *, client: Any = None, lifetime: int = 600
) -> str:
    return issue_access_token(
        user=owner,
        application=client or application(),
        scopes=scope.split(),
        lifetime_seconds=lifetime,
    )
