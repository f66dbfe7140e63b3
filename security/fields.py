"""Serializer rules: declared fields only, per-object read and write rules.

`PolicySerializer` is the base of every API serializer. It guarantees:

- input naming a field the serializer does not declare is refused with 400
  `unknown_field`; a read-only field with 400 `read_only`; a write-once field
  (`Meta.write_once`) sent with a value other than the current one on update
  with 400 `not_writable` (OWASP ASVS 15.3.3, mass assignment);
- a PUT carries every field the caller may write on the object (400
  `required` naming the others): PUT replaces, PATCH amends;
- a field whose `Meta.field_rules` read rule denies is absent from that
  object's representation (not null), decided row by row;
- a field whose write rule denies on the object as it would be saved is
  refused with 400 `not_writable` (checked by `security.views`);
- related objects are accepted only when the caller can see them through
  their model's policy, and refused exactly like ids that do not exist.

The write rules and the read rules of lists must decide without queries per
row (organization roles are cached per request); per-object grants are for
single-object rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

from security.conf import security_settings
from security.policies import get_policy_context, policy_for_model
from security.rules import PolicyContext, Rule


@dataclass(frozen=True)
class FieldRules:
    """Who may read and who may write one field; None means everyone."""

    read: Rule | None = None
    write: Rule | None = None


def _error(message: Any, code: str) -> exceptions.ErrorDetail:
    return exceptions.ErrorDetail(message, code)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object's id, accepted only if the caller can see it."""

    default_error_messages = {
        "does_not_exist": _("Object not found."),
        "incorrect_type": _("Must be an id."),
    }

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if queryset is None:
            return queryset
        request = self.context.get("request")
        policy = policy_for_model(queryset.model)
        if request is None or policy is None:
            # No policy, no way to tell what the caller may see.
            return queryset.none()
        return policy.visible_queryset(get_policy_context(request), queryset)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError(
                self.error_messages["does_not_exist"], code="not_found"
            ) from exc


def refuse_undeclared(serializer: serializers.Serializer, data: Any) -> None:
    """Refuse a non-object, or one naming undeclared or read-only fields."""
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError(
            {"": [_error(_("Send a JSON object."), "invalid")]}
        )
    errors: dict[str, list[exceptions.ErrorDetail]] = {}
    for name in data:
        field = serializer.fields.get(name)
        if field is None:
            errors[name] = [_error(_("Unknown field."), "unknown_field")]
        elif field.read_only:
            errors[name] = [_error(_("This field is read-only."), "read_only")]
    if errors:
        raise exceptions.ValidationError(errors)


class StrictSerializer(serializers.Serializer):
    """A plain serializer that accepts only the fields it declares."""

    def to_internal_value(self, data: Any) -> Any:
        refuse_undeclared(self, data)
        return super().to_internal_value(data)


class PolicySerializer(serializers.ModelSerializer):
    """A model serializer accepting only what it declares (see above)."""

    serializer_related_field = VisibleRelatedField

    def _policy_context(self) -> PolicyContext | None:
        request = self.context.get("request")
        return get_policy_context(request) if request is not None else None

    @classmethod
    def field_rules(cls) -> Mapping[str, FieldRules]:
        return getattr(getattr(cls, "Meta", None), "field_rules", {})

    @classmethod
    def write_once_fields(cls) -> tuple[str, ...]:
        return tuple(getattr(getattr(cls, "Meta", None), "write_once", ()))

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        for name, limit in security_settings.FIELD_MAX_LENGTHS.items():
            field = fields.get(name)
            if isinstance(field, serializers.CharField) and not field.read_only:
                field.max_length = limit
                field.validators.append(MaxLengthValidator(limit))
        for name in self.write_once_fields():
            if name in fields and self.instance is not None:
                # Accepted on update only unchanged; checked below.
                fields[name].required = False
        return fields

    def to_internal_value(self, data: Any) -> Any:
        refuse_undeclared(self, data)

        if self.instance is not None and not self.partial:
            self._require_full_representation(data)

        value = super().to_internal_value(data)
        errors: dict[str, list[exceptions.ErrorDetail]] = {}
        if self.instance is not None:
            for name in self.write_once_fields():
                if name in value and value[name] != getattr(self.instance, name):
                    errors[name] = [
                        _error(_("This field can't be changed."), "not_writable")
                    ]
        if errors:
            raise exceptions.ValidationError(errors)
        return value

    def _require_full_representation(self, data: Mapping[str, Any]) -> None:
        """On PUT, require every field the caller may write on this object."""
        ctx = self._policy_context()
        rules = self.field_rules()
        missing = [
            name
            for name, field in self.fields.items()
            if not field.read_only
            and name not in data
            and self._may_write(ctx, rules.get(name))
        ]
        if missing:
            raise exceptions.ValidationError(
                {
                    name: [
                        _error(_("PUT needs this field; PATCH doesn't."), "required")
                    ]
                    for name in missing
                }
            )

    def _may_write(self, ctx: PolicyContext | None, rules: FieldRules | None) -> bool:
        if rules is None or rules.write is None:
            return True
        return ctx is not None and rules.write.decide(ctx, self.instance).granted

    def check_field_writes(self, ctx: PolicyContext, new: Any) -> None:
        """Refuse fields sent that the caller may not write on `new`."""
        sent = self.initial_data if isinstance(self.initial_data, Mapping) else {}
        errors = {
            name: [_error(_("You may not set this field."), "not_writable")]
            for name, rules in self.field_rules().items()
            if name in sent
            and rules.write is not None
            and not rules.write.decide(ctx, new).granted
        }
        if errors:
            raise exceptions.ValidationError(errors)

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        ctx = self._policy_context()
        for name, rules in self.field_rules().items():
            if rules.read is None or name not in data:
                continue
            if ctx is None or not rules.read.decide(ctx, instance).granted:
                del data[name]
        return data
