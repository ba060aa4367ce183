#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster in
# a temporary directory, listening on 127.0.0.1 only, on a free port, run as
# an unprivileged user (PostgreSQL refuses to run as root).
#
#   scripts/pg-test-server.sh start STATE_DIR   prints the connection string
#                                               and writes it to
#                                               STATE_DIR/conninfo
#   scripts/pg-test-server.sh replica STATE_DIR PRIMARY_STATE_DIR
#                                               a streaming replica (hot
#                                               standby) of a server started
#                                               with start; prints its
#                                               connection string likewise
#   scripts/pg-test-server.sh stop STATE_DIR    stops it and removes the
#                                               cluster
#
# The cluster trusts every local TCP connection (it is reachable from this
# machine only and holds test data only). Set GALSYNC_PG_FAST=1 to turn off
# fsync for speed; the default keeps PostgreSQL's durable settings, as the
# benchmarks need.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop STATE_DIR | replica STATE_DIR PRIMARY_STATE_DIR" >&2
  exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
state=$2
if [ "$cmd" = replica ]; then [ $# -eq 3 ] || usage; else [ $# -eq 2 ] || usage; fi

bindir=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ]; then
  echo "pg-test-server: no PostgreSQL server found (scripts/install-deps.sh installs postgresql-15)" >&2
  exit 1
fi

# Runs a server program as the unprivileged postgres user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start|replica)
    mkdir -p "$state"
    if [ -f "$state/cluster" ] && [ -d "$(cat "$state/cluster")" ]; then
      "$0" stop "$state"
    fi
    cluster=$(mktemp -d "${TMPDIR:-/tmp}/galsync-pg.XXXXXX")
    chmod 0755 "$cluster"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$cluster"; fi
    echo "$cluster" > "$state/cluster"
    if [ "$cmd" = start ]; then
      as_pg "$bindir/initdb" -D "$cluster/data" -U galsync --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1 || {
        cat "$cluster/initdb.log" >&2; exit 1; }
    else
      # A base backup of the primary, streaming its WAL; -R makes it a
      # standby that follows the primary (initdb's pg_hba.conf trusts
      # replication connections from 127.0.0.1).
      as_pg "$bindir/pg_basebackup" -d "$(cat "$3/conninfo")" \
        -D "$cluster/data" -R -X stream -c fast \
        >"$cluster/basebackup.log" 2>&1 || {
        cat "$cluster/basebackup.log" >&2; exit 1; }
    fi
    extra=()
    if [ -n "${GALSYNC_PG_FAST:-}" ]; then
      # (full_page_writes stays on: a base backup for a replica needs it.)
      extra=(-c fsync=off -c synchronous_commit=off)
    fi
    # A free port: bind to port 0 and read what the kernel chose. Another
    # process may take it before the server does, so retry a few times.
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if as_pg "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" \
          -w -t 30 start -o "-c listen_addresses=127.0.0.1 -c port=$port \
          -c unix_socket_directories= -c max_connections=200 \
          -c shared_buffers=128MB ${extra[*]}" >/dev/null; then
        conninfo="postgresql://galsync@127.0.0.1:$port/postgres"
        echo "$conninfo" > "$state/conninfo"
        echo "$conninfo"
        exit 0
      fi
      echo "pg-test-server: start on port $port failed (attempt $attempt)" >&2
    done
    cat "$cluster/server.log" >&2
    exit 1
    ;;
  stop)
    [ -f "$state/cluster" ] || exit 0
    cluster=$(cat "$state/cluster")
    if [ -d "$cluster/data" ]; then
      as_pg "$bindir/pg_ctl" -D "$cluster/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
    fi
    rm -rf "$cluster"
    rm -f "$state/cluster" "$state/conninfo"
    ;;
  *) usage ;;
esac
