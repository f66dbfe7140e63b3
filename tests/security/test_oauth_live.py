"""The OAuth 2 and OpenID Connect flows, end to end, with a real OAuth client.

Authlib's client talks to the live test server over HTTP; a requests session
plays the browser that signs in and consents.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.db import connection
from jwcrypto import jwk, jwt

from security.models import AccessToken, Application, RefreshToken
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"
REDIRECT_URI = "http://127.0.0.1:8000/cb"


@pytest.fixture
def server(live_server):
    return live_server.url


@pytest.fixture
def spa(db):
    return factories.application(
        "spa",
        redirect_uris=REDIRECT_URI,
        allowed_scopes="openid profile email read write",
        default_scopes="read",
        algorithm="RS256",
    )


@pytest.fixture
def alice(world):
    return world.owner


def _browser_login(server: str, username: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{server}/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = browser.post(
        f"{server}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": PASSWORD},
        headers={"Referer": f"{server}/accounts/login/"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return browser


def _consent(browser: requests.Session, server: str, url: str) -> str:
    """Load the consent page, approve it, and return the redirect URL."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    )
    fields["allow"] = "Authorize"
    response = browser.post(
        f"{server}/o/authorize/",
        data=fields,
        headers={"Referer": url},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _code_flow(server: str, scope: str = "read write", username: str = "alice"):
    client = OAuth2Session(
        "spa",
        redirect_uri=REDIRECT_URI,
        scope=scope,
        code_challenge_method="S256",
    )
    verifier = "v" * 10 + "x" * 50
    url, _state = client.create_authorization_url(
        f"{server}/o/authorize/", code_verifier=verifier
    )
    location = _consent(_browser_login(server, username), server, url)
    token = client.fetch_token(
        f"{server}/o/token/", authorization_response=location, code_verifier=verifier
    )
    return client, token, location


def _api(server: str, access_token: str, path: str = "/api/v1/projects/"):
    return requests.get(
        f"{server}{path}", headers={"Authorization": f"Bearer {access_token}"}
    )


def _jwks(server: str) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(requests.get(f"{server}/o/.well-known/jwks.json").text)


def test_authorization_code_with_pkce_login_and_consent(server, spa, alice):
    _client, token, location = _code_flow(server)

    assert parse_qs(urlparse(location).query)["iss"] == ["http://testserver/o"]
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 600
    assert set(token["scope"].split()) == {"read", "write"}
    assert _api(server, token["access_token"]).status_code == 200


def test_access_token_is_an_rfc9068_jwt_verifiable_with_the_jwks(server, spa, alice):
    _client, token, _location = _code_flow(server)

    verified = jwt.JWT(
        jwt=token["access_token"], key=_jwks(server), expected_type="JWS"
    )
    header = jwk.json_decode(verified.header)
    claims = jwk.json_decode(verified.claims)

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in _jwks(server)["keys"]}
    assert claims["iss"] == "http://testserver/o"
    assert claims["sub"] == str(alice.pk)
    assert claims["aud"] == "http://testserver/api/v1/"
    assert claims["client_id"] == "spa"
    assert set(claims["scope"].split()) == {"read", "write"}
    assert claims["exp"] - claims["iat"] == 600
    assert "role" not in claims
    assert "roles" not in claims
    stored = AccessToken.objects.get(user=alice)
    assert claims["jti"] == str(stored.jti)
    assert claims["auth_time"] == int(stored.auth_time.timestamp())


def test_id_token_is_signed_with_the_published_key(server, spa, alice):
    _client, token, _location = _code_flow(server, scope="openid profile email read")

    verified = jwt.JWT(jwt=token["id_token"], key=_jwks(server))
    claims = jwk.json_decode(verified.claims)

    assert claims["iss"] == "http://testserver/o"
    assert claims["sub"] == str(alice.pk)
    assert claims["aud"] == "spa"
    assert claims["email"] == "alice@example.com"
    userinfo = requests.get(
        f"{server}/o/userinfo/",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()
    assert userinfo["sub"] == str(alice.pk)
    assert userinfo["preferred_username"] == "alice"


def test_refresh_rotates_and_reuse_revokes_the_family(server, spa, alice):
    client, first, _location = _code_flow(server)

    second = client.refresh_token(
        f"{server}/o/token/", refresh_token=first["refresh_token"]
    )
    assert second["refresh_token"] != first["refresh_token"]
    assert _api(server, second["access_token"]).status_code == 200
    assert _api(server, first["access_token"]).status_code == 401

    replay = requests.post(
        f"{server}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": "spa",
        },
    )

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _api(server, second["access_token"]).status_code == 401
    again = requests.post(
        f"{server}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": second["refresh_token"],
            "client_id": "spa",
        },
    )
    assert again.status_code == 400


def test_refresh_keeps_the_original_auth_time(server, spa, alice):
    client, first, _location = _code_flow(server)
    original = AccessToken.objects.get(user=alice).auth_time

    client.refresh_token(f"{server}/o/token/", refresh_token=first["refresh_token"])

    assert AccessToken.objects.get(user=alice).auth_time == original


def test_revocation_ends_access_and_refresh_token(server, spa, alice):
    client, token, _location = _code_flow(server)

    response = client.revoke_token(
        f"{server}/o/revoke_token/", token=token["access_token"]
    )

    assert response.status_code == 200
    assert _api(server, token["access_token"]).status_code == 401
    refresh = requests.post(
        f"{server}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": "spa",
        },
    )
    assert refresh.status_code == 400


def test_client_cannot_revoke_another_clients_token(server, spa, alice):
    _client, token, _location = _code_flow(server)
    factories.application("other", allowed_scopes="read")

    response = requests.post(
        f"{server}/o/revoke_token/",
        data={"token": token["access_token"], "client_id": "other"},
    )

    assert response.status_code == 200
    assert _api(server, token["access_token"]).status_code == 200


def test_client_credentials_and_introspection(server, world):
    service = factories.user("svc", is_service_account=True)
    factories.membership(world.acme, service, "viewer")
    factories.application(
        "reporter",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret="reporter-secret-0123456789",
        hash_client_secret=True,
        allowed_scopes="read",
        service_account=service,
    )
    factories.application(
        "gateway",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret="gateway-secret-0123456789",
        hash_client_secret=True,
        is_resource_server=True,
        service_account=factories.user("gw"),
    )
    client = OAuth2Session("reporter", "reporter-secret-0123456789")

    token = client.fetch_token(f"{server}/o/token/", grant_type="client_credentials")

    assert token["scope"] == "read"
    claims = jwk.json_decode(
        jwt.JWT(jwt=token["access_token"], key=_jwks(server)).claims
    )
    assert claims["sub"] == str(service.pk)
    assert _api(server, token["access_token"]).json()["count"] == 1
    gateway = OAuth2Session("gateway", "gateway-secret-0123456789")
    info = gateway.introspect_token(
        f"{server}/o/introspect/", token=token["access_token"]
    )
    assert info.status_code == 200
    assert info.json()["active"] is True
    assert info.json()["client_id"] == "reporter"
    refused = client.introspect_token(
        f"{server}/o/introspect/", token=token["access_token"]
    )
    assert refused.status_code == 401
    assert "active" not in refused.text
    by_get = requests.get(
        f"{server}/o/introspect/",
        params={"token": token["access_token"]},
        auth=("gateway", "gateway-secret-0123456789"),
    )
    assert by_get.status_code == 405


def test_database_holds_no_raw_token_after_the_flows(server, spa, alice):
    client, first, _location = _code_flow(server)
    second = client.refresh_token(
        f"{server}/o/token/", refresh_token=first["refresh_token"]
    )
    secrets = {
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    }

    dump = []
    with connection.cursor() as cursor:
        for model in (AccessToken, RefreshToken, Application):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608
            dump.extend(str(value) for row in cursor.fetchall() for value in row)

    assert not [value for value in dump if any(s in value for s in secrets)]
    assert set(AccessToken.objects.values_list("token", flat=True)) == {""}
    assert set(RefreshToken.objects.values_list("token", flat=True)) == {""}
