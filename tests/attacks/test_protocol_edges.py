"""Edges of the protocol an attacker probes: odd routes, methods, headers,
numbers, sizes, races and oracles. Each pins the contract's answer.

The PostgreSQL-only races skip on SQLite outside CI (like the suite's other
concurrency tests).
"""

from __future__ import annotations

import contextlib
import io
import threading
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from resources.models import Membership, Organization, Project, Role
from tests import factories
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}
FORM = "application/x-www-form-urlencoded"
PROJECTS = "/api/v1/projects/"
ORGANIZATIONS = "/api/v1/organizations/"


def _bearer(raw: str, header: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header or f"Bearer {raw}")
    return client


# ---------------------------------------------------------------------------
# Errors from /api/v1/ that are not problem details
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/not-a-uuid/",
        "/api/v1/projects/1/",
        "/api/v1/no-such-collection/",
    ],
)
def test_unrouted_api_path_is_404_problem_json(world, client_for, path):
    response = client_for(world.owner).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["code"] == "not_found"
    assert body["request_id"] == response["X-Request-ID"]


def test_disallowed_host_on_api_is_400_problem_json(world, client_for):
    response = client_for(world.owner).get(PROJECTS, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_post_without_trailing_slash_is_not_a_500_under_make_run(
    world, client_for, settings
):
    # `make run` serves with DEBUG on; APPEND_SLASH then raises on a POST.
    settings.DEBUG = True
    client = client_for(world.admin, "write")
    client.raise_request_exception = False

    response = client.post(
        "/api/v1/projects",
        {"organization": str(world.acme.pk), "name": "x"},
        format="json",
    )

    assert response.status_code < 500


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/users/me/"),
        ("put", "/api/v1/users/me/"),
        ("delete", PROJECTS),
        ("post", "project-detail"),
        ("get", "document-share"),
    ],
)
def test_unsupported_method_is_405_method_not_allowed(world, client_for, method, path):
    if path == "project-detail":
        path = f"{PROJECTS}{world.acme_project.pk}/"
    elif path == "document-share":
        path = f"/api/v1/documents/{world.public_doc.pk}/share/"
    client = client_for(world.owner, "read write admin")

    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "Allow" in response


# ---------------------------------------------------------------------------
# Tokens outside the Authorization header, malformed headers
# ---------------------------------------------------------------------------


def test_token_in_multipart_form_body_is_401_even_beside_valid_header(world):
    raw = factories.token(world.admin, "write")

    response = _bearer(raw).post(
        PROJECTS, {"access_token": raw, "name": "x"}, format="multipart"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_token_in_form_body_is_401_whatever_the_media_type_case(world):
    raw = factories.token(world.admin, "write")

    response = _bearer(raw).post(
        PROJECTS,
        urlencode({"access_token": raw}),
        content_type="Application/X-WWW-Form-Urlencoded",
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_malformed_bearer_header_is_401_invalid_token_like_its_challenge(world):
    raw = factories.token(world.owner)

    response = _bearer(raw, header=f"Bearer\t{raw}").get(PROJECTS)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "invalid_token"


# ---------------------------------------------------------------------------
# Bodies and query parameters
# ---------------------------------------------------------------------------


def test_json_number_overflowing_to_infinity_is_400_parse_error(world, client_for):
    response = client_for(world.admin, "write").post(
        PROJECTS,
        data=f'{{"organization": "{world.acme.pk}", "name": 1e999}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Project.objects.filter(name="inf").exists()


def test_body_over_limit_is_413_whatever_the_content_type(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client_for(world.admin, "write").post(
        PROJECTS, data="x" * 5000, content_type="text/plain"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_put_without_the_full_writable_representation_is_400(world, client_for):
    document = world.internal_doc  # owned by the member

    response = client_for(world.member, "write").put(
        f"/api/v1/documents/{document.pk}/", {"title": "Only a title"}, format="json"
    )

    assert response.status_code == 400
    assert {error["code"] for error in response.json()["errors"]} == {"required"}
    document.refresh_from_db()
    assert document.title != "Only a title"


def test_page_past_the_last_is_404_however_large(world, client_for):
    response = client_for(world.owner).get(PROJECTS, {"page": "10000000000"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_huge_page_size_is_capped_not_refused(world, client_for):
    response = client_for(world.owner).get(PROJECTS, {"page_size": "10000000000"})

    assert response.status_code == 200


# ---------------------------------------------------------------------------
# Concurrent writes: a 500 instead of an answer
# ---------------------------------------------------------------------------


def test_concurrent_write_transactions_on_sqlite_wait_instead_of_failing(tmp_path):
    """Two requests that read then write (ATOMIC_REQUESTS) on the SQLite file.

    With deferred transactions the second writer fails at once with
    "database is locked"; `make run` then answers 500 to any two concurrent
    writes (two PATCH users/me/ at once, say).
    """
    from django.conf import settings
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "race.sqlite3"),
        "OPTIONS": dict(settings.SQLITE_OPTIONS),
    }
    setup = DatabaseWrapper(dict(settings_dict), alias="breaker_setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
    setup.close()
    barrier = threading.Barrier(2)
    failures: list[str] = []

    def read_then_write(index: int) -> None:
        conn = DatabaseWrapper(dict(settings_dict), alias=f"breaker_{index}")
        try:
            # What transaction.atomic() does on SQLite.
            conn.set_autocommit(
                False, force_begin_transaction_with_broken_autocommit=True
            )
            with conn.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM counter")
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=1)
                cursor.execute("INSERT INTO counter VALUES (%s)", [index])
            conn.commit()
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=read_then_write, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []


def _concurrently(count: int, request) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            statuses.append(request().status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_of_same_named_organizations_is_never_500(world):
    require_service(connection.vendor == "postgresql", "PostgreSQL")
    raw = factories.token(world.owner, "write")

    statuses = _concurrently(
        8,
        lambda: _bearer(raw).post(ORGANIZATIONS, {"name": "Race Co"}, format="json"),
    )

    assert 500 not in statuses
    assert statuses.count(201) == 8
    assert Organization.objects.filter(name="Race Co").count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_addition_of_the_same_member_is_never_500(world):
    require_service(connection.vendor == "postgresql", "PostgreSQL")
    raw = factories.token(world.owner, "admin")
    newcomer = factories.user()
    body = {
        "organization": str(world.acme.pk),
        "user": str(newcomer.pk),
        "role": Role.MEMBER,
    }

    statuses = _concurrently(
        8, lambda: _bearer(raw).post("/api/v1/memberships/", body, format="json")
    )

    assert 500 not in statuses
    assert sorted(statuses) == [201] + [400] * 7
    assert Membership.objects.filter(user=newcomer).count() == 1


# ---------------------------------------------------------------------------
# OAuth endpoints
# ---------------------------------------------------------------------------


def test_token_endpoint_does_not_reveal_whether_a_password_is_right(world):
    factories.application()

    def attempt(password: str) -> tuple[int, dict]:
        response = Client().post(
            "/o/token/",
            urlencode(
                {
                    "grant_type": "password",
                    "username": "alice",
                    "password": password,
                    "client_id": "test-client",
                }
            ),
            content_type=FORM,
        )
        return response.status_code, response.json()

    assert attempt("correct-horse-battery-staple") == attempt("a-wrong-password")


# ---------------------------------------------------------------------------
# Information leaks
# ---------------------------------------------------------------------------


def test_organization_slug_does_not_reveal_another_tenants_organization(
    world, client_for
):
    """`acme` belongs to another tenant; erin must not learn that it exists."""
    client = client_for(world.outsider, "write")

    taken = client.post(ORGANIZATIONS, {"name": "Acme"}, format="json").json()
    fresh = client.post(ORGANIZATIONS, {"name": "Zebra"}, format="json").json()

    assert len(taken["slug"]) - len("acme") == len(fresh["slug"]) - len("zebra")


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def test_issue_token_refuses_a_zero_lifetime(world):
    factories.application()

    with pytest.raises(CommandError, match="between"):
        call_command(
            "issue_token",
            "--user",
            "alice",
            "--scope",
            "read",
            "--client",
            "test-client",
            "--expires",
            "0",
            stdout=io.StringIO(),
        )
