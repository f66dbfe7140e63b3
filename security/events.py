"""The single emitter of security events to the `security.*` loggers.

The message is the event name; the fields go in `extra`. Values that come
from a client are escaped, so a CR/LF or a terminal escape can't forge a log
line (OWASP ASVS 16.4.1). Never pass a password, token or secret here.
"""

from __future__ import annotations

import logging
from typing import Any

from security.context import get_request_id

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def escape(value: Any) -> Any:
    """Return a string with control characters escaped; other values as-is."""
    if not isinstance(value, str):
        return value
    return value.encode("unicode_escape").decode("ascii")


def emit(event: str, *, level: str = "info", **fields: Any) -> None:
    """Log the event `area.what_happened` on the `security.<area>` logger."""
    area = event.split(".", 1)[0]
    extra = {key: escape(value) for key, value in fields.items()}
    extra.setdefault("request_id", get_request_id())
    logging.getLogger(f"security.{area}").log(
        _LEVELS[level], event, extra={"event": event, **extra}
    )
