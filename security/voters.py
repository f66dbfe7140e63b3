"""Object-level rules: ownership, organization role, per-object grants.

Each voter decides on one object in Python and gives the same answer as a
`Q` for lists, so a list is filtered in the database with a fixed number of
queries, whatever its length or the number of grants. Before an object is
loaded a voter abstains; `HasRoleAnywhere` is the request-level companion
that lets a caller with no role at all be refused before any resource query.

The caller's roles are read once per request (one query on the membership
model named by `SECURITY["MEMBERSHIP_MODEL"]`) and kept in the context.
Superuser status and model-level permissions play no part here: guardian is
asked with global permissions and superuser shortcuts off.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Model, Q
from guardian.utils import get_user_obj_perms_model

from security.conf import security_settings
from security.rules import NO_OBJECT, NO_ROWS, PolicyContext, Rule, Vote


def role_rank(role: str) -> int:
    """Return the position of a role in SECURITY["ROLES"] (lowest is 0)."""
    return list(security_settings.ROLES).index(role)


def organization_roles(ctx: PolicyContext) -> dict[Any, str]:
    """Return the caller's role in each organization they belong to."""
    if "roles" not in ctx.cache:
        roles: dict[Any, str] = {}
        if ctx.is_authenticated:
            membership = apps.get_model(security_settings.MEMBERSHIP_MODEL)
            roles = dict(
                membership._default_manager.filter(user=ctx.user).values_list(
                    "organization_id", "role"
                )
            )
        ctx.cache["roles"] = roles
    return ctx.cache["roles"]


def organizations_with_role(ctx: PolicyContext, minimum: str) -> list[Any]:
    """Return the ids of the organizations where the caller has `minimum`+."""
    floor = role_rank(minimum)
    return [
        org_id
        for org_id, role in organization_roles(ctx).items()
        if role_rank(role) >= floor
    ]


_MISSING = object()


def resolve_id(obj: Any, path: str) -> Any:
    """Follow an `a__b` path of foreign keys; return the last id."""
    if not path:
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    # A foreign key has `<name>_id` (read without loading the related row);
    # a plain id column is the name itself.
    value = getattr(obj, f"{last}_id", _MISSING)
    return getattr(obj, last, None) if value is _MISSING else value


class HasRoleAnywhere(Rule):
    """A caller with at least `minimum` in some organization."""

    def __init__(self, minimum: str = "viewer") -> None:
        role_rank(minimum)
        self.minimum = minimum

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        return Vote.GRANT if organizations_with_role(ctx, self.minimum) else Vote.DENY

    def describe(self) -> str:
        return f"{self.minimum} or above in some organization"


class HasOrganizationRole(Rule):
    """A caller with at least `minimum` in the object's organization.

    `path` leads from the object to its organization (`"organization"`,
    `"project__organization"`); an empty path means the object is the
    organization.
    """

    def __init__(self, minimum: str, path: str = "organization") -> None:
        role_rank(minimum)
        self.minimum = minimum
        self.path = path

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN if ctx.is_authenticated else Vote.DENY
        allowed = organizations_with_role(ctx, self.minimum)
        return Vote.GRANT if resolve_id(obj, self.path) in allowed else Vote.DENY

    def q(self, ctx: PolicyContext) -> Q:
        lookup = f"{self.path}__in" if self.path else "pk__in"
        return Q(**{lookup: organizations_with_role(ctx, self.minimum)})

    def describe(self) -> str:
        return f"{self.minimum} or above in the organization"


class IsOwner(Rule):
    """The user the object's `field` points at (an empty field: the object)."""

    def __init__(self, field: str = "owner") -> None:
        self.field = field

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN if ctx.is_authenticated else Vote.DENY
        if not ctx.is_authenticated:
            return Vote.DENY
        return Vote.GRANT if resolve_id(obj, self.field) == ctx.user.pk else Vote.DENY

    def q(self, ctx: PolicyContext) -> Q:
        if not ctx.is_authenticated:
            return NO_ROWS
        return Q(**{self.field or "pk": ctx.user.pk})

    def describe(self) -> str:
        if not self.field:
            return "the caller themself"
        return f"the object's {self.field.replace('__', ' ')}"


class HasObjectGrant(Rule):
    """A user granted `codename` on this very object through django-guardian.

    Grants are read from the model's direct foreign-key permission table, so
    no grant outlives its object; group grants and global permissions are
    deliberately not consulted.
    """

    def __init__(self, codename: str) -> None:
        self.codename = codename

    def _grants(self, ctx: PolicyContext, model: type[Model]) -> Any:
        # guardian resolves the permission model from a class as well as
        # from an instance; its annotation names only the instance.
        permission_model = get_user_obj_perms_model(model)  # type: ignore[arg-type]
        return permission_model._default_manager.filter(
            user=ctx.user, permission__codename=self.codename
        )

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN if ctx.is_authenticated else Vote.DENY
        if not ctx.is_authenticated or obj.pk is None:
            return Vote.DENY
        key = f"grant:{self.codename}:{obj.pk}"
        if key not in ctx.cache:
            ctx.cache[key] = (
                self._grants(ctx, type(obj)).filter(content_object=obj.pk).exists()
            )
        return Vote.GRANT if ctx.cache[key] else Vote.DENY

    def q(self, ctx: PolicyContext) -> Q:
        if not ctx.is_authenticated:
            return NO_ROWS
        if ctx.model is None:
            msg = "HasObjectGrant.q needs the policy to set ctx.model."
            raise RuntimeError(msg)
        return Q(pk__in=self._grants(ctx, ctx.model).values("content_object"))

    def describe(self) -> str:
        return f"granted {self.codename} on the object"


class FieldEquals(Rule):
    """An object whose `field` holds `value` (a classification, a status)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.value = value

    def vote(self, ctx: PolicyContext, obj: Any = NO_OBJECT) -> Vote:
        if obj is NO_OBJECT:
            return Vote.ABSTAIN
        return Vote.GRANT if getattr(obj, self.field) == self.value else Vote.DENY

    def q(self, ctx: PolicyContext) -> Q:
        return Q(**{self.field: self.value})

    def describe(self) -> str:
        return f"{self.field} is {self.value}"
