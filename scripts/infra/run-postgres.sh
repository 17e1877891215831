#!/usr/bin/env bash
# Foreground PostgreSQL runner (used by the Aspire AppHost and by scripts/infra.sh).
#
# Usage: run-postgres.sh --port P --data-dir DIR [--user NAME]
#   --port P        TCP port, bound to 127.0.0.1 only
#   --data-dir DIR  everything lives here: DIR/pgdata (cluster), DIR/run (socket)
#   --user NAME     superuser created by initdb (default: platform); auth is
#                   "trust" (no password) - local development only
#
# First run: initdb (UTF8, C locale) and creates the databases modal_api,
# modal_scheduler and modal_secrets. The cluster is built in a temp dir and
# renamed into place, so an interrupted first run just starts over.
#
# PostgreSQL refuses to run as root, so when started as root the binaries run
# as the "postgres" OS user (via setpriv, which execs instead of forking like
# runuser/su do); DIR is chown'ed to that user, and every parent of DIR must
# be traversable by it (not e.g. under /root, which is mode 700).
#
# Signals: SIGTERM/SIGINT on this runner trigger a *fast* shutdown of the
# postmaster (SIGINT to it: open sessions are disconnected). Plain SIGTERM to
# a postmaster would be a "smart" shutdown that waits for every client - e.g.
# an app's idle connection pool - to disconnect. If this runner is SIGKILLed,
# the kernel SIGKILLs the postmaster too (parent-death signal) and its
# backends exit on postmaster death; the data is crash-safe (WAL).
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

port="" data_dir="" pg_user="platform"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    --user) pg_user="${2:?--user needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-postgres.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$port" && -n "$data_dir" ]] || usage

# Newest installed major version (Debian 12: 15).
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[[ -x "$pg_bin/postgres" ]] || { echo "run-postgres.sh: no /usr/lib/postgresql/*/bin/postgres (run scripts/install-infra.sh)" >&2; exit 1; }

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
pgdata="$data_dir/pgdata"
sock_dir="$data_dir/run"

# AS_PG: command prefix that runs a program as the postgres OS user when we
# are root. Used as a plain command prefix (not a shell function) so that
# `"${AS_PG[@]}" postgres ... &` forks straight into postgres: a background
# *function* call would add a subshell in between, and background subshells
# ignore SIGINT.
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$data_dir"
  chmod 700 "$data_dir"
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --pdeathsig=KILL --)
  if ! "${AS_PG[@]}" test -x "$data_dir" -a -w "$data_dir"; then
    echo "run-postgres.sh: the postgres OS user cannot reach $data_dir;" \
         "some parent directory is not traversable (mode 700?). Use a data dir elsewhere." >&2
    exit 1
  fi
fi

if [[ ! -f "$pgdata/PG_VERSION" ]]; then
  echo "run-postgres.sh: first run, initdb in $pgdata"
  tmp="$data_dir/pgdata.initdb"
  rm -rf "$tmp"
  "${AS_PG[@]}" "$pg_bin/initdb" -D "$tmp" -U "$pg_user" --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >/dev/null
  # Create the services' databases in single-user mode (no server, no port).
  for db in modal_api modal_scheduler modal_secrets; do
    echo "CREATE DATABASE $db OWNER \"$pg_user\";" |
      "${AS_PG[@]}" "$pg_bin/postgres" --single -D "$tmp" -j postgres >/dev/null
  done
  sync
  mv "$tmp" "$pgdata"
fi

"${AS_PG[@]}" mkdir -p "$sock_dir"

# Unix socket paths are limited to 107 bytes; with a deep DIR, disable the
# socket (clients use TCP 127.0.0.1 anyway) rather than fail to start.
sock_arg="$sock_dir"
if (( ${#sock_dir} + 20 > 107 )); then
  echo "run-postgres.sh: $sock_dir is too long for a Unix socket path; Unix socket disabled" >&2
  sock_arg=""
fi

"${AS_PG[@]}" "$pg_bin/postgres" -D "$pgdata" -p "$port" -h 127.0.0.1 -k "$sock_arg" \
  -c max_connections=200 &   # several services x connection pools
pg_pid=$!

# shellcheck disable=SC2317  # invoked by the trap
stop() {
  trap - TERM INT
  kill -INT "$pg_pid" 2>/dev/null || true   # fast shutdown
}
trap stop TERM INT

# `wait` returns early when a trapped signal arrives; keep waiting until the
# postmaster has really exited, then exit with its status.
rc=0
while kill -0 "$pg_pid" 2>/dev/null; do
  wait "$pg_pid" && rc=0 || rc=$?
done
exit "$rc"
