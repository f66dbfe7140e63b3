"""The OAuth 2 flows this server offers, driven through its endpoints."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://127.0.0.1:8000/cb"
FORM = "application/x-www-form-urlencoded"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token(client: Client, **data: str) -> tuple[int, dict]:
    response = client.post("/o/token/", urlencode(data), content_type=FORM)
    return response.status_code, response.json()


def _authorize(
    client: Client, challenge: str, scope: str = "read", method: str = "S256"
):
    params = {
        "response_type": "code",
        "client_id": "test-client",
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": method,
    }
    client.get("/o/authorize/", params)
    return client.post(
        "/o/authorize/",
        {**params, "allow": "Authorize"},
    )


@pytest.fixture
def browser(world) -> Client:
    factories.application()
    client = Client()
    assert client.login(username="alice", password="correct-horse-battery-staple")
    return client


def test_authorization_code_with_pkce_gives_working_tokens(world, browser):
    verifier, challenge = _pkce()

    response = _authorize(browser, challenge, scope="read write")

    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["state"] == ["xyz"]
    status, body = _token(
        Client(),
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
        code_verifier=verifier,
    )
    assert status == 200, body
    assert body["scope"] == "read write"
    assert body["expires_in"] == 600
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.get("/api/v1/projects/").json()["count"] == 1
    stored = get_access_token_model().objects.get(user=world.owner)
    assert stored.auth_time is not None
    assert stored.token == ""
    assert get_refresh_token_model().objects.get().token == ""


def test_code_exchange_without_verifier_is_refused(world, browser):
    _verifier, challenge = _pkce()
    response = _authorize(browser, challenge)
    code = parse_qs(urlparse(response["Location"]).query)["code"][0]

    status, body = _token(
        Client(),
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
    )

    assert status == 400
    assert body["error"] == "invalid_request"
    assert not get_access_token_model().objects.exists()


def test_authorization_without_pkce_is_refused(world, browser):
    params = {
        "response_type": "code",
        "client_id": "test-client",
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
    }

    response = browser.post("/o/authorize/", {**params, "allow": "Authorize"})

    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]
    assert "code=" not in response["Location"]
    assert not get_grant_model().objects.exists()


def test_client_credentials_token_acts_as_service_account(world):
    service = factories.user("svc", is_service_account=True)
    factories.membership(world.acme, service, "viewer")
    factories.application(
        "svc-client",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret="service-secret-value-123",
        hash_client_secret=True,
        allowed_scopes="read",
        default_scopes="read",
        service_account=service,
    )
    credentials = base64.b64encode(b"svc-client:service-secret-value-123").decode()
    client = Client(HTTP_AUTHORIZATION=f"Basic {credentials}")

    status, body = _token(client, grant_type="client_credentials")

    assert status == 200, body
    assert body["scope"] == "read"
    assert get_access_token_model().objects.get().user == service
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    ids = {row["id"] for row in api.get("/api/v1/projects/").json()["results"]}
    assert ids == {str(world.acme_project.pk)}


def test_client_cannot_get_a_scope_it_is_not_registered_for(world):
    factories.application(
        "svc-client",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret="service-secret-value-123",
        hash_client_secret=True,
        allowed_scopes="read",
        service_account=factories.user("svc"),
    )
    credentials = base64.b64encode(b"svc-client:service-secret-value-123").decode()

    status, body = _token(
        Client(HTTP_AUTHORIZATION=f"Basic {credentials}"),
        grant_type="client_credentials",
        scope="read write",
    )

    assert status == 400
    assert body["error"] == "invalid_scope"
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize("grant_type", ["password", "implicit"])
def test_password_and_implicit_grants_are_refused(world, grant_type):
    factories.application()

    status, body = _token(
        Client(),
        grant_type=grant_type,
        username="alice",
        password="correct-horse-battery-staple",
        client_id="test-client",
    )

    assert status in (400, 401)
    assert "access_token" not in body


def test_application_management_views_are_not_mounted(world, browser):
    assert browser.get("/o/applications/").status_code == 404
    assert browser.get("/o/applications/register/").status_code == 404
    assert browser.get("/o/authorized_tokens/").status_code == 404
