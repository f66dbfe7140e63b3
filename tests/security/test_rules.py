"""The rule algebra, the request-level rules, and list/object agreement."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from guardian.shortcuts import assign_perm
from rest_framework.test import APIRequestFactory

from resources.models import Document, Membership, Organization, Project
from resources.policies import (
    DocumentPolicy,
    MembershipPolicy,
    OrganizationPolicy,
    ProjectPolicy,
)
from security.policies import get_policy_context
from security.rules import (
    NO_OBJECT,
    Allow,
    Deny,
    HasModelPermission,
    HasScope,
    InGroup,
    PolicyContext,
    Predicate,
    Rule,
    Vote,
)
from tests import factories

pytestmark = pytest.mark.django_db


class Abstain(Rule):
    def vote(self, ctx, obj=NO_OBJECT):
        return Vote.ABSTAIN


def _ctx(user=None, scope="") -> PolicyContext:
    request = APIRequestFactory().get("/")
    from rest_framework.request import Request

    drf_request = Request(request)
    drf_request.user = user or factories.user()
    token = type("Token", (), {"scope": scope})() if scope else None
    drf_request.auth = token
    return get_policy_context(drf_request)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (Allow() & Deny(), Vote.DENY),
        (Allow() | Deny(), Vote.GRANT),
        (Deny() & Abstain(), Vote.DENY),
        (Allow() & Abstain(), Vote.ABSTAIN),
        (Allow() | Abstain(), Vote.GRANT),
        (Deny() | Abstain(), Vote.ABSTAIN),
        (~Allow(), Vote.DENY),
        (~Deny(), Vote.GRANT),
        (~Abstain(), Vote.ABSTAIN),
        (Deny() | Deny(), Vote.DENY),
    ],
)
def test_three_valued_composition(rule, expected):
    assert rule.decide(_ctx()).vote is expected


def test_denial_names_the_rule_that_denied():
    refused = Deny().with_message("Nope.", code="custom")

    decision = (Allow() & refused).decide(_ctx())

    assert decision.rule is refused
    exc = decision.rule.denial(_ctx())
    assert (str(exc.detail), exc.get_codes()) == ("Nope.", "custom")


def test_scope_rule_honours_implied_scopes():
    assert HasScope("read").decide(_ctx(scope="write")).granted
    assert HasScope("read").decide(_ctx(scope="admin")).granted
    assert not HasScope("write").decide(_ctx(scope="read admin")).granted
    assert not HasScope("read").decide(_ctx(scope="audit")).granted


def test_group_rule():
    user = factories.user()
    user.groups.add(Group.objects.create(name="editors"))

    assert InGroup("editors").decide(_ctx(user)).granted
    assert not InGroup("admins").decide(_ctx(user)).granted


def test_model_permission_rule_ignores_superuser_status():
    root = factories.user(is_superuser=True)
    holder = factories.user()
    holder.user_permissions.add(Permission.objects.get(codename="change_document"))

    assert (
        not HasModelPermission("resources.change_document").decide(_ctx(root)).granted
    )
    assert HasModelPermission("resources.change_document").decide(_ctx(holder)).granted


def test_predicate_of_request_and_of_object():
    is_carol = Predicate(lambda ctx: ctx.user.username == "carol")
    titled = Predicate(
        lambda ctx, obj: obj.title.startswith("A"),
        object_level=True,
        q=lambda ctx: Q(title__startswith="A"),
    )

    assert is_carol.decide(_ctx(factories.user("carol"))).granted
    assert titled.decide(_ctx()).vote is Vote.ABSTAIN
    assert titled.decide(_ctx(), Document(title="Alpha")).granted
    with pytest.raises(ValueError, match="q="):
        Predicate(lambda ctx, obj: True, object_level=True)


@pytest.mark.parametrize(
    "policy", [OrganizationPolicy, MembershipPolicy, ProjectPolicy, DocumentPolicy]
)
def test_list_filter_and_object_check_agree(world, policy):
    """One declaration: what `q` lists is exactly what `decide` admits."""
    grantee = factories.user("gina")
    factories.membership(world.acme, grantee, "member")
    assign_perm("view_document", grantee, world.confidential_doc)
    users = [
        world.owner,
        world.admin,
        world.member,
        world.viewer,
        world.outsider,
        grantee,
    ]
    every = list(policy.model._default_manager.all())

    for user in users:
        ctx = _ctx(user, "read")
        listed = set(policy.visible_queryset(ctx, policy.model._default_manager.all()))
        checked = {obj for obj in every if policy.visible.decide(ctx, obj).granted}
        assert listed == checked, user.username


def test_policies_cover_the_reference_models():
    assert {
        p.model
        for p in (OrganizationPolicy, MembershipPolicy, ProjectPolicy, DocumentPolicy)
    } == {
        Organization,
        Membership,
        Project,
        Document,
    }
