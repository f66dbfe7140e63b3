"""Build LOGGING: JSON lines on stdout in production, readable text elsewhere.

Every line carries the request id (empty outside a request), so a log
collector can join a request's lines with its audit events and its
`X-Request-ID` header.
"""

from __future__ import annotations

import logging
import os
from typing import Any


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from security.context import get_request_id

        if not getattr(record, "request_id", None):
            record.request_id = get_request_id()
        return True


def _stream() -> str:
    """Standard output for the server, standard error for commands."""
    return "stderr" if os.environ.get("LOG_STREAM") == "stderr" else "stdout"


def build_logging(*, json_lines: bool, level: str) -> dict[str, Any]:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
            "timestamp": False,
        }
        if json_lines
        else {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "project.logging.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": f"ext://sys.{_stream()}",
                "formatter": "default",
                "filters": ["request_id"],
            },
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # A 500 is logged with its traceback and mailed to ADMINS.
            "django.request": {
                "handlers": ["stdout", "mail_admins"],
                "level": "ERROR",
                "propagate": False,
            },
            "security.exceptions": {
                "handlers": ["stdout", "mail_admins"],
                "level": "ERROR",
                "propagate": False,
            },
        },
    }
