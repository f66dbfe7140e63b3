"""The viewset base that applies a policy to every operation.

`PolicyModelViewSet` (and the narrower `PolicyViewSet`) guarantee:

- the queryset comes from the policy: lists show what is visible and allowed
  by the list rule, and every object is fetched through the visible queryset
  (404 when outside it);
- the operation's rule is checked before the body is read, then on the
  object; the `before_save` rule and the field write rules after the input
  is validated and before anything is saved;
- query parameters other than pagination, the declared filters and ordering
  are refused with 400 naming them, in the contract's precedence (after
  401, 403 and 404);
- ids in paths are UUIDs: anything else matches no route.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, mixins, viewsets
from rest_framework.views import APIView

from security import ratelimit
from security.conf import security_settings
from security.exceptions import ObjectNotVisible
from security.fields import PolicySerializer
from security.permissions import PolicyPermission, PublicEndpoint, raise_denial
from security.policies import Policy, get_policy_context

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.serializers import BaseSerializer

UUID_PATTERN = (
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)

PAGINATION_PARAMETERS = frozenset({"page", "page_size"})
WRITE_ACTIONS = frozenset({"update", "partial_update", "destroy"})


class RateLimitedAuthenticationMixin:
    """Count every request against the API's rate limits (security.ratelimit).

    Per-address limits count requests whose authentication fails (a flood of
    bad tokens is limited too); per-user limits apply right after a
    success. Both answer 429 before 401 and 403.
    """

    rate_limits: ClassVar[dict[str, str]] = {}

    def perform_authentication(self, request: Request) -> None:
        try:
            user = request.user
        except exceptions.AuthenticationFailed:
            ratelimit.limit_unauthenticated(request)
            raise
        if not user.is_authenticated:
            ratelimit.limit_unauthenticated(request)
            return
        action = getattr(self, "action", None) or ""
        ratelimit.limit_authenticated(
            request,
            self.rate_limits.get(action),
            operation=f"{getattr(self, 'basename', '')}.{action}",
        )

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:  # noqa: FBT001, FBT002 - DRF's signature
        # JSON whatever the Accept header asks: a 406 would otherwise come
        # before authentication and the rate limits (the contract's order).
        return super().perform_content_negotiation(request, force=True)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        ratelimit.add_headers(request, response)
        return response


class ApiNotFoundView(RateLimitedAuthenticationMixin, APIView):
    """Any /api/v1/ path no route matches: a counted, problem-details 404."""

    permission_classes = [PublicEndpoint]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound


class PolicyViewSet(RateLimitedAuthenticationMixin, viewsets.GenericViewSet):
    """A viewset whose every operation is decided by `policy`."""

    policy: ClassVar[type[Policy]]
    permission_classes = [PolicyPermission]
    # No OPTIONS: DRF's metadata would describe what a caller may write.
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]
    lookup_value_regex = UUID_PATTERN
    ordering: ClassVar[tuple[str, ...]] = ("-created_at",)
    ordering_fields: ClassVar[tuple[str, ...]] = ("created_at",)
    #: Lock the object for the rest of the transaction on update and destroy,
    #: for rules that read state and then change it (a role, the last owner).
    lock_on_write: ClassVar[bool] = False
    #: With lock_on_write, a foreign key (say "organization") whose row is
    #: locked first: every write among its children then takes the locks in
    #: the same order, so concurrent writes queue instead of deadlocking.
    lock_parent: ClassVar[str | None] = None

    # -- queryset -----------------------------------------------------------

    def get_queryset(self) -> Any:
        # getattr: django-stubs types a view's `queryset` as a manager
        # descriptor and refuses reading it from an instance.
        declared: Any = getattr(self, "queryset", None)
        base = declared if declared is not None else self.policy.model._default_manager
        queryset = base.all()
        ctx = get_policy_context(self.request, self.action)
        if self.lock_on_write and self.action in WRITE_ACTIONS:
            queryset = queryset.select_for_update(of=("self",))
        if self.detail:
            return self.policy.visible_queryset(ctx, queryset)
        return self.policy.list_queryset(ctx, queryset, self.action or "")

    def get_object(self) -> Any:
        if self.lock_on_write and self.action in WRITE_ACTIONS:
            self._lock_parent()
        try:
            obj = super().get_object()
        except Http404 as exc:
            raise ObjectNotVisible from exc
        self.check_query_parameters(self.request)
        return obj

    def _lock_parent(self) -> None:
        if self.lock_parent is None:
            return
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        ctx = get_policy_context(self.request, self.action)
        model = self.policy.model
        parent_id = (
            self.policy.visible_queryset(ctx, model._default_manager.all())
            .filter(**{self.lookup_field: lookup})
            .values_list(f"{self.lock_parent}_id", flat=True)
            .first()
        )
        if parent_id is None:
            return
        parent_model = model._meta.get_field(self.lock_parent).related_model
        # Evaluated for its FOR UPDATE lock, held until the transaction ends.
        list(
            parent_model._default_manager.select_for_update()  # type: ignore[union-attr]
            .filter(pk=parent_id)
            .values_list("pk", flat=True)
        )

    # -- query parameters ---------------------------------------------------

    def allowed_query_parameters(self) -> set[str]:
        allowed = set()
        if security_settings.ALLOW_FORMAT_PARAMETER:
            allowed.add("format")
        if self.detail or self.request.method != "GET":
            return allowed
        if self.paginator is not None:
            allowed |= PAGINATION_PARAMETERS
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        if self.ordering_fields:
            allowed.add("ordering")
        return allowed

    def check_query_parameters(self, request: Request) -> None:
        allowed = self.allowed_query_parameters()
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise exceptions.ValidationError(
                {
                    name: [
                        exceptions.ErrorDetail(
                            str(_("Unknown query parameter.")), "unknown_parameter"
                        )
                    ]
                    for name in unknown
                }
            )

    #: Tighter limits for some operations: action -> a SECURITY["RATE_LIMITS"]
    #: name, counted per user (say {"share": "sensitive"}).
    rate_limits: ClassVar[dict[str, str]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.detail:
            # Detail operations check after the object is found: 404 first.
            self.check_query_parameters(request)

    # -- writes -------------------------------------------------------------

    def save_kwargs(self, serializer: BaseSerializer[Any]) -> dict[str, Any]:
        """Return values the server sets on save (the creator, say)."""
        return {}

    def check_before_save(
        self, serializer: BaseSerializer[Any], extra: dict[str, Any]
    ) -> None:
        """Decide the write on the object as it would be saved."""
        ctx = get_policy_context(self.request, self.action)
        previous = serializer.instance
        new = _unsaved(
            self.policy.model, previous, {**serializer.validated_data, **extra}
        )
        ctx.previous = previous
        if isinstance(serializer, PolicySerializer):
            serializer.check_field_writes(ctx, new)
        decision = self.policy.decide_before_save(ctx, self.action, new)
        if decision.denied:
            raise_denial(self.request, decision)

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        extra = self.save_kwargs(serializer)
        self.check_before_save(serializer, extra)
        _save(serializer, extra)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        self.check_before_save(serializer, {})
        _save(serializer, {})


def _save(serializer: BaseSerializer[Any], extra: dict[str, Any]) -> None:
    """Save, answering a constraint violation with 400 instead of a 500.

    Validators check uniqueness before the insert; a concurrent request can
    still win the race between check and insert, and the database then
    refuses. The savepoint keeps the rest of the transaction usable.
    """
    try:
        with transaction.atomic():
            serializer.save(**extra)
    except IntegrityError as exc:
        raise exceptions.ValidationError(
            {
                "": [
                    exceptions.ErrorDetail(
                        str(_("This conflicts with a concurrent change; retry.")),
                        "conflict",
                    )
                ]
            }
        ) from exc


def _unsaved(model: type[models.Model], previous: Any, values: dict[str, Any]) -> Any:
    """Return the object as it would be saved, without saving it."""
    concrete = {f.name for f in model._meta.concrete_fields}
    if previous is None:
        return model(**{k: v for k, v in values.items() if k in concrete})
    new = copy.copy(previous)
    for name, value in values.items():
        if name in concrete:
            setattr(new, name, value)
    return new


class PolicyModelViewSet(
    # PolicyViewSet first: its perform_create and perform_update, which run
    # the before-save rules, must win over the mixins' plain save().
    PolicyViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """List, retrieve, create, update and destroy, each under the policy."""
