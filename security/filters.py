"""Ordering restricted to the fields a list declares.

Guarantees: `?ordering=` accepts only the names in the view's
`ordering_fields` (each optionally prefixed with `-`); anything else is a
400 naming the parameter, so no client string becomes an ORM keyword.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, filters

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request


class StrictOrderingFilter(filters.OrderingFilter):
    def get_ordering(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> list[str] | tuple[str, ...] | None:
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = set(getattr(view, "ordering_fields", None) or ())
        terms = [term.strip() for term in raw.split(",")]
        if not terms or any(term.removeprefix("-") not in allowed for term in terms):
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        exceptions.ErrorDetail(
                            _("Order by one of: %(fields)s.")
                            % {"fields": ", ".join(sorted(allowed)) or "-"},
                            "invalid",
                        )
                    ]
                }
            )
        # A stable tie-breaker, so pages never overlap or skip rows.
        return [*terms, "pk"]

    def get_default_ordering(self, view: Any) -> list[str] | None:
        ordering = getattr(view, "ordering", None)
        if ordering is None:
            return None
        return [*((ordering,) if isinstance(ordering, str) else ordering), "pk"]
