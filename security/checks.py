"""System checks that refuse to start an insecure API.

- secapi.E001: an API view with neither a policy nor an explicit public mark.
- secapi.E002: a viewset operation its policy has no rule for.
- secapi.E003: a permission class other than the policy or the public mark
  (an `AllowAny` slipped in makes an endpoint public without saying so).
- secapi.E004: a serializer with `fields = "__all__"` or `exclude`, which
  would expose every field a model later gains.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.serializers import ModelSerializer
from rest_framework.views import APIView

from security.permissions import ExplicitAccess, PolicyPermission


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_views() -> Iterator[tuple[str, type[APIView], dict[str, str]]]:
    """Yield (route, view class, method-to-action map) of every DRF view.

    Attributes given to `as_view()` (permission classes, say) count as the
    class's own: a subclass is made to carry them.
    """
    for route, callback in _walk(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if inspect.isclass(view_class) and issubclass(view_class, APIView):
            initkwargs = getattr(callback, "initkwargs", None) or {}
            overrides = {
                key: value
                for key, value in initkwargs.items()
                if key in ("permission_classes", "policy")
            }
            if overrides:
                view_class = type(view_class.__name__, (view_class,), overrides)
            yield route, view_class, dict(getattr(callback, "actions", None) or {})


def check_view(
    route: str, view: type[APIView], actions: dict[str, str]
) -> list[checks.CheckMessage]:
    """Return the errors of one API view."""
    permission_classes = list(view.permission_classes)
    name = f"{view.__module__}.{view.__qualname__}"
    explicit = [
        p
        for p in permission_classes
        if isinstance(p, type) and issubclass(p, ExplicitAccess)
    ]
    if explicit and len(permission_classes) == 1:
        return []
    if PolicyPermission not in permission_classes:
        others = [getattr(p, "__name__", repr(p)) for p in permission_classes]
        return [
            checks.Error(
                f"{name} ({route}) has no policy; its permission classes are {others}.",
                hint="Give it a `policy` with PolicyPermission, or mark it public "
                "with permission_classes = [PublicEndpoint].",
                obj=view,
                id="secapi.E001" if others in ([], ["DenyAll"]) else "secapi.E003",
            )
        ]
    errors: list[checks.CheckMessage] = []
    if len(permission_classes) > 1:
        errors.append(
            checks.Error(
                f"{name} ({route}) mixes PolicyPermission with other classes.",
                hint="Express every condition as a rule of the policy.",
                obj=view,
                id="secapi.E003",
            )
        )
    policy = getattr(view, "policy", None)
    if policy is None:
        return [
            *errors,
            checks.Error(
                f"{name} ({route}) uses PolicyPermission but declares no policy.",
                hint="Set `policy = <Model>Policy` on the view.",
                obj=view,
                id="secapi.E001",
            ),
        ]
    for action in sorted(set(actions.values())):
        if policy.rule_for(action) is None:
            errors.append(
                checks.Error(
                    f"{policy.__name__} has no rule for {name}.{action} ({route}).",
                    hint=f"Add {action!r} to {policy.__name__}.rules.",
                    obj=view,
                    id="secapi.E002",
                )
            )
    return errors


def _project_serializers() -> Iterator[type[ModelSerializer]]:
    base_dir = Path(settings.BASE_DIR).resolve()
    seen: set[type[ModelSerializer]] = set()
    pending = list(ModelSerializer.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        try:
            source = Path(inspect.getfile(cls)).resolve()
        except (TypeError, OSError):
            continue
        if base_dir in source.parents and ".venv" not in source.parts:
            yield cls


def check_serializer(serializer: type[ModelSerializer]) -> list[checks.CheckMessage]:
    """Return the errors of one model serializer."""
    meta = getattr(serializer, "Meta", None)
    if meta is None:
        return []
    if getattr(meta, "fields", None) == "__all__" or hasattr(meta, "exclude"):
        return [
            checks.Error(
                f"{serializer.__module__}.{serializer.__qualname__} exposes fields "
                "it does not name (`__all__` or `exclude`).",
                hint="List every field in Meta.fields.",
                obj=serializer,
                id="secapi.E004",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_api_policies(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Refuse API views without an explicit policy or public mark."""
    errors: list[checks.CheckMessage] = []
    for route, view, actions in api_views():
        errors.extend(check_view(route, view, actions))
    return errors


@checks.register(checks.Tags.security)
def check_serializer_fields(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Refuse serializers that expose fields they do not name."""
    errors: list[checks.CheckMessage] = []
    for serializer in _project_serializers():
        errors.extend(check_serializer(serializer))
    return errors


@checks.register(checks.Tags.database, deploy=True)
def check_no_demo_data(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Refuse demo accounts, demo clients and http redirect URIs."""
    if not databases:
        return []
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_application_model

    from security.conf import security_settings

    errors: list[checks.CheckMessage] = []
    demo_users = sorted(
        get_user_model()
        .objects.filter(username__in=security_settings.DEMO_USERNAMES)
        .values_list("username", flat=True)
    )
    if demo_users:
        errors.append(
            checks.Error(
                f"Demo users exist: {', '.join(demo_users)}.",
                hint="Delete them: their passwords were printed or are known.",
                id="secapi.E005",
            )
        )
    applications = get_application_model().objects.all()
    demo_clients = sorted(
        a.name for a in applications if a.name in security_settings.DEMO_CLIENT_NAMES
    )
    if demo_clients:
        errors.append(
            checks.Error(
                f"Demo OAuth clients exist: {', '.join(demo_clients)}.",
                hint="Delete them and register your own clients.",
                id="secapi.E006",
            )
        )
    plain_http = sorted(
        a.name
        for a in applications
        if any(uri.startswith("http://") for uri in a.redirect_uris.split())
    )
    if plain_http:
        errors.append(
            checks.Error(
                f"OAuth clients with http redirect URIs: {', '.join(plain_http)}.",
                hint="Register https redirect URIs only (RFC 9700 section 2.6).",
                id="secapi.E007",
            )
        )
    return errors
