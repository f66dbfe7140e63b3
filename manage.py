#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    if sys.argv[1:2] != ["runserver"]:
        # A command's standard output carries only what it is asked to print
        # (a token, an export); its logs go to standard error.
        os.environ.setdefault("LOG_STREAM", "stderr")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
