"""Writes of the reference domain that span more than one row."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from resources.models import Document, Membership, Organization, Role, new_slug


@transaction.atomic
def organization_create(*, name: str, owner: Any) -> Organization:
    """Create an organization whose creator is its first owner."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                organization = Organization.objects.create(
                    name=name, slug=new_slug(name)
                )
            break
        except IntegrityError:
            # Two creations drew the same random suffix; draw again.
            continue
    else:
        message = "No free slug after five attempts."
        raise IntegrityError(message)
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def document_share(*, document: Document, user: Any, permission: str) -> None:
    """Grant `view` or `change` (which includes `view`) on a document."""
    assign_perm("view_document", user, document)
    if permission == "change":
        assign_perm("change_document", user, document)


def document_unshare(*, document: Document, user: Any, permission: str) -> None:
    """Revoke `change`, or `view` together with `change`."""
    remove_perm("change_document", user, document)
    if permission == "view":
        remove_perm("view_document", user, document)
