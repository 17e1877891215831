#!/usr/bin/env bash
# Foreground Redis runner (used by the Aspire AppHost and by scripts/infra.sh).
#
# Usage: run-redis.sh --port P --data-dir DIR
#   --port P        TCP port, bound to 127.0.0.1 only
#   --data-dir DIR  working dir; the append-only file lives here (created if missing)
#
# Runs redis-server in the foreground via exec: the runner's PID *is* the
# server, so SIGTERM (graceful: flushes the AOF) or SIGKILL ends it; no child
# is left behind. Persistence: AOF only (--appendonly yes), no RDB snapshots.
# All options are on the command line, so /etc/redis/redis.conf is never read.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

port="" data_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-redis.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$port" && -n "$data_dir" ]] || usage

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)

exec redis-server \
  --port "$port" \
  --bind 127.0.0.1 \
  --protected-mode yes \
  --dir "$data_dir" \
  --save '' \
  --appendonly yes \
  --daemonize no \
  --supervised no \
  --logfile '' \
  --pidfile ''
