"""Who may do what with each reference resource.

Read as the business rules of docs/security.md: a caller with no role in an
organization sees nothing of it (404); every other decision is below, one
rule per operation.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from resources.models import Classification, Document, Membership, Organization, Project
from security.policies import Policy
from security.rules import HasScope, Rule
from security.voters import (
    FieldEquals,
    HasObjectGrant,
    HasOrganizationRole,
    HasRoleAnywhere,
    IsOwner,
)

READ = HasScope("read")
WRITE = HasScope("write")
ADMIN_SCOPE = HasScope("admin")


def role_in_org(minimum: str, path: str = "organization") -> Rule:
    return HasOrganizationRole(minimum, path).with_message(
        _("Your role in this organization does not allow this.")
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
        "destroy": WRITE & role_in_org("owner", path=""),
    }


class MembershipPolicy(Policy):
    model = Membership
    visible = HasOrganizationRole("viewer")
    rules = {
        "list": READ,
        "retrieve": READ,
        "create": ADMIN_SCOPE & HasRoleAnywhere("admin"),
        "update": ADMIN_SCOPE & role_in_org("admin"),
        "partial_update": ADMIN_SCOPE & role_in_org("admin"),
        # A member leaves on their own with `write`; an admin removes others.
        "destroy": (WRITE & IsOwner("user")) | (ADMIN_SCOPE & role_in_org("admin")),
    }
    before_save = {"create": role_in_org("admin")}


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
