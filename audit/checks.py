"""System check: the append-only triggers are in place.

`audit.E001` runs with the database checks (`check --database default`,
`migrate`, and the server's start-up in Docker): a later SQLite table
rebuild, or someone disabling a trigger, would silently make the audit
table writable.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import connections

from audit import triggers


@checks.register(checks.Tags.database)
def check_append_only_triggers(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if triggers.TABLE not in connection.introspection.table_names():
            continue
        missing = triggers.missing(connection)
        if missing:
            errors.append(
                checks.Error(
                    f"The audit table of database {alias!r} is missing its "
                    f"append-only triggers: {', '.join(missing)}.",
                    hint="Run `manage.py audit_install_triggers`, then find out "
                    "how they were lost.",
                    id="audit.E001",
                )
            )
    return errors
