"""Every way the authorization server says no, and what it revokes then."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_grant_model
from rest_framework.test import APIClient

from security.models import AccessToken, RefreshToken, UsedAuthorizationCode
from tests import factories

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://127.0.0.1:8000/cb"
FORM = "application/x-www-form-urlencoded"


def _pkce(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def browser(world) -> Client:
    factories.application(allowed_scopes="read write")
    client = Client()
    assert client.login(username="alice", password="correct-horse-battery-staple")
    return client


def _authorize(browser, **overrides):
    _verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": "test-client",
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    return browser.post("/o/authorize/", {**params, "allow": "Authorize"})


def _token(**data):
    response = Client().post("/o/token/", urlencode(data), content_type=FORM)
    return response.status_code, response.json()


def _code(browser, verifier_challenge=None, scope="read"):
    verifier, challenge = verifier_challenge or _pkce()
    response = _authorize(browser, code_challenge=challenge, scope=scope)
    return parse_qs(urlparse(response["Location"]).query)["code"][0], verifier


def _exchange(code, verifier):
    return _token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
        code_verifier=verifier,
    )


def test_implicit_response_type_is_refused(browser):
    response = _authorize(browser, response_type="token")

    assert "access_token" not in response.get("Location", "")
    assert not AccessToken.objects.exists()


def test_password_grant_is_refused(browser):
    status, body = _token(
        grant_type="password",
        username="alice",
        password="correct-horse-battery-staple",
        client_id="test-client",
    )

    assert status in (400, 401)
    assert "access_token" not in body


def test_plain_pkce_is_refused(browser):
    _verifier, challenge = _pkce("plain")

    response = _authorize(
        browser, code_challenge=challenge, code_challenge_method="plain"
    )

    assert "code=" not in response.get("Location", "")
    assert not get_grant_model().objects.exists()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "/",
        REDIRECT_URI + "/extra",
        REDIRECT_URI + "?x=1",
        "http://127.0.0.1:8000/CB",
        "https://evil.example/cb",
        "http://evil@127.0.0.1:8000/cb",
    ],
)
def test_redirect_uri_must_match_exactly(browser, redirect_uri):
    response = _authorize(browser, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert not response.has_header("Location")
    assert not get_grant_model().objects.exists()


def test_scope_the_application_is_not_registered_for_is_refused(browser):
    response = _authorize(browser, scope="read admin")

    assert "error=invalid_scope" in response["Location"]
    assert not get_grant_model().objects.exists()


def test_no_scope_gives_the_clients_defaults_not_every_scope(browser):
    _verifier, challenge = _pkce()

    page = browser.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": "test-client",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )

    assert page.status_code == 200
    assert 'name="scope" value="read"' in page.content.decode()


def test_replayed_code_is_refused_and_revokes_the_first_tokens(browser):
    code, verifier = _code(browser)
    status, first = _exchange(code, verifier)
    assert status == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert api.get("/api/v1/projects/").status_code == 200

    status, second = _exchange(code, verifier)

    assert status == 400
    assert second["error"] == "invalid_grant"
    assert api.get("/api/v1/projects/").status_code == 401
    refresh = _token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="test-client",
    )
    assert refresh[0] == 400
    assert UsedAuthorizationCode.objects.count() == 1
    assert code not in UsedAuthorizationCode.objects.get().code_checksum


def test_expired_code_is_refused(browser):
    code, verifier = _code(browser)
    get_grant_model().objects.update(expires=timezone.now() - timedelta(seconds=1))

    status, body = _exchange(code, verifier)

    assert status == 400
    assert body["error"] == "invalid_grant"


def test_code_lives_sixty_seconds(browser):
    code, _verifier = _code(browser)

    grant = get_grant_model().objects.get(code=code)

    assert 59 <= (grant.expires - grant.created).total_seconds() <= 61


def test_token_for_another_audience_is_refused_by_this_api(browser):
    code, verifier = _code(browser)

    status, body = _token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
        code_verifier=verifier,
        resource="https://reports.example.com/",
    )

    assert status == 200, body
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_token_for_this_api_audience_is_accepted(browser):
    code, verifier = _code(browser)

    status, body = _token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
        code_verifier=verifier,
        resource="http://testserver/api/v1/",
    )

    assert status == 200, body
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.get("/api/v1/projects/").status_code == 200


def test_refresh_family_dies_at_its_absolute_age(browser, settings):
    code, verifier = _code(browser)
    _status, first = _exchange(code, verifier)
    RefreshToken.objects.update(family_started_at=timezone.now() - timedelta(days=31))

    status, body = _token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="test-client",
    )

    assert status == 400
    assert body["error"] == "invalid_grant"


def test_refresh_keeps_the_family_start(browser):
    code, verifier = _code(browser)
    _status, first = _exchange(code, verifier)
    started = RefreshToken.objects.get().family_started_at

    _status, _second = _token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="test-client",
    )

    assert RefreshToken.objects.get(revoked=None).family_started_at == started


@pytest.mark.parametrize("change", ["deactivate", "password"])
def test_deactivation_or_password_change_ends_every_token(world, change):
    token = factories.token(world.owner)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/projects/").status_code == 200

    if change == "deactivate":
        world.owner.is_active = False
    else:
        world.owner.set_password("a-brand-new-passphrase")
    world.owner.save()

    assert api.get("/api/v1/projects/").status_code == 401
    assert not AccessToken.objects.filter(user=world.owner).exists()


def test_role_change_applies_to_tokens_already_issued(world):
    from resources.models import Membership

    token = factories.token(world.admin, "read write")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/projects/{world.acme_project.pk}/"
    Membership.objects.filter(user=world.admin).update(role="viewer")

    response = api.patch(url, {"name": "x"}, format="json")

    assert response.status_code == 403


def test_discovery_and_metadata_name_the_configured_issuer(db):
    discovery = Client().get("/o/.well-known/openid-configuration").json()
    metadata = Client().get("/.well-known/oauth-authorization-server/o").json()

    for document in (discovery, metadata):
        assert document["issuer"] == "http://testserver/o"
        assert "token" not in document.get("response_types_supported", ["code"])
        assert "password" not in document.get("grant_types_supported", [])
        assert "implicit" not in document.get("grant_types_supported", [])
    assert discovery["jwks_uri"].endswith("/o/.well-known/jwks.json")


def test_issuer_does_not_follow_the_host_header(db, settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]

    discovery = (
        Client(HTTP_HOST="evil.example")
        .get("/o/.well-known/openid-configuration")
        .json()
    )

    assert discovery["issuer"] == "http://testserver/o"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://app.example", True), ("https://evil.example", False)],
)
def test_token_endpoint_answers_cors_per_application(browser, origin, allowed):
    from security.models import Application

    Application.objects.filter(client_id="test-client").update(
        allowed_origins="https://app.example"
    )
    code, verifier = _code(browser)

    response = Client().post(
        "/o/token/",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": "test-client",
                "code_verifier": verifier,
            }
        ),
        content_type=FORM,
        HTTP_ORIGIN=origin,
    )

    assert response.status_code == 200
    assert (response.get("Access-Control-Allow-Origin") == origin) is allowed


def test_token_refresh_is_audited(browser):
    from audit.chain import seal_pending
    from audit.models import AuditEvent

    code, verifier = _code(browser)
    _status, first = _exchange(code, verifier)

    _token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="test-client",
    )

    seal_pending()
    event = AuditEvent.objects.get(action="oauth.token_refreshed")
    assert event.client_id == "test-client"
    assert event.actor_username == "alice"
