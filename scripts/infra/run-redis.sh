#!/usr/bin/env bash
# Foreground Redis runner (used by the Aspire AppHost and by scripts/infra.sh).
#
# Usage: run-redis.sh --port P --data-dir DIR --credentials FILE
#   --port P             TCP port, bound to 127.0.0.1 only
#   --data-dir DIR       working dir; the append-only file lives here (created if missing)
#   --credentials FILE   the install's credentials (scripts/infra/credentials.sh):
#                        MODAL_REDIS_{ADMIN,API,STORAGE}_PASSWORD
#
# Authentication: ACL users only, written to DIR/users.acl (mode 600, password
# hashes only) on every start; the default (password-less) user is off. Each
# service's user reaches only its own keys and Pub/Sub channels:
#   api      modal:call:*, modal:map:*, modal:app:*, modal:schedule:*, modal:images:*   channels modal:call-done:*, modal:map-outputs:*
#   storage  modal:ws:* (every Dict and Queue)        channel  modal:queue-put:*
# and neither may run admin or "dangerous" commands (CONFIG, KEYS, FLUSHALL,
# DEBUG, MODULE, ACL, ...; INFO stays, the client library reads it on
# connect). modal-admin (scripts, health checks) may do everything.
#
# Runs redis-server in the foreground via exec: the runner's PID *is* the
# server, so SIGTERM (graceful: flushes the AOF) or SIGKILL ends it; no child
# is left behind. Persistence: AOF only (--appendonly yes), no RDB snapshots.
# All options are on the command line, so /etc/redis/redis.conf is never read.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

port="" data_dir="" credentials=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    --credentials) credentials="${2:?--credentials needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-redis.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$port" && -n "$data_dir" && -n "$credentials" ]] || usage

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)

# shellcheck disable=SC1090  # the install's own file
. "$credentials"
hash() {  # hash VAR: the SHA-256 of the password in VAR, as ACL files take it
  [[ -n "${!1:-}" ]] || { echo "run-redis.sh: $credentials lacks $1" >&2; exit 2; }
  printf '%s' "${!1}" | sha256sum | cut -d' ' -f1
}
# StackExchange.Redis subscribes to this channel on connect (primary changes).
client_channel='&__Booksleeve_MasterChanged'
service_commands='+@all -@admin -@dangerous +info'
(umask 077; cat > "$data_dir/users.acl.new" <<ACL
user default off resetkeys resetchannels -@all
user modal-admin on #$(hash MODAL_REDIS_ADMIN_PASSWORD) ~* &* +@all
user api on #$(hash MODAL_REDIS_API_PASSWORD) resetchannels ~modal:call:* ~modal:map:* ~modal:app:* ~modal:schedule:* ~modal:images:* &modal:call-done:* &modal:map-outputs:* $client_channel $service_commands
user storage on #$(hash MODAL_REDIS_STORAGE_PASSWORD) resetchannels ~modal:ws:* &modal:queue-put:* $client_channel $service_commands
ACL
)
mv "$data_dir/users.acl.new" "$data_dir/users.acl"

exec redis-server \
  --port "$port" \
  --bind 127.0.0.1 \
  --protected-mode yes \
  --aclfile "$data_dir/users.acl" \
  --dir "$data_dir" \
  --save '' \
  --appendonly yes \
  --daemonize no \
  --supervised no \
  --logfile '' \
  --pidfile ''
