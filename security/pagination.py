"""Page-number pagination with the contract's strict parameters.

Guarantees: `page` and `page_size` must be positive integers (400
otherwise); a `page_size` above `SECURITY["MAX_PAGE_SIZE"]` is capped, not
refused; a page past the last is 404.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination

from security.conf import security_settings

if TYPE_CHECKING:
    from rest_framework.request import Request

_POSITIVE_INT = re.compile(r"[1-9][0-9]{0,99}")


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _POSITIVE_INT.fullmatch(raw):
        raise exceptions.ValidationError(
            {
                name: [
                    exceptions.ErrorDetail(
                        str(_("Must be a positive integer.")), "invalid"
                    )
                ]
            }
        )
    return int(raw)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int(request, "page_size")
        if requested is None:
            return int(self.page_size or 50)
        return min(requested, security_settings.MAX_PAGE_SIZE)

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = security_settings.MAX_PAGE_SIZE
                parameter["description"] = (
                    "Items per page; larger values are capped to the maximum."
                )
        return parameters
