"""Keep per-document grants consistent with memberships.

A grant never outlives the grantee's membership of the document's
organization, and a viewer never keeps `change`, whichever way the
membership was removed or changed (API, admin, cascade).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from resources.models import DocumentUserObjectPermission, Membership, Role


def _grants_in(membership: Membership) -> Any:
    return DocumentUserObjectPermission.objects.filter(
        user_id=membership.user_id,
        content_object__project__organization_id=membership.organization_id,
    )


@receiver(post_delete, sender=Membership)
def delete_grants_of_former_member(instance: Membership, **kwargs: Any) -> None:
    _grants_in(instance).delete()


@receiver(post_save, sender=Membership)
def drop_change_grants_of_viewer(instance: Membership, **kwargs: Any) -> None:
    if instance.role == Role.VIEWER:
        _grants_in(instance).filter(permission__codename="change_document").delete()
