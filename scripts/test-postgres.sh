#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests (issue 19):
# data in a temp dir, listening on 127.0.0.1 only, on a free port, trust auth.
#
#   eval "$(scripts/test-postgres.sh start)"   # sets MCP_PUSH_TEST_POSTGRES
#   cargo test --release -p mcp-push --lib store::postgres
#   scripts/test-postgres.sh stop              # stops it, removes its data
#   scripts/test-postgres.sh down DIR          # crashes it (immediate stop), keeps its data
#   scripts/test-postgres.sh up DIR            # starts it again on the same port
#
# MCP_PUSH_PG_DURABLE=1 keeps PostgreSQL's durability settings (fsync,
# synchronous commit): for tests that crash the server and count what
# survived, and for benchmarks of the commit rate. Without it the cluster
# skips fsync, being a throwaway.
#
# `start` prints shell `export` lines on stdout (everything else goes to
# stderr). initdb refuses to run as root, so as root the cluster runs as the
# system user `mcp-push-ci` (created when missing). About 2 s on a laptop.
set -euo pipefail

pg_bin() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  # Debian's `postgresql` package keeps them out of PATH.
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
    return
  fi
  echo "test-postgres: no initdb/pg_ctl found; install PostgreSQL (Debian: apt-get install postgresql)" >&2
  exit 1
}

# Runs a command as the cluster's owner (root may not own a cluster).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin dir port
  bin="$(pg_bin)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/mcp-push-pg.XXXXXX")"
  if [ "$(id -u)" = 0 ]; then
    PG_USER=mcp-push-ci
    if ! id "$PG_USER" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    fi
    chown "$PG_USER" "$dir"
  fi
  port="$(free_port)"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  local options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200"
  if [ -z "${MCP_PUSH_PG_DURABLE:-}" ]; then
    # No fsync: the cluster lives for one test run.
    options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  echo "$options" >"$dir/options"
  up "$dir"
  echo "test-postgres: PostgreSQL on 127.0.0.1:$port, data in $dir" >&2
  echo "export MCP_PUSH_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export MCP_PUSH_TEST_POSTGRES_DIR=$dir"
}

up() {
  local dir="$1"
  PG_USER="$(stat -c %U "$dir/data")"
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "$(cat "$dir/options")" start >&2 || {
    cat "$dir/server.log" >&2
    exit 1
  }
}

down() {
  local dir="$1"
  PG_USER="$(stat -c %U "$dir/data")"
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >&2
}

stop() {
  local dir="${1:-${MCP_PUSH_TEST_POSTGRES_DIR:-}}"
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
    echo "test-postgres: no cluster to stop (pass its dir or set MCP_PUSH_TEST_POSTGRES_DIR)" >&2
    exit 1
  fi
  PG_USER="$(stat -c %U "$dir/data")"
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  up) up "${2:?usage: $0 up DIR}" ;;
  down) down "${2:?usage: $0 down DIR}" ;;
  *)
    echo "usage: $0 start | stop [DIR] | up DIR | down DIR" >&2
    exit 2
    ;;
esac
