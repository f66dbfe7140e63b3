"""A JSON parser that bounds what a body can cost before it is decoded.

Guarantees: a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` is refused with 413
after reading at most one byte past the limit; nesting deeper than
`SECURITY["MAX_JSON_DEPTH"]` is refused with 400 before `json.loads` runs, so
deep nesting can't exhaust the interpreter's stack; invalid UTF-8, invalid
JSON, NaN, Infinity and numbers too large for a float are 400
`parse_error`. `SizeCheckingNegotiation` refuses an oversized body of any
content type with 413 before 415 is considered (the contract's order).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser

from security.conf import security_settings
from security.exceptions import PayloadTooLarge


def _max_depth(text: str) -> int:
    """Return the deepest nesting of arrays and objects in JSON text."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ParseError(_("JSON must not contain %(name)s.") % {"name": name})


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e999 parses to infinity without ever spelling "Infinity".
        raise ParseError(_("JSON numbers must be finite."))
    return value


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(_("The request body is not valid UTF-8.")) from exc
        max_depth = security_settings.MAX_JSON_DEPTH
        # Counting brackets is cheap; the full scan runs only when the
        # body could be too deep at all.
        could_be_deep = text.count("[") + text.count("{") > max_depth
        if could_be_deep and _max_depth(text) > max_depth:
            raise ParseError(_("The JSON body is nested too deeply."))
        try:
            return json.loads(
                text, parse_constant=_refuse_constant, parse_float=_finite_float
            )
        except ValueError as exc:
            raise ParseError(_("The request body is not valid JSON.")) from exc


class SizeCheckingNegotiation(DefaultContentNegotiation):
    """Refuse a body over the limit with 413 before choosing a parser."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge
        return super().select_parser(request, parsers)
