#!/bin/sh
# serve: gunicorn, which runs the deployment checks before it accepts a
#        request (project/gunicorn.py);
# migrate: schema changes, run as the table owner, then the grants that
#        keep the application role from changing audit events;
# anything else: a management command (rotate_signing_key, audit_verify...).
set -eu

case "${1:-serve}" in
    serve)
        exec gunicorn --config python:project.gunicorn project.wsgi:application
        ;;
    migrate)
        python manage.py migrate --noinput
        python manage.py grant_app_role "${APP_DB_ROLE:-app}"
        ;;
    *)
        exec python manage.py "$@"
        ;;
esac
