"""Composable authorization rules and the request-level ones.

A rule answers three questions from one declaration, so that what a caller
may list and what they may fetch or change can't drift apart:

- `decide(ctx)`: before any object is loaded. A request-level rule
  (authentication, scope, group, a role anywhere) answers GRANT or DENY; an
  object-level rule (see `security.voters`) answers ABSTAIN, meaning "needs
  the object". A DENY here stops the request before the resource's table is
  queried.
- `q(ctx)`: the rows the rule lets through, as a `Q` for the list filter.
- `decide(ctx, obj)`: the decision on one object (also an unsaved one, for
  the checks that run after the input is validated and before it is saved).

Rules compose with `&`, `|` and `~`, and each carries the message and code
returned when it denies. Three-valued logic keeps the composition sound:
DENY & ABSTAIN is DENY, GRANT | ABSTAIN is GRANT, and ABSTAIN otherwise
waits for the object.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from security.conf import security_settings
from security.exceptions import InsufficientScope, StepUpRequired

if TYPE_CHECKING:
    from django.utils.functional import Promise
    from rest_framework.request import Request

NO_ROWS = Q(pk__in=[])
ALL_ROWS = Q()


class Vote(enum.Enum):
    GRANT = "grant"
    DENY = "deny"
    ABSTAIN = "abstain"


class _NoObject:
    def __repr__(self) -> str:
        return "NO_OBJECT"


NO_OBJECT: Any = _NoObject()


@dataclass
class Decision:
    """The outcome of a rule, and on DENY the rule that denied."""

    vote: Vote
    rule: Rule | None = None

    @property
    def granted(self) -> bool:
        return self.vote is Vote.GRANT

    @property
    def denied(self) -> bool:
        return self.vote is Vote.DENY


@dataclass
class PolicyContext:
    """What rules decide on: the caller, their token, and per-request caches.

    `previous` is the object as it was before a write (None on create), for
    the rules that compare old and new values.
    """

    request: Request
    action: str | None = None
    previous: Any = None
    #: The model whose rows a `q` is being built for; set by the policy.
    model: Any = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> Any:
        return self.request.user

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.request.user, "is_authenticated", False))

    @property
    def scopes(self) -> frozenset[str]:
        """Return the token's scopes, with the scopes each one implies."""
        if "scopes" not in self.cache:
            token = self.request.auth
            if token is not None and hasattr(token, "scope"):
                granted = set(token.scope.split())
            elif self.is_authenticated:
                granted = set(security_settings.SESSION_SCOPES)
            else:
                granted = set()
            implied = security_settings.SCOPE_IMPLIES
            for scope in list(granted):
                granted.update(implied.get(scope, ()))
            self.cache["scopes"] = frozenset(granted)
        return self.cache["scopes"]


# ---------------------------------------------------------------------------
# The rule algebra
# ---------------------------------------------------------------------------


class Rule:
    """Base class: a request-level rule that grants or denies outright."""

    message: str | Promise = _("You do not have permission to perform this action.")
    code = "permission_denied"
    #: Say in words what the rule requires, for the OpenAPI description.
    description = ""

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        vote = self.vote(ctx, obj)
        return Decision(vote, self if vote is Vote.DENY else None)

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        raise NotImplementedError

    def q(self, ctx: PolicyContext) -> Q:
        """Return the rows this rule lets through."""
        return ALL_ROWS if self.decide(ctx).granted else NO_ROWS

    def denial(self, ctx: PolicyContext) -> exceptions.APIException:
        """Return the exception a denial by this rule raises."""
        return exceptions.PermissionDenied(detail=str(self.message), code=self.code)

    def describe(self) -> str:
        return self.description or type(self).__name__

    def __and__(self, other: Rule) -> Rule:
        return AllOf(self, other)

    def __or__(self, other: Rule) -> Rule:
        return AnyOf(self, other)

    def __invert__(self) -> Rule:
        return Not(self)

    def with_message(self, message: str | Promise, code: str | None = None) -> Rule:
        """Return this rule, answering a denial with `message` and `code`."""
        return Described(self, message=message, code=code or self.code)


class AllOf(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        undecided = False
        for rule in self.rules:
            decision = rule.decide(ctx, obj)
            if decision.denied:
                return decision
            undecided = undecided or decision.vote is Vote.ABSTAIN
        return Decision(Vote.ABSTAIN if undecided else Vote.GRANT)

    def q(self, ctx: PolicyContext) -> Q:
        combined = ALL_ROWS
        for rule in self.rules:
            combined &= rule.q(ctx)
        return combined

    def describe(self) -> str:
        return " and ".join(_wrap(rule) for rule in self.rules)


class AnyOf(Rule):
    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        first_denial: Decision | None = None
        undecided = False
        for rule in self.rules:
            decision = rule.decide(ctx, obj)
            if decision.granted:
                return decision
            if decision.vote is Vote.ABSTAIN:
                undecided = True
            elif first_denial is None:
                first_denial = decision
        if undecided:
            return Decision(Vote.ABSTAIN)
        return first_denial or Decision(Vote.DENY, self)

    def q(self, ctx: PolicyContext) -> Q:
        combined = NO_ROWS
        for rule in self.rules:
            decision = rule.decide(ctx)
            if decision.granted:
                return ALL_ROWS
            if not decision.denied:
                combined |= rule.q(ctx)
        return combined

    def describe(self) -> str:
        return " or ".join(_wrap(rule) for rule in self.rules)


class Not(Rule):
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        decision = self.rule.decide(ctx, obj)
        if decision.vote is Vote.ABSTAIN:
            return decision
        return Decision(Vote.DENY, self) if decision.granted else Decision(Vote.GRANT)

    def q(self, ctx: PolicyContext) -> Q:
        return ~self.rule.q(ctx)

    def describe(self) -> str:
        return f"not {_wrap(self.rule)}"


class When(Rule):
    """`then` applies only to objects that `condition` grants; others pass.

    Reads "when the new role is owner, a recent login": a denial is the
    `then` rule's own (a step-up 401, say), never the condition's.
    """

    def __init__(self, condition: Rule, then: Rule) -> None:
        self.condition = condition
        self.then = then

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        applies = self.condition.decide(ctx, obj)
        if applies.vote is Vote.ABSTAIN:
            return Decision(Vote.ABSTAIN)
        if not applies.granted:
            return Decision(Vote.GRANT)
        return self.then.decide(ctx, obj)

    def q(self, ctx: PolicyContext) -> Q:
        return ~self.condition.q(ctx) | self.then.q(ctx)

    def describe(self) -> str:
        return f"when {_wrap(self.condition)}, {_wrap(self.then)}"


class Described(Rule):
    """A rule with its own denial message and code."""

    def __init__(self, rule: Rule, *, message: str | Promise, code: str) -> None:
        self.rule = rule
        self.message = message
        self.code = code

    def decide(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Decision:
        decision = self.rule.decide(ctx, obj)
        if decision.denied:
            return Decision(Vote.DENY, self)
        return decision

    def q(self, ctx: PolicyContext) -> Q:
        return self.rule.q(ctx)

    def describe(self) -> str:
        return self.rule.describe()


def _wrap(rule: Rule) -> str:
    text = rule.describe()
    return f"({text})" if isinstance(rule, (AllOf, AnyOf)) else text


# ---------------------------------------------------------------------------
# Request-level rules
# ---------------------------------------------------------------------------


class Allow(Rule):
    """Everyone, anonymous callers included. Use only for public endpoints."""

    description = "anyone"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        return Vote.GRANT


class Deny(Rule):
    """Nobody."""

    description = "nobody"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        return Vote.DENY


class IsSuperuser(Rule):
    """An active superuser.

    Superuser status widens nothing else through the API; use this only
    where the contract names it (reading every audit event).
    """

    description = "a superuser"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        user = ctx.user
        active = ctx.is_authenticated and user.is_active
        return Vote.GRANT if active and user.is_superuser else Vote.DENY


class IsAuthenticated(Rule):
    """A caller with valid credentials; others get 401."""

    description = "an authenticated caller"

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        return Vote.GRANT if ctx.is_authenticated else Vote.DENY


class RecentLogin(Rule):
    """A token whose user entered their password within `max_age` seconds.

    Denial: 401 `insufficient_user_authentication` with `max_age` (RFC
    9470), telling the client to send the user through login again.
    Refreshing a token never renews its authentication time.
    """

    def __init__(self, max_age: int | None = None) -> None:
        self._max_age = max_age

    @property
    def max_age(self) -> int:
        if self._max_age is not None:
            return self._max_age
        return int(security_settings.STEP_UP_MAX_AGE)

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            # Decided on the object, so that 404 and 403 come first.
            return Vote.ABSTAIN if ctx.is_authenticated else Vote.DENY
        auth_time = getattr(ctx.request.auth, "auth_time", None)
        if auth_time is None:
            return Vote.DENY
        age = (timezone.now() - auth_time).total_seconds()
        return Vote.GRANT if age <= self.max_age else Vote.DENY

    def denial(self, ctx: PolicyContext) -> exceptions.APIException:
        return StepUpRequired(self.max_age)

    def describe(self) -> str:
        return f"a login within the last {self.max_age} seconds"


class HasScope(Rule):
    """A token holding every listed scope (with the scopes each implies).

    Denial: 403 `insufficient_scope`, naming the scopes (RFC 6750 3.1).
    """

    def __init__(self, *scopes: str) -> None:
        self.scopes = frozenset(scopes)

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        return Vote.GRANT if self.scopes <= ctx.scopes else Vote.DENY

    def denial(self, ctx: PolicyContext) -> exceptions.APIException:
        return InsufficientScope(self.scopes)

    def describe(self) -> str:
        return "scope " + " ".join(sorted(self.scopes))


class InGroup(Rule):
    """A member of the named Django group (API Platform's `ROLE_*`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if not ctx.is_authenticated:
            return Vote.DENY
        key = f"groups:{ctx.user.pk}"
        if key not in ctx.cache:
            ctx.cache[key] = set(ctx.user.groups.values_list("name", flat=True))
        return Vote.GRANT if self.name in ctx.cache[key] else Vote.DENY

    def describe(self) -> str:
        return f"member of group {self.name}"


class HasModelPermission(Rule):
    """A user holding a model-level Django permission such as `app.change_x`.

    Superuser status does not count: through the API a superuser gets only
    what their permissions and roles give them.
    """

    def __init__(self, perm: str) -> None:
        self.perm = perm

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if not ctx.is_authenticated or not ctx.user.is_active:
            return Vote.DENY
        key = f"perms:{ctx.user.pk}"
        if key not in ctx.cache:
            from django.contrib.auth.models import Permission

            user = ctx.user
            ctx.cache[key] = {
                f"{label}.{name}"
                for label, name in Permission.objects.filter(
                    Q(user=user) | Q(group__user=user)
                ).values_list("content_type__app_label", "codename")
            }
        return Vote.GRANT if self.perm in ctx.cache[key] else Vote.DENY

    def describe(self) -> str:
        return f"permission {self.perm}"


class Predicate(Rule):
    """A plain function of the policy context (and maybe of the object).

    A function of the request alone decides before any object is loaded;
    one that takes the object (`object_level=True`) filters lists only
    through `q`, which it must then provide.
    """

    def __init__(
        self,
        func: Callable[..., bool],
        description: str = "",
        *,
        object_level: bool = False,
        q: Callable[[PolicyContext], Q] | None = None,
    ) -> None:
        if object_level and q is None:
            msg = "An object-level Predicate needs q= for list filtering."
            raise ValueError(msg)
        self.func = func
        self.description = description or func.__name__.replace("_", " ")
        self.object_level = object_level
        self._q = q

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if self.object_level:
            if obj is NO_OBJECT:
                return Vote.ABSTAIN
            return Vote.GRANT if self.func(ctx, obj) else Vote.DENY
        return Vote.GRANT if self.func(ctx) else Vote.DENY

    def q(self, ctx: PolicyContext) -> Q:
        if self._q is not None:
            return self._q(ctx)
        return super().q(ctx)
