"""Policies: the rules of one resource, declared next to its viewset.

A policy names, for one model:

- `visible`: which objects exist for the caller. It filters every queryset
  the viewset uses, so an object outside it is a 404 on every operation, and
  what can be listed is exactly what can be fetched.
- `rules`: one rule per operation (`list`, `retrieve`, `create`, `update`,
  `partial_update`, `destroy`, and each custom action). Checked before the
  body is read: its request-level part before any query on the resource, its
  object-level part on the object the visible queryset returned (403).
- `before_save`: rules checked after the input is validated and before
  anything is saved, on the object as it would be saved, with the object as
  it was in `ctx.previous` (API Platform's `security_post_denormalize`).

An operation without a rule is denied, and `security.checks` refuses to
start with one. Policies register themselves by model so that serializer
fields can restrict related objects to what the caller can see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from security.rules import NO_OBJECT, Decision, PolicyContext, Rule, Vote

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from rest_framework.request import Request

_registry: dict[type[Model], type[Policy]] = {}

CONTEXT_ATTRIBUTE = "policy_context"


class Policy:
    """Base class of a resource's policy; subclass and declare, don't call."""

    model: ClassVar[type[Model]]
    visible: ClassVar[Rule]
    rules: ClassVar[dict[str, Rule]] = {}
    before_save: ClassVar[dict[str, Rule]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("model")
        if model is not None:
            _registry[model] = cls

    @classmethod
    def rule_for(cls, action: str | None) -> Rule | None:
        """Return the rule declared for an operation, or None."""
        if action is None:
            return None
        return cls.rules.get(action)

    @classmethod
    def visible_queryset(
        cls, ctx: PolicyContext, queryset: QuerySet[Any]
    ) -> QuerySet[Any]:
        """Return the objects of `queryset` that exist for the caller."""
        ctx.model = cls.model
        if cls.visible.decide(ctx).denied:
            return queryset.none()
        return queryset.filter(cls.visible.q(ctx))

    @classmethod
    def list_queryset(
        cls, ctx: PolicyContext, queryset: QuerySet[Any], action: str
    ) -> QuerySet[Any]:
        """Return what a list shows: visible and allowed by its rule."""
        queryset = cls.visible_queryset(ctx, queryset)
        rule = cls.rule_for(action)
        if rule is None:
            return queryset.none()
        ctx.model = cls.model
        return queryset.filter(rule.q(ctx))

    @classmethod
    def decide(
        cls, ctx: PolicyContext, action: str | None, obj: Any = NO_OBJECT
    ) -> Decision:
        """Decide an operation before the object is loaded, or on it."""
        ctx.model = cls.model
        rule = cls.rule_for(action)
        if rule is None:
            return Decision(Vote.DENY, None)
        decision = rule.decide(ctx, obj)
        if obj is not NO_OBJECT and decision.vote is Vote.ABSTAIN:
            # An object-level rule must decide once it has the object.
            return Decision(Vote.DENY, rule)
        return decision

    @classmethod
    def decide_before_save(
        cls, ctx: PolicyContext, action: str | None, new: Any
    ) -> Decision:
        """Decide a write on the object as it would be saved."""
        rule = cls.before_save.get(action or "")
        if rule is None:
            return Decision(Vote.GRANT)
        decision = rule.decide(ctx, new)
        if decision.vote is Vote.ABSTAIN:
            return Decision(Vote.DENY, rule)
        return decision


def policy_for_model(model: type[Model]) -> type[Policy] | None:
    """Return the policy registered for a model, if any."""
    return _registry.get(model)


def get_policy_context(request: Request, action: str | None = None) -> PolicyContext:
    """Return the request's policy context, creating it on first use."""
    ctx = getattr(request, CONTEXT_ATTRIBUTE, None)
    if ctx is None:
        ctx = PolicyContext(request=request, action=action)
        setattr(request, CONTEXT_ATTRIBUTE, ctx)
    return ctx
