"""Second adversarial review: authorization, OAuth 2 / OIDC, the audit trail.

Each test names the behaviour the contract or the docs promise and fails
today because of the bug it describes. The PostgreSQL-only race skips on
SQLite outside CI, like the suite's other concurrency tests; two audit tests
fail on SQLite by assertion and on PostgreSQL by the database error the same
bug causes there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import threading
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_grant_model
from rest_framework.test import APIClient

from audit.chain import GENESIS, seal_pending
from audit.models import AuditEvent, PendingEvent
from audit.services import record_event
from resources import services
from resources.models import DocumentUserObjectPermission, Membership, Role
from security.models import Application
from tests import factories
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
REDIRECT_URI = "http://127.0.0.1:8000/cb"
FORM = "application/x-www-form-urlencoded"


# ---------------------------------------------------------------------------
# Helpers: the authorization-code flow, and reading the trail
# ---------------------------------------------------------------------------


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_params(challenge: str, scope: str = "read") -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "test-client",
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


@pytest.fixture
def browser(world) -> Client:
    """Alice, signed in, with a public PKCE client able to ask for openid."""
    factories.application(algorithm=Application.RS256_ALGORITHM)
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    return client


def _code(browser: Client, scope: str = "read") -> tuple[str, str]:
    verifier, challenge = _pkce()
    response = browser.post(
        "/o/authorize/", {**_authorize_params(challenge, scope), "allow": "Authorize"}
    )
    return parse_qs(urlparse(response["Location"]).query)["code"][0], verifier


def _token(**data: str) -> tuple[int, dict]:
    response = Client().post("/o/token/", urlencode(data), content_type=FORM)
    return response.status_code, response.json()


def _exchange(code: str, verifier: str) -> tuple[int, dict]:
    return _token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id="test-client",
        code_verifier=verifier,
    )


def _refresh(refresh_token: str) -> tuple[int, dict]:
    return _token(
        grant_type="refresh_token",
        refresh_token=refresh_token,
        client_id="test-client",
    )


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _events(action: str) -> list[AuditEvent]:
    seal_pending()
    return list(AuditEvent.objects.filter(action=action).order_by("position"))


def _verify_command() -> None:
    call_command("audit_verify", stdout=io.StringIO(), stderr=io.StringIO())


# ---------------------------------------------------------------------------
# Authorization
# ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_viewer_never_keeps_change_when_share_races_a_demotion(world, monkeypatch):
    """Share `change` with a member while an owner demotes them to viewer.

    `share` reads the grantee's role without a lock and grants afterwards;
    the demotion commits in between, drops the (not yet existing) change
    grants, and the share then writes them: a viewer holds `change` and
    edits a confidential document (contract: "A viewer may be given view
    only"; docs/security.md: a rule that reads state and then changes it
    locks what it reads).
    """
    require_service(connection.vendor == "postgresql", "PostgreSQL")
    checked, demoted = threading.Event(), threading.Event()
    real_assign_perm = services.assign_perm

    def assign_perm_after_the_demotion(*args, **kwargs):
        if not checked.is_set():
            # The role was read; let the demotion commit before granting.
            checked.set()
            demoted.wait(timeout=2)
        return real_assign_perm(*args, **kwargs)

    monkeypatch.setattr(
        services, "assign_perm", assign_perm_after_the_demotion, raising=False
    )
    token = factories.token(world.owner, "admin")
    document = world.confidential_doc
    membership = Membership.objects.get(organization=world.acme, user=world.member)
    statuses: dict[str, int] = {}

    def share() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        statuses["share"] = client.post(
            f"/api/v1/documents/{document.pk}/share/",
            {"user": str(world.member.pk), "permission": "change"},
            format="json",
        ).status_code
        connection.close()

    def demote() -> None:
        checked.wait(timeout=3)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        statuses["demote"] = client.patch(
            f"/api/v1/memberships/{membership.pk}/",
            {"role": Role.VIEWER},
            format="json",
        ).status_code
        demoted.set()
        connection.close()

    threads = [threading.Thread(target=share), threading.Thread(target=demote)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses["demote"] == 200
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert not DocumentUserObjectPermission.objects.filter(
        user=world.member, permission__codename="change_document"
    ).exists()
    edit = APIClient()
    edit.credentials(
        HTTP_AUTHORIZATION=f"Bearer {factories.token(world.member, 'write')}"
    )
    response = edit.patch(
        f"/api/v1/documents/{document.pk}/", {"title": "edited"}, format="json"
    )
    assert response.status_code in (403, 404)


# ---------------------------------------------------------------------------
# OAuth 2 and OpenID Connect
# ---------------------------------------------------------------------------


def test_authorization_endpoint_always_shows_the_consent_page(browser):
    """`approval_prompt=auto` must not override REQUEST_APPROVAL_PROMPT=force.

    docs/authentication.md: the user signs in and consents; "Keep skip
    authorization off, so that users always see the consent page."
    """
    code, verifier = _code(browser)
    assert _exchange(code, verifier)[0] == 200
    grants_before = get_grant_model().objects.count()
    _verifier, challenge = _pkce()

    response = browser.get(
        "/o/authorize/", {**_authorize_params(challenge), "approval_prompt": "auto"}
    )

    assert response.status_code == 200
    assert "code=" not in response.get("Location", "")
    assert get_grant_model().objects.count() == grants_before


def test_prompt_none_gets_an_oidc_error_redirect_not_a_500(browser):
    """Discovery advertises `prompt=none`; asking for it is a 500 today.

    OpenID Connect Core 3.1.2.1: with prompt=none the server shows no page
    and answers with an error (`consent_required`, `login_required`) at the
    redirect URI. A 500 also mails ADMINS, at any signed-in user's will.
    """
    browser.raise_request_exception = False
    _verifier, challenge = _pkce()

    response = browser.get(
        "/o/authorize/", {**_authorize_params(challenge, "openid"), "prompt": "none"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    assert "error=" in response["Location"]
    assert "code=" not in response["Location"]


@pytest.mark.parametrize("change", ["password_changed", "user_deactivated"])
def test_credential_change_ends_pending_authorization_codes(browser, world, change):
    """A code issued before a password change or deactivation mints nothing.

    docs/authentication.md: "Deactivating a user, deleting one, or changing
    their password ends all of their tokens in the same transaction";
    docs/incident-response.md locks an account by deactivating it. Today a
    code obtained just before (60 s) still gives a fresh access token and a
    30-day refresh family.
    """
    code, verifier = _code(browser)
    if change == "password_changed":
        world.owner.set_password("a-brand-new-password-2026")
    else:
        world.owner.is_active = False
    world.owner.save()

    status, body = _exchange(code, verifier)

    assert status == 400, body
    assert body["error"] == "invalid_grant"


def test_refresh_never_renews_the_id_token_auth_time(browser, world):
    """docs/authentication.md: "Refreshing never renews `auth_time`."

    The refreshed ID token takes the user's latest `last_login` (a sign-in
    elsewhere, after this family started) instead of the family's auth_time.
    """
    code, verifier = _code(browser, "openid read")
    status, first = _exchange(code, verifier)
    assert status == 200, first
    world.owner.last_login = timezone.now() + timedelta(minutes=5)
    world.owner.save(update_fields=["last_login"])

    status, refreshed = _refresh(first["refresh_token"])

    assert status == 200, refreshed
    original = _claims(first["id_token"])["auth_time"]
    assert _claims(refreshed["access_token"])["auth_time"] == original
    assert _claims(refreshed["id_token"])["auth_time"] == original


def test_step_up_counts_this_sessions_login_not_one_elsewhere(
    browser, world, monkeypatch
):
    """`auth_time` is the user's latest login anywhere, not this session's.

    docs/rate-limiting.md: making someone owner needs "a password entered
    recently"; the code's `auth_time` is `user.last_login`, so a session
    signed in long ago (a stolen cookie lives an hour) gets a fresh
    `auth_time`, and passes step-up, as soon as the user signs in on another
    device. RFC 9470 and OIDC: `auth_time` is when this authentication
    happened.
    """
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=10))
    other_device = Client()
    assert other_device.login(username="alice", password=PASSWORD)
    code, verifier = _code(browser, "admin")
    status, body = _exchange(code, verifier)
    assert status == 200, body
    membership = Membership.objects.get(organization=world.acme, user=world.member)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")

    response = api.patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": Role.OWNER}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "insufficient_user_authentication"
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def test_refresh_gives_no_scope_the_client_is_no_longer_registered_for(browser):
    """A client gets only the scopes it is registered for, also on refresh.

    security/oauth.py: "a client may ask only for the scopes it is
    registered for (`Application.allowed_scopes`)". Narrowing a client's
    scopes (containment) leaves its refresh families minting the old ones
    for up to 30 days.
    """
    code, verifier = _code(browser, "read write")
    status, first = _exchange(code, verifier)
    assert status == 200, first
    application = Application.objects.get(client_id="test-client")
    application.allowed_scopes = "read"
    application.save()

    status, refreshed = _refresh(first["refresh_token"])

    if status == 200:
        assert refreshed["scope"].split() == ["read"]
        assert _claims(refreshed["access_token"])["scope"] == "read"
    else:
        assert refreshed["error"] in ("invalid_scope", "invalid_grant")


def test_public_client_cannot_use_the_client_credentials_grant(world):
    """RFC 6749 4.4: client credentials are for confidential clients only.

    A public client (docs: "no secret") registered for client credentials
    gets a service-account token from its bare client id: the empty stored
    secret matches the empty secret sent. Nothing (admin, model, system
    check) refuses that registration.
    """
    service = factories.user("svc-public", is_service_account=True)
    factories.membership(world.acme, service, Role.VIEWER)
    factories.application(
        "public-service",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        allowed_scopes="read",
        service_account=service,
    )

    status, body = _token(grant_type="client_credentials", client_id="public-service")

    assert status in (400, 401), body
    assert "access_token" not in body


# ---------------------------------------------------------------------------
# The audit trail
# ---------------------------------------------------------------------------


def test_audit_verify_reports_an_event_inserted_outside_the_chain_positions(db):
    """An inserted event is tampering too; `verify` reads from position 1 on.

    docs/audit.md: any edit, deletion or reordering is detected and
    `audit_verify` "names the first missing, edited, reordered or
    unverifiable event". An INSERT (allowed to the application's role) at
    position 0 or below is never read: "OK: 4 events, chain intact".
    """
    for _ in range(3):
        record_event("resource.created", durable=True)
    seal_pending()
    AuditEvent.objects.create(
        position=0,
        time=timezone.now() - timedelta(days=1),
        action="authn.login_succeeded",
        outcome="success",
        actor_username="bob",
        key_id="forged",
        prev_hash=GENESIS,
        hash="f" * 64,
    )

    with pytest.raises(CommandError):
        _verify_command()


def _insert_pending_with_raw_sql(values: dict) -> None:
    fields = [
        field for field in PendingEvent._meta.concrete_fields if field.attname in values
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    params = [
        field.get_db_prep_save(values[field.attname], connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(PendingEvent._meta.db_table)} "  # noqa: S608 - names from the model
            f"({columns}) VALUES ({marks})",
            params,
        )


def test_row_written_straight_into_the_outbox_is_not_sealed_as_authentic(db):
    """Someone who can write to the database gets forged events HMAC-sealed.

    docs/audit.md: the key is never stored in the database, so "someone who
    can write to the database can't recompute the hashes". The outbox
    (`audit_pendingevent`, writable by the application's role) is trusted as
    is: a row inserted there, backdated, is sealed by the next request with
    a valid hash, and `audit_verify` calls the chain intact.
    """
    record_event("resource.created", durable=True)
    _insert_pending_with_raw_sql(
        {
            "id": uuid.uuid4(),
            "time": timezone.now() - timedelta(days=30),
            "action": "authn.login_succeeded",
            "outcome": "success",
            "actor_id": None,
            "actor_username": "bob",
            "client_id": "",
            "ip": "203.0.113.7",
            "user_agent": "",
            "request_id": "forged-outside-the-application",
            "method": "POST",
            "path": "/accounts/login/",
            "target_type": "",
            "target_id": "",
            "organization": None,
            "details": {},
        }
    )

    record_event("resource.created", durable=True)
    seal_pending()

    forged = AuditEvent.objects.filter(request_id="forged-outside-the-application")
    if forged.exists():
        with pytest.raises(CommandError):
            _verify_command()


def test_audit_verify_records_the_chain_broken_event(db):
    """The contract names `audit.chain_broken` an audit event.

    docs/audit.md, "What is recorded": the chain | `audit.chain_broken` |
    `audit_verify`. Today it is only an alert (log line, mail): the trail
    itself keeps no record that it was found broken, or when.
    """
    for _ in range(2):
        record_event("resource.created", durable=True)
    seal_pending()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET outcome = 'forged' WHERE position = 1"
        )

    with pytest.raises(CommandError):
        _verify_command()

    assert _events("audit.chain_broken")


def test_rejected_field_names_are_stored_escaped(world, client_for):
    """Field names a client sends end up in `details.fields` unescaped.

    docs/audit.md: values that come from a client (path, username, user
    agent, details) are stored with control characters escaped. Lists in
    `details` are not escaped at all; on PostgreSQL a NUL in a field name
    even makes the event unwritable (DataError), so the request fails and
    its record is lost.
    """
    response = client_for(world.owner, "write").patch(
        f"/api/v1/documents/{world.internal_doc.pk}/",
        {"x\r\n2026-01-01 INFO forged\x1b[31m\x00": 1},
        format="json",
    )

    assert response.status_code == 400
    (event,) = _events("input.rejected")
    assert all(
        character.isprintable()
        for name in event.details["fields"]
        for character in name
    ), event.details


def test_overlong_http_method_does_not_break_the_denial_record(world, anonymous):
    """The request's method is stored unclipped in a 16-character column.

    On PostgreSQL, any anonymous request with a long method name and a bad
    token makes the deferred `authz.denied` write fail: the 401 becomes a
    500 (mailed to ADMINS), the denial is lost, and the aggregation window
    it opened hides that source's next denials too. On SQLite the value is
    stored longer than its column.
    """
    method = "PROPFIND" * 3

    response = anonymous.generic(
        method, "/api/v1/projects/", HTTP_AUTHORIZATION="Bearer not-a-real-token"
    )

    assert response.status_code == 401
    (event,) = _events("authz.denied")
    assert len(event.method) <= AuditEvent._meta.get_field("method").max_length


def test_replaying_one_code_does_not_flood_the_chain_or_the_alerts(
    browser, mailoutbox, settings
):
    """docs/audit.md: a flood of bad requests can't become a flood of writes.

    Every replay of one already-used code writes another chained
    `oauth.code_replayed` event and mails another critical alert, though the
    first replay already revoked everything there was to revoke. (Replaying
    a rotated refresh token does the same with
    `oauth.refresh_reuse_detected`.)
    """
    settings.ADMINS = [("Security", "security@example.com")]
    code, verifier = _code(browser)
    assert _exchange(code, verifier)[0] == 200

    for _ in range(3):
        assert _exchange(code, verifier)[0] == 400

    assert len(_events("oauth.code_replayed")) == 1
    assert len(mailoutbox) == 1


def test_token_events_name_the_actor(world):
    """Every event holds `actor_username` as it was at the time.

    docs/audit.md and the contract's event fields; the OAuth events pass an
    empty username although they know the user.
    """
    service = factories.user("svc-reporter", is_service_account=True)
    factories.application(
        "reporter",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="reporter-secret-0123456789",
        hash_client_secret=True,
        allowed_scopes="read",
        service_account=service,
    )
    credentials = base64.b64encode(b"reporter:reporter-secret-0123456789").decode()

    response = Client(HTTP_AUTHORIZATION=f"Basic {credentials}").post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials"}),
        content_type=FORM,
    )

    assert response.status_code == 200
    (event,) = _events("oauth.token_issued")
    assert (event.actor_id, event.actor_username) == (service.pk, "svc-reporter")


def test_escalation_denial_records_the_rule_that_denied(world, client_for):
    """docs/audit.md: `authz.denied` carries the rule that denied.

    A denial by a `before_save` rule (an admin making someone owner) is
    recorded with an empty `rule`: exactly the privilege-escalation attempts
    an investigator looks for lose their explanation.
    """
    membership = Membership.objects.get(organization=world.acme, user=world.member)

    response = client_for(world.admin, "admin").patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": Role.OWNER}, format="json"
    )

    assert response.status_code == 403
    (event,) = _events("authz.denied")
    assert event.details["operation"] == "partial_update"
    assert event.details["rule"]
