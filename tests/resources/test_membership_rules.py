"""Membership rules: who grants which role, own role, last owner, leaving."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from guardian.shortcuts import assign_perm, get_perms
from rest_framework.test import APIClient

from resources.models import Membership, Role
from tests import factories
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

URL = "/api/v1/memberships/"


def _membership(world, user):
    return Membership.objects.get(organization=world.acme, user=user)


def _add(client, world, user, role):
    return client.post(
        URL,
        {"organization": str(world.acme.pk), "user": str(user.pk), "role": role},
        format="json",
    )


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admin_cannot_add_admin_or_owner(world, client_for, role):
    newcomer = factories.user()

    response = _add(client_for(world.admin, "admin"), world, newcomer, role)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Membership.objects.filter(user=newcomer).exists()


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_admin_adds_member_or_viewer(world, client_for, role):
    newcomer = factories.user()

    response = _add(client_for(world.admin, "admin"), world, newcomer, role)

    assert response.status_code == 201
    assert response.json()["username"] == newcomer.username
    assert Membership.objects.get(user=newcomer).role == role


def test_owner_adds_admin(world, client_for):
    newcomer = factories.user()

    response = _add(client_for(world.owner, "admin"), world, newcomer, "admin")

    assert response.status_code == 201


def test_admin_cannot_promote_member_to_admin(world, client_for):
    url = f"{URL}{_membership(world, world.member).pk}/"

    response = client_for(world.admin, "admin").patch(
        url, {"role": "admin"}, format="json"
    )

    assert response.status_code == 403
    assert _membership(world, world.member).role == Role.MEMBER


def test_admin_cannot_demote_another_admin(world, client_for):
    other = factories.user()
    factories.membership(world.acme, other, Role.ADMIN)
    url = f"{URL}{_membership(world, other).pk}/"

    response = client_for(world.admin, "admin").patch(
        url, {"role": "viewer"}, format="json"
    )

    assert response.status_code == 403
    assert _membership(world, other).role == Role.ADMIN


def test_admin_cannot_remove_an_owner(world, client_for):
    url = f"{URL}{_membership(world, world.owner).pk}/"

    response = client_for(world.admin, "admin").delete(url)

    assert response.status_code == 403
    assert Membership.objects.filter(user=world.owner).exists()


def test_owner_promotes_member_to_owner(world, client_for):
    url = f"{URL}{_membership(world, world.member).pk}/"

    response = client_for(world.owner, "admin").patch(
        url, {"role": "owner"}, format="json"
    )

    assert response.status_code == 200
    assert _membership(world, world.member).role == Role.OWNER


@pytest.mark.parametrize("who", ["owner", "admin", "member"])
def test_nobody_changes_their_own_role(world, client_for, who):
    user = getattr(world, who)
    membership = _membership(world, user)

    response = client_for(user, "admin").patch(
        f"{URL}{membership.pk}/", {"role": "viewer"}, format="json"
    )

    assert response.status_code == 403
    assert _membership(world, user).role == membership.role


def test_last_owner_cannot_leave(world, client_for):
    url = f"{URL}{_membership(world, world.owner).pk}/"

    response = client_for(world.owner, "write").delete(url)

    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert set(response.json()) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "request_id",
    }
    assert Membership.objects.filter(user=world.owner).exists()


def test_owner_can_leave_when_another_owner_remains(world, client_for):
    second = factories.user()
    factories.membership(world.acme, second, Role.OWNER)

    response = client_for(world.owner, "write").delete(
        f"{URL}{_membership(world, world.owner).pk}/"
    )

    assert response.status_code == 204


def test_owner_demotes_another_owner_but_not_the_last(world, client_for):
    second = factories.user()
    factories.membership(world.acme, second, Role.OWNER)
    client = client_for(world.owner, "admin")

    demoted = client.patch(
        f"{URL}{_membership(world, second).pk}/", {"role": "admin"}, format="json"
    )

    assert demoted.status_code == 200
    assert Membership.objects.filter(organization=world.acme, role="owner").count() == 1


def test_last_owner_cannot_be_removed_by_another_owner_path(world, client_for):
    """Even a direct removal by an owner keeps one owner (409, not 204)."""
    second = factories.user()
    factories.membership(world.acme, second, Role.OWNER)
    Membership.objects.filter(user=world.owner).update(role=Role.ADMIN)
    Membership.objects.filter(user=world.admin).update(role=Role.OWNER)

    response = client_for(world.admin, "admin").delete(
        f"{URL}{_membership(world, second).pk}/"
    )
    assert response.status_code == 204

    response = client_for(world.admin, "write").delete(
        f"{URL}{_membership(world, world.admin).pk}/"
    )
    assert response.status_code == 409


def test_member_leaves_and_loses_grants_in_that_organization(world, client_for):
    assign_perm("view_document", world.member, world.confidential_doc)
    other_org = factories.organization()
    factories.membership(other_org, world.member, Role.MEMBER)
    elsewhere = factories.document(factories.project(other_org), world.outsider)
    assign_perm("view_document", world.member, elsewhere)

    response = client_for(world.member, "write").delete(
        f"{URL}{_membership(world, world.member).pk}/"
    )

    assert response.status_code == 204
    assert get_perms(world.member, world.confidential_doc) == []
    assert get_perms(world.member, elsewhere) == ["view_document"]


def test_leaving_needs_write_scope(world, client_for):
    response = client_for(world.member, "read").delete(
        f"{URL}{_membership(world, world.member).pk}/"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_membership_changes_need_admin_scope(world, client_for):
    response = _add(client_for(world.owner, "write"), world, factories.user(), "member")

    assert response.status_code == 403
    assert response.json()["required_scopes"] == ["admin"]


def test_demotion_to_viewer_drops_change_grants(world, client_for):
    assign_perm("view_document", world.member, world.confidential_doc)
    assign_perm("change_document", world.member, world.confidential_doc)

    response = client_for(world.admin, "admin").patch(
        f"{URL}{_membership(world, world.member).pk}/",
        {"role": "viewer"},
        format="json",
    )

    assert response.status_code == 200
    assert get_perms(world.member, world.confidential_doc) == ["view_document"]


def test_adding_an_existing_member_is_400(world, client_for):
    response = _add(client_for(world.owner, "admin"), world, world.member, "viewer")

    assert response.status_code == 400
    assert _membership(world, world.member).role == Role.MEMBER


def test_membership_user_and_organization_are_write_once(world, client_for):
    url = f"{URL}{_membership(world, world.member).pk}/"

    response = client_for(world.owner, "admin").patch(
        url, {"user": str(world.viewer.pk)}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_writable"


def test_inactive_user_cannot_be_added(world, client_for):
    inactive = factories.user(is_active=False)

    response = _add(client_for(world.owner, "admin"), world, inactive, "member")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"


def test_memberships_filter_by_organization_and_role(world, client_for):
    client = client_for(world.owner)

    body = client.get(URL, {"organization": str(world.acme.pk), "role": "admin"}).json()

    assert [r["username"] for r in body["results"]] == ["bob"]


def test_membership_list_shows_no_email(world, client_for):
    body = client_for(world.viewer).get(URL).content.decode()

    assert "@example.com" not in body


@pytest.mark.django_db(transaction=True)
def test_concurrent_demotions_keep_one_owner(world):
    """Two owners demoting each other at once: the row locks let one win.

    The loser finds itself demoted (403) or the last owner (409), depending
    on which check it reaches first; never a 500, never no owner.
    """
    require_service(connection.vendor == "postgresql", "PostgreSQL")
    second = factories.user()
    factories.membership(world.acme, second, Role.OWNER)
    tokens = {user: factories.token(user, "admin") for user in (world.owner, second)}
    barrier = threading.Barrier(2)
    statuses = []

    def demote(actor, target):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[actor]}")
        barrier.wait()
        response = client.patch(
            f"{URL}{_membership(world, target).pk}/", {"role": "admin"}, format="json"
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [
        threading.Thread(target=demote, args=(world.owner, second)),
        threading.Thread(target=demote, args=(second, world.owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses)[0] == 200
    assert sorted(statuses)[1] in (403, 409)
    assert Membership.objects.filter(organization=world.acme, role="owner").count() == 1
