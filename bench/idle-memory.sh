#!/usr/bin/env bash
# Resident memory (PSS, so shared pages are counted once) of a running platform, grouped as
#   services       the five Modal.Platform services
#   orchestration  Aspire: AppHost, dashboard, DCP and the `dotnet run` wrappers DCP starts projects with
#   infrastructure RabbitMQ (+epmd), Redis, PostgreSQL, Swift (+memcached)
# Run it while `scripts/up.sh` is up and idle. Read-only: it only reads /proc.
set -euo pipefail

classify() {
  case "$1" in
    */services/*/bin/*/Modal.*) echo services ;;
    *Modal.AppHost*|*Aspire.Dashboard*|*/dcp\ *|*"dotnet run"*|*"dotnet exec"*) echo orchestration ;;
    *beam.smp*|*epmd*|*erl_child_setup*|*inet_gethost*|*redis-server*|*postgres*|*swift-*|*memcached*) echo infrastructure ;;
    *) echo other ;;
  esac
}

rows=$(while read -r pid args; do
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
  [ -n "$pss" ] || continue
  group=$(classify "$args")
  [ "$group" = other ] || printf '%s %s %s\n' "$group" "$pss" "${args:0:100}"
done < <(ps -eo pid=,args=))

sort -k2 -rn <<<"$rows" | awk '{ printf "%-15s %8.1f MB  ", $1, $2 / 1024; $1 = $2 = ""; print substr($0, 3) }'
awk '{ kb[$1] += $2 } END { for (g in kb) printf "total %-15s %8.1f MB\n", g, kb[g] / 1024 }' <<<"$rows" | sort
