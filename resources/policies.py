"""Who may do what with each reference resource.

Read as the business rules of docs/security.md: a caller with no role in an
organization sees nothing of it (404); every other decision is below, one
rule per operation.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from resources.models import (
    Classification,
    Document,
    Membership,
    Organization,
    Project,
    Role,
)
from security.exceptions import Conflict
from security.policies import Policy
from security.rules import (
    NO_OBJECT,
    HasScope,
    PolicyContext,
    RecentLogin,
    Rule,
    Vote,
    When,
)
from security.voters import (
    FieldEquals,
    HasObjectGrant,
    HasOrganizationRole,
    HasRoleAnywhere,
    IsOwner,
    role_rank,
)

READ = HasScope("read")
WRITE = HasScope("write")
ADMIN_SCOPE = HasScope("admin")


def role_in_org(minimum: str, path: str = "organization") -> Rule:
    return HasOrganizationRole(minimum, path).with_message(
        _("Your role in this organization does not allow this.")
    )


# ---------------------------------------------------------------------------
# Membership rules, which read and lock the rows they decide on
# ---------------------------------------------------------------------------

_HIGH_ROLES = frozenset({Role.ADMIN, Role.OWNER})


def _locked_role(organization_id: Any, user: Any) -> str | None:
    """Read the user's current role, locking it until the transaction ends."""
    return (
        Membership.objects.select_for_update()
        .filter(organization_id=organization_id, user=user)
        .values_list("role", flat=True)
        .first()
    )


class CanManageRole(Rule):
    """Admins manage members and viewers; only owners touch admins and owners.

    Decided on the membership as it would be saved and, for a change, on the
    role it had: demoting an admin is as much an owner's decision as
    promoting to one. The caller's role is re-read under a row lock, so a
    concurrent demotion of the caller can't slip in between check and save.
    """

    message = _("Only owners grant, change or remove the admin and owner roles.")
    description = "owner for admin and owner roles, admin or above otherwise"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN if ctx.is_authenticated else Vote.DENY
        touched = {obj.role}
        if ctx.previous is not None:
            touched.add(ctx.previous.role)
        needed = Role.OWNER if touched & _HIGH_ROLES else Role.ADMIN
        actual = _locked_role(obj.organization_id, ctx.user)
        if actual is None or role_rank(actual) < role_rank(needed):
            return Vote.DENY
        return Vote.GRANT


class NotLastOwner(Rule):
    """Refuse to demote or remove an organization's last owner (409).

    The organization's owner rows are locked while counting, so two
    concurrent demotions of two owners can't both pass.
    """

    message = _("An organization must keep at least one owner.")
    code = "last_owner"
    description = "the organization keeps an owner"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN
        before = ctx.previous if ctx.previous is not None else obj
        after = obj.role if ctx.previous is not None else None
        if before.role != Role.OWNER or after == Role.OWNER:
            return Vote.GRANT
        owners = list(
            Membership.objects.select_for_update()
            .filter(organization_id=obj.organization_id, role=Role.OWNER)
            .values_list("pk", flat=True)
        )
        return Vote.GRANT if len(owners) > 1 else Vote.DENY

    def denial(self, ctx: PolicyContext) -> exceptions.APIException:
        return Conflict(detail=str(self.message), code=self.code)


# Making someone owner hands over the organization: it needs a recent login
# (RFC 9470), decided on the body, so after validation.
_owner_needs_recent_login = When(FieldEquals("role", Role.OWNER), then=RecentLogin())

_not_own_membership = (~IsOwner("user")).with_message(
    _("Nobody changes their own role.")
)


class OrganizationPolicy(Policy):
    model = Organization
    visible = HasOrganizationRole("viewer", path="")
    rules = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "update": WRITE & role_in_org("admin", path=""),
        "partial_update": WRITE & role_in_org("admin", path=""),
        # Deleting an organization deletes everything in it: recent login.
        "destroy": WRITE & role_in_org("owner", path="") & RecentLogin(),
    }


class MembershipPolicy(Policy):
    model = Membership
    visible = HasOrganizationRole("viewer")
    rules = {
        "list": READ,
        "retrieve": READ,
        "create": ADMIN_SCOPE & HasRoleAnywhere("admin"),
        "update": ADMIN_SCOPE & role_in_org("admin") & _not_own_membership,
        "partial_update": ADMIN_SCOPE & role_in_org("admin") & _not_own_membership,
        # A member leaves with `write`; admins and owners remove others.
        "destroy": ((WRITE & IsOwner("user")) | (ADMIN_SCOPE & CanManageRole()))
        & NotLastOwner(),
    }
    before_save = {
        "create": role_in_org("admin") & CanManageRole() & _owner_needs_recent_login,
        "update": CanManageRole() & NotLastOwner() & _owner_needs_recent_login,
        "partial_update": CanManageRole() & NotLastOwner() & _owner_needs_recent_login,
    }


class ProjectPolicy(Policy):
    model = Project
    visible = HasOrganizationRole("viewer")
    rules = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE & HasRoleAnywhere("admin"),
        "update": WRITE & role_in_org("admin"),
        "partial_update": WRITE & role_in_org("admin"),
        "destroy": WRITE & role_in_org("admin"),
    }
    before_save = {"create": role_in_org("admin")}


_DOCUMENT_ORG = "project__organization"
_document_admin = role_in_org("admin", _DOCUMENT_ORG)
_document_author = HasOrganizationRole("member", _DOCUMENT_ORG) & IsOwner("owner")


class DocumentPolicy(Policy):
    model = Document
    visible = HasOrganizationRole("viewer", _DOCUMENT_ORG) & (
        ~FieldEquals("classification", Classification.CONFIDENTIAL)
        | IsOwner("owner")
        | HasOrganizationRole("admin", _DOCUMENT_ORG)
        | HasObjectGrant("view_document")
    )
    rules = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE & HasRoleAnywhere("member"),
        "update": WRITE
        & (_document_admin | _document_author | HasObjectGrant("change_document")),
        "partial_update": WRITE
        & (_document_admin | _document_author | HasObjectGrant("change_document")),
        "destroy": WRITE & (_document_admin | _document_author),
        "share": ADMIN_SCOPE & (IsOwner("owner") | _document_admin),
        "unshare": ADMIN_SCOPE & (IsOwner("owner") | _document_admin),
    }
    before_save = {"create": role_in_org("member", _DOCUMENT_ORG)}


class UserPolicy(Policy):
    """`users/me`: the caller's own account, and nobody else's."""

    model = get_user_model()
    visible = IsOwner("")
    rules = {
        "retrieve": READ,
        "partial_update": WRITE,
    }
