#!/bin/sh
# Runs once, on the database's first start: the application's own role,
# which does not own the tables (docs/audit.md, "The database role").
set -eu
app_password=$(cat /run/secrets/db_app_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE app LOGIN PASSWORD '${app_password}';
GRANT CONNECT ON DATABASE "$POSTGRES_DB" TO app;
GRANT USAGE ON SCHEMA public TO app;
SQL
