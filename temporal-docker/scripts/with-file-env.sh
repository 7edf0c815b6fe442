#!/bin/sh
# Runs a command with secrets read from files: for every NAME_FILE variable in the environment, exports NAME with the
# file's contents (trailing newlines dropped) and removes NAME_FILE, then execs the command.
#
# Temporal's server config template, temporal-sql-tool and the Prisma CLI read their passwords from plain environment
# variables only. This keeps the values in Docker secrets (/run/secrets) rather than in the compose file, in
# `docker inspect` output or in the image; they exist only in the environment of the process that needs them.
set -eu

for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_FILE=.*$/\1/p'); do
  eval "path=\${${name}_FILE}"
  eval "current=\${${name}:-}"
  if [ -n "$current" ]; then
    echo "with-file-env: both $name and ${name}_FILE are set; set only one" >&2
    exit 1
  fi
  if [ ! -r "$path" ]; then
    echo "with-file-env: ${name}_FILE points at $path, which is missing or unreadable" >&2
    exit 1
  fi
  value=$(cat "$path")
  if [ -z "$value" ]; then
    echo "with-file-env: $path (${name}_FILE) is empty" >&2
    exit 1
  fi
  export "$name=$value"
  unset "${name}_FILE"
done

exec "$@"
