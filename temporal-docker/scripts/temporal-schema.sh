#!/bin/sh
# One-shot job (temporalio/admin-tools): creates Temporal's two PostgreSQL databases and brings both schemas up to the
# version shipped with this admin-tools image. Every step is idempotent, so it runs on every `docker compose up`:
#   create-database    ignores "database already exists";
#   setup-schema -v 0.0 only creates the schema_version bookkeeping tables (IF NOT EXISTS) and never lowers a version;
#   update-schema      applies only the versioned/ directories newer than the recorded version.
# Upgrading Temporal = pin the new admin-tools image, run this job, then roll the server (see README.md).
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD (or SQL_PASSWORD_FILE) is required}"
SQL_PORT=${SQL_PORT:-5432}
SQL_PLUGIN=${SQL_PLUGIN:-postgres12}
SCHEMA_ROOT=${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}
# SQL_PASSWORD stays in the environment (temporal-sql-tool reads it from there), never on a command line.
export SQL_PASSWORD

echo "temporal-schema: waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
attempt=1
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-schema: PostgreSQL at $SQL_HOST:$SQL_PORT is unreachable" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

sql_tool() {
  temporal-sql-tool --plugin "$SQL_PLUGIN" --endpoint "$SQL_HOST" --port "$SQL_PORT" --user "$SQL_USER" "$@"
}

# database name : schema directory under $SCHEMA_ROOT
for pair in "${TEMPORAL_DBNAME:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db=${pair%%:*}
  dir="$SCHEMA_ROOT/${pair#*:}/versioned"
  # update-schema -d must point at versioned/ itself: pointed at its parent it finds nothing and still exits 0.
  if [ ! -d "$dir" ]; then
    echo "temporal-schema: schema directory $dir not found in this admin-tools image" >&2
    exit 1
  fi
  echo "temporal-schema: $db <- $dir"
  sql_tool --database "$db" create-database
  sql_tool --database "$db" setup-schema --version 0.0
  sql_tool --database "$db" update-schema --schema-dir "$dir"
done

echo "temporal-schema: done"
