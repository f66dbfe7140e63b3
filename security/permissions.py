"""DRF permission classes: deny by default, or apply the view's policy.

- `DenyAll` is the project's default permission: a view that declares
  nothing serves nothing (401 without credentials, 403 with them).
- `PolicyPermission` applies `view.policy` (see `security.policies`): the
  operation's rule before the object is loaded, then on the object. An
  unauthenticated caller that a rule refuses gets 401; an authenticated one
  gets the denying rule's 403 (`insufficient_scope` for a missing scope).
- `PublicEndpoint` marks a view as deliberately open to everyone, and
  `IsStaffSession` as reserved to admin staff; the system checks accept no
  other way of doing without a policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from security.policies import get_policy_context
from security.rules import Decision

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ExplicitAccess(BasePermission):
    """Base of the marks that the system checks accept instead of a policy."""


class DenyAll(BasePermission):
    """Nobody, for any operation."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class PublicEndpoint(ExplicitAccess):
    """Anyone, anonymous callers included; must be chosen explicitly."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return True


class IsStaffSession(ExplicitAccess):
    """Active staff signed in to the admin (the schema, in production)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        staff = bool(
            user and user.is_authenticated and user.is_active and user.is_staff
        )
        if staff and settings.ADMIN_REQUIRE_OTP:
            # Signed in to the admin means with its second factor too.
            staff = bool(getattr(user, "is_verified", lambda: False)())
        if not staff:
            # No staff session: 401, as for no credentials at all.
            raise exceptions.NotAuthenticated
        return True


def raise_denial(request: Request, decision: Decision) -> None:
    """Raise the exception of a denial (401 for an anonymous caller)."""
    ctx = get_policy_context(request)
    if not ctx.is_authenticated:
        raise exceptions.NotAuthenticated
    if decision.rule is None:
        raise exceptions.PermissionDenied
    denial = decision.rule.denial(ctx)
    # For the audit trail only; the client sees the rule's message alone.
    denial.rule_description = decision.rule.describe()  # type: ignore[attr-defined]
    raise denial


def _method_not_routed(request: Request, view: APIView) -> bool:
    method = (request.method or "").lower()
    action_map = getattr(view, "action_map", None) or {}
    return method not in action_map or method not in view.http_method_names


class PolicyPermission(BasePermission):
    """Apply the view's policy to the current operation."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        policy = getattr(view, "policy", None)
        if policy is None:
            return False
        action = getattr(view, "action", None)
        if _method_not_routed(request, view):
            # No operation to decide: DRF answers 405 with `Allow`.
            return True
        ctx = get_policy_context(request, action)
        decision = policy.decide(ctx, action)
        if decision.denied:
            raise_denial(request, decision)
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        policy = getattr(view, "policy", None)
        if policy is None:
            return False
        action = getattr(view, "action", None)
        ctx = get_policy_context(request, action)
        decision = policy.decide(ctx, action, obj)
        if not decision.granted:
            raise_denial(request, decision)
        return True
