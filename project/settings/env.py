"""Read configuration from the environment, with `NAME_FILE` for secrets."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def secret(name: str, default: str = "") -> str:
    """Return the secret NAME, or the content of the file named by NAME_FILE.

    Docker and Kubernetes mount secrets as files; reading them from a file
    keeps them out of the process environment and `docker inspect`.
    """
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return env.str(name, default=default)
