"""Bearer tokens: where they are accepted, and every way they are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.test import APIClient

from tests import factories

PROJECTS = "/api/v1/projects/"

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def test_anonymous_gets_401_with_bearer_challenge(world, anonymous):
    response = anonymous.get(PROJECTS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()) == PROBLEM_KEYS
    assert response.json()["code"] == "not_authenticated"


def test_unknown_token_gets_401_invalid_token(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")

    response = client.get(PROJECTS)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "not-a-real-token" not in response.content.decode()


def test_expired_token_gets_401_invalid_token(world):
    raw = factories.token(world.owner)
    get_access_token_model().objects.update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get(PROJECTS)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_revoked_token_stops_working_at_once(world):
    raw = factories.token(world.owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(PROJECTS).status_code == 200

    get_access_token_model().objects.all().delete()

    assert client.get(PROJECTS).status_code == 401


def test_token_of_deactivated_user_is_refused(world):
    raw = factories.token(world.owner)
    world.owner.is_active = False
    world.owner.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get(PROJECTS)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_token_in_query_string_is_refused_even_beside_valid_header(world):
    raw = factories.token(world.owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get(PROJECTS, {"access_token": raw})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


def test_token_in_query_string_alone_is_refused(world):
    raw = factories.token(world.owner)

    response = APIClient().get(PROJECTS, {"access_token": raw})

    assert response.status_code == 401


def test_token_in_form_body_is_refused(world):
    raw = factories.token(world.owner, "read write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(
        PROJECTS,
        data=f"access_token={raw}&name=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_malformed_body_does_not_preempt_401(world):
    response = APIClient().post(
        PROJECTS, data="{not json", content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_basic_auth_is_not_accepted(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6Y29ycmVjdC1ob3JzZQ==")

    response = client.get(PROJECTS)

    assert response.status_code == 401


def test_session_cookie_is_not_accepted_by_api(world):
    client = APIClient()
    client.force_login(world.owner)

    response = client.get(PROJECTS)

    assert response.status_code == 401


def test_missing_scope_gets_403_insufficient_scope(world, client_for):
    response = client_for(world.owner, "read").post(
        PROJECTS, {"organization": str(world.acme.pk), "name": "New"}, format="json"
    )

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert body["required_scopes"] == ["write"]
    assert set(body) == PROBLEM_KEYS | {"required_scopes"}
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="write"'
    )


def test_token_without_read_scope_cannot_list(world, client_for):
    response = client_for(world.owner, "audit").get(PROJECTS)

    assert response.status_code == 403
    assert response.json()["required_scopes"] == ["read"]


def test_write_scope_includes_read(world, client_for):
    response = client_for(world.owner, "write").get(PROJECTS)

    assert response.status_code == 200


def test_stored_tokens_are_checksums_only(world):
    raw = factories.token(world.owner)

    stored = get_access_token_model().objects.get()

    assert stored.token == ""
    assert raw not in stored.token_checksum
