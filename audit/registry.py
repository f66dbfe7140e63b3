"""Opting a model into the audit trail: `audit.registry.register(Model, ...)`.

A registered model's creations, changes and deletions are recorded in the
transaction that makes them (a rolled-back change leaves no event):

- `created` and `deleted` carry the values of the fields not marked
  sensitive; `updated` names every changed field and gives values only for
  the fields not marked sensitive;
- `organization` is a dotted path from the object to its organization's id
  (`"organization_id"`, `"project.organization_id"`, `"pk"`), so that the
  organization's admins can read the event;
- `actions` renames the three events (`membership.role_changed`), and
  `critical` names the changes that also raise an alert.

Writes that skip signals (`QuerySet.update()`, `bulk_create()`, raw SQL)
are not recorded; see docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

DEFAULT_ACTIONS = {
    "created": "resource.created",
    "updated": "resource.updated",
    "deleted": "resource.deleted",
}


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    organization: str | None
    sensitive: frozenset[str]
    actions: dict[str, str]
    critical: Callable[[Any, str], bool] | None = None
    describe: Callable[[Any], dict[str, Any]] | None = None
    tracked: tuple[str, ...] = field(default=())


# TODO(audit): QuerySet.update(), bulk_create() and raw SQL skip these
# signals, so such writes are not audited. Fix: route bulk writes through
# audit.services.record_event(), or add database triggers that write the
# outbox.
_registry: dict[type[models.Model], Registration] = {}
_SNAPSHOT = "_audit_snapshot"


def register(
    model: type[models.Model],
    *,
    organization: str | None = None,
    sensitive: Iterable[str] = (),
    actions: dict[str, str] | None = None,
    critical: Callable[[Any, str], bool] | None = None,
    describe: Callable[[Any], dict[str, Any]] | None = None,
    ignore: Iterable[str] = (),
) -> None:
    """Record every creation, change and deletion of `model`.

    `ignore` names fields whose changes are not events (a last-login time).
    """
    ignored = set(ignore)
    tracked = tuple(
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.name not in ignored
        # An update time changes on every save: noise, not information.
        and not getattr(f, "auto_now", False)
    )
    _registry[model] = Registration(
        model=model,
        organization=organization,
        sensitive=frozenset(sensitive),
        actions={**DEFAULT_ACTIONS, **(actions or {})},
        critical=critical,
        describe=describe,
        tracked=tracked,
    )
    uid = f"audit:{model._meta.label_lower}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}:pre")
    post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}:post")
    post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}:delete")


def registration(model: type[models.Model]) -> Registration | None:
    return _registry.get(model)


def organization_of(reg: Registration, obj: Any) -> Any:
    if reg.organization is None:
        return None
    value = obj
    for hop in reg.organization.split("."):
        value = getattr(value, hop, None)
        if value is None:
            return None
    return value


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _values(reg: Registration, obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {
        name: _plain(getattr(obj, name))
        for name in names
        if name not in reg.sensitive and name.removesuffix("_id") not in reg.sensitive
    }


def _before_save(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    reg = _registry[sender]
    if instance._state.adding or instance.pk is None:
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*reg.tracked).first()
    setattr(instance, _SNAPSHOT, before)


def _after_save(
    sender: type[models.Model],
    instance: Any,
    created: bool,  # noqa: FBT001 - Django's signal signature
    **kwargs: Any,
) -> None:
    reg = _registry[sender]
    before = getattr(instance, _SNAPSHOT, None)
    if created or before is None:
        _record(
            reg, "created", instance, {"values": _values(reg, instance, reg.tracked)}
        )
        return
    delattr(instance, _SNAPSHOT)
    changed = [
        name
        for name in reg.tracked
        if _plain(before[name]) != _plain(getattr(instance, name))
    ]
    if not changed:
        return
    details = {
        "changed": [name.removesuffix("_id") for name in changed],
        "values": _values(reg, instance, changed),
        "previous": {
            name: _plain(before[name])
            for name in changed
            if name not in reg.sensitive
            and name.removesuffix("_id") not in reg.sensitive
        },
    }
    _record(reg, "updated", instance, details)


def _after_delete(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    reg = _registry[sender]
    _record(reg, "deleted", instance, {"values": _values(reg, instance, reg.tracked)})


def _record(
    reg: Registration, kind: str, instance: Any, details: dict[str, Any]
) -> None:
    from audit.services import record_event

    if reg.describe is not None:
        details = {**details, **reg.describe(instance)}
    record_event(
        reg.actions[kind],
        target=instance,
        organization=organization_of(reg, instance),
        details=details,
        critical=bool(reg.critical and reg.critical(instance, kind)),
    )
