"""Fixtures of the whole suite: the demo world and authenticated clients."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from resources.models import Classification, Role
from tests import factories

# ---------------------------------------------------------------------------
# The audit table's triggers, relaxed for this throw-away database only
# ---------------------------------------------------------------------------

AUDIT_FLUSH = {"allowed": True}


def _allow_audit_flush(connection: Any) -> None:
    """Let the suite empty its own database between tests (audit.triggers)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "audit_test_allow_flush", 0, lambda: int(AUDIT_FLUSH["allowed"])
        )
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET audit.test_allow_flush = 'on'")


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    _allow_audit_flush(connection)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    from django.db import connections
    from django.db.backends.signals import connection_created

    from audit import triggers

    connection_created.connect(_on_connection_created, dispatch_uid="audit-test-flush")
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.ensure_connection()
            _allow_audit_flush(connection)
            triggers.install(connection, test_bypass=True)


@pytest.fixture
def strict_audit_triggers(db: None) -> Any:
    """Make the audit triggers refuse changes again, as in a real database."""
    from django.db import connection

    AUDIT_FLUSH["allowed"] = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL audit.test_allow_flush = 'off'")
    yield
    AUDIT_FLUSH["allowed"] = True


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings
    from django.db import connection

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"database vendor: {connection.vendor}; cache: {cache}"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from django.db import connection

    terminalreporter.write_line(f"suite ran on database vendor: {connection.vendor}")


def require_service(available: bool, name: str) -> None:
    """Skip a test whose service is missing, except in CI where it fails."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required in CI and is not available.")
    pytest.skip(f"{name} is not available on this machine.")


@dataclass
class World:
    """Two organizations and one user of every role, as in the demo data."""

    acme: Any
    globex: Any
    owner: Any
    admin: Any
    member: Any
    viewer: Any
    outsider: Any
    acme_project: Any
    globex_project: Any
    public_doc: Any
    internal_doc: Any
    confidential_doc: Any
    globex_doc: Any


@pytest.fixture
def world(db: None) -> World:
    acme = factories.organization("Acme")
    globex = factories.organization("Globex")
    owner = factories.user("alice")
    admin = factories.user("bob")
    member = factories.user("carol")
    viewer = factories.user("dave")
    outsider = factories.user("erin")
    factories.membership(acme, owner, Role.OWNER)
    factories.membership(acme, admin, Role.ADMIN)
    factories.membership(acme, member, Role.MEMBER)
    factories.membership(acme, viewer, Role.VIEWER)
    factories.membership(globex, outsider, Role.OWNER)
    acme_project = factories.project(acme, "Rockets")
    globex_project = factories.project(globex, "Hammocks")
    return World(
        acme=acme,
        globex=globex,
        owner=owner,
        admin=admin,
        member=member,
        viewer=viewer,
        outsider=outsider,
        acme_project=acme_project,
        globex_project=globex_project,
        public_doc=factories.document(
            acme_project, member, classification=Classification.PUBLIC
        ),
        internal_doc=factories.document(
            acme_project,
            member,
            classification=Classification.INTERNAL,
            internal_notes="admins only",
        ),
        confidential_doc=factories.document(
            acme_project, owner, classification=Classification.CONFIDENTIAL
        ),
        globex_doc=factories.document(
            globex_project, outsider, classification=Classification.INTERNAL
        ),
    )


ClientFactory = Callable[..., APIClient]


@pytest.fixture
def client_for(db: None) -> ClientFactory:
    """Return a function that builds an API client holding a user's token."""

    def build(user: Any, scope: str = "read") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token(user, scope)}")
        return client

    return build


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Start each test with an empty cache (rate limits, aggregation)."""
    from django.core.cache import cache

    cache.clear()
