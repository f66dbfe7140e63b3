"""Gunicorn's configuration for the Docker image (`--config python:...`)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request that takes longer is cut off; the database has its own 5 s limit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Bounded request lines and headers: an oversized request is refused early.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Access logs go through Django's JSON logging; gunicorn's own stays quiet.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = "/tmp"  # noqa: S108 - a tmpfs in the Docker stack


def on_starting(server: object) -> None:
    """Refuse to serve a misconfigured deployment (checks that read the DB)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command(
        "check", "--deploy", "--database", "default", "--fail-level", "WARNING"
    )
