#!/usr/bin/env bash
# Foreground PostgreSQL runner (used by the Aspire AppHost and by scripts/infra.sh).
#
# Usage: run-postgres.sh --port P --data-dir DIR --credentials FILE [--user NAME]
#   --port P             TCP port, bound to 127.0.0.1 only
#   --data-dir DIR       everything lives here: DIR/pgdata (cluster), DIR/run (socket)
#   --credentials FILE   the install's credentials (scripts/infra/credentials.sh):
#                        MODAL_POSTGRES_ADMIN_PASSWORD and one password per service
#   --user NAME          superuser created by initdb (default: platform); its
#                        password is for the scripts only, no service uses it
#
# Authentication: scram-sha-256 passwords for every connection, TCP and Unix
# socket alike (pg_hba.conf is rewritten on every start). Each service has a
# role named after its database (modal_api, modal_scheduler, modal_secrets)
# that is neither superuser nor able to create roles or databases, owns its
# database (so its EF migrations run) and can connect to no other: CONNECT on
# each service database is revoked from PUBLIC. So no service can read another
# service's tables or run programs on the host (COPY ... TO PROGRAM needs a
# superuser). Roles, passwords and ownership are (re)applied on every start in
# single-user mode (no network), which also converts a cluster made when this
# runner used "trust" and one superuser for everything.
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

port="" data_dir="" pg_user="platform" credentials=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    --user) pg_user="${2:?--user needs a value}"; shift 2 ;;
    --credentials) credentials="${2:?--credentials needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-postgres.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$port" && -n "$data_dir" && -n "$credentials" ]] || usage
[[ "$pg_user" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "run-postgres.sh: --user must be a plain lower-case name" >&2; exit 2; }

# shellcheck disable=SC1090  # the install's own file
. "$credentials"
services=(api scheduler secrets)   # role and database modal_<service>
for name in MODAL_POSTGRES_ADMIN_PASSWORD MODAL_POSTGRES_{API,SCHEDULER,SECRETS}_PASSWORD; do
  [[ "${!name:-}" =~ ^[A-Za-z0-9]+$ ]] || { echo "run-postgres.sh: $credentials lacks $name (letters and digits)" >&2; exit 2; }
done

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
  pwfile="$data_dir/initdb.pw"
  (umask 077; printf '%s\n' "$MODAL_POSTGRES_ADMIN_PASSWORD" > "$pwfile")
  [[ ${#AS_PG[@]} -eq 0 ]] || chown postgres:postgres "$pwfile"
  "${AS_PG[@]}" "$pg_bin/initdb" -D "$tmp" -U "$pg_user" --auth=scram-sha-256 --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C --no-sync >/dev/null
  rm -f "$pwfile"
  # Create the services' databases in single-user mode (no server, no port).
  for service in "${services[@]}"; do
    echo "CREATE DATABASE modal_$service;" |
      "${AS_PG[@]}" "$pg_bin/postgres" --single -D "$tmp" -j postgres >/dev/null
  done
  sync
  mv "$tmp" "$pgdata"
fi

# Every connection authenticates with a password; nothing is trusted.
cat > "$pgdata/pg_hba.conf.new" <<'HBA'
# generated by run-postgres.sh - edits are overwritten
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
HBA
[[ ${#AS_PG[@]} -eq 0 ]] || chown postgres:postgres "$pgdata/pg_hba.conf.new"
chmod 600 "$pgdata/pg_hba.conf.new"
mv "$pgdata/pg_hba.conf.new" "$pgdata/pg_hba.conf"

# single_user DB: runs stdin (statements ended by ";" and a blank line) in
# single-user mode on DB, as the bootstrap superuser; fails on any ERROR.
single_user() {
  local out
  out=$("${AS_PG[@]}" "$pg_bin/postgres" --single -D "$pgdata" -j "$1" 2>&1) || { echo "$out" >&2; return 1; }
  if grep -q 'ERROR:' <<<"$out"; then echo "$out" | grep -v -i password >&2; return 1; fi
}

# Roles: one per service, no superuser, owner of its database only.
{
  echo "ALTER ROLE \"$pg_user\" WITH PASSWORD '$MODAL_POSTGRES_ADMIN_PASSWORD';"
  echo
  for service in "${services[@]}"; do
    var="MODAL_POSTGRES_${service^^}_PASSWORD"
    cat <<SQL
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modal_$service') THEN CREATE ROLE modal_$service; END IF; END \$\$;

ALTER ROLE modal_$service WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '${!var}';

ALTER DATABASE modal_$service OWNER TO modal_$service;

REVOKE ALL ON DATABASE modal_$service FROM PUBLIC;

SQL
  done
} | single_user postgres

# A cluster from the "trust" days: the superuser owns the services' tables
# (their migrations ran as it). Hand them to each service's role, once.
if [[ ! -f "$pgdata/modal-roles.stamp" ]]; then
  for service in "${services[@]}"; do
    single_user "modal_$service" <<SQL
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relowner = 10 AND c.relkind IN ('r', 'p', 'v', 'm')
  LOOP EXECUTE format('ALTER TABLE %s OWNER TO modal_$service', r.name); END LOOP;
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relowner = 10 AND c.relkind = 'S'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP EXECUTE format('ALTER SEQUENCE %s OWNER TO modal_$service', r.name); END LOOP;
END \$\$;

SQL
  done
  "${AS_PG[@]}" touch "$pgdata/modal-roles.stamp"
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
