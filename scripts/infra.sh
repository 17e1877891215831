#!/usr/bin/env bash
# Local infrastructure manager: RabbitMQ, Redis, PostgreSQL and an S3 endpoint
# as plain background processes (no Docker), for tests, CI and humans.
#
# Usage:
#   scripts/infra.sh start   [rabbitmq|redis|postgres|s3 ...]   (default: all)
#       Starts each server in the background and returns only when it really
#       answers (RabbitMQ: AMQP port + `rabbitmqctl await_startup` + management
#       API; Redis: PING; PostgreSQL: pg_isready; S3: HTTP status on / plus a
#       full write/read/delete round trip through the object store).
#       Already running = no-op. Fails (exit 1, log tail shown) when a server
#       does not come up within $MODAL_INFRA_START_TIMEOUT seconds.
#   scripts/infra.sh stop    [names...]    (default: all) TERM to the runner's
#       process group; after 15 s KILL to whatever is left of that group and
#       of the runner's process tree. Not running = not an error.
#   scripts/infra.sh restart [names...]
#   scripts/infra.sh status                which servers run, PIDs, ports, logs
#   scripts/infra.sh env [--dotenv]        connection strings as .NET config env
#       vars: `export K='V'` lines (eval-able), or K=V lines with --dotenv (for
#       $GITHUB_ENV). Also written to $MODAL_INFRA_DIR/infra.env (export form).
#   scripts/infra.sh rabbitmqctl ARGS...   rabbitmqctl against our broker
#
# Settings (environment, with defaults):
#   MODAL_INFRA_DIR                 state dir: data dirs, logs, pid files (<repo>/.infra)
#   MODAL_RABBITMQ_PORT             AMQP                       5682
#   MODAL_RABBITMQ_MANAGEMENT_PORT  management HTTP API/UI     15682
#   MODAL_RABBITMQ_DIST_PORT        Erlang distribution        25682
#   MODAL_EPMD_PORT                 private epmd               4379
#   MODAL_REDIS_PORT                                           6389
#   MODAL_POSTGRES_PORT                                        5442
#   MODAL_S3_PORT                   S3 endpoint; Swift also uses the next 4 ports  8089
#   MODAL_S3_ACCESS_KEY / MODAL_S3_SECRET_KEY    modal:admin / modal-secret-key
#   MODAL_INFRA_START_TIMEOUT       seconds per server          60
# `start` saves the effective settings in <state dir>/settings.env; later
# commands on that state dir use them for any variable not set in the
# environment (precedence: environment > saved > default). Note that the
# RabbitMQ node name (and so its mnesia dir) follows the AMQP port.
#
# Two instances side by side: give each its own MODAL_INFRA_DIR and ports.
# All servers listen on 127.0.0.1 only. Layout of the state dir:
#   <dir>/<name>/          data      <dir>/logs/<name>.log   server output
#   <dir>/run/<name>.pid   PID of the runner (line 1) and its start time in
#                          clock ticks (line 2, guards against PID reuse)
#
# Each server runs through its foreground runner scripts/infra/run-<name>.sh
# (the same ones the Aspire AppHost uses), started with setsid so that the
# runner leads its own process group.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNNERS="$REPO_ROOT/scripts/infra"
STATE_DIR=$(realpath -m "${MODAL_INFRA_DIR:-$REPO_ROOT/.infra}")

die() { echo "infra.sh: $*" >&2; exit 1; }
log() { echo "infra.sh: $*"; }

# Effective settings: environment > the settings saved in the state dir by the
# last `start` (so that status/env/stop on a state dir started with other
# ports need not repeat them) > defaults.
declare -A SAVED=()
if [[ -f "$STATE_DIR/settings.env" ]]; then
  while IFS='=' read -r k v; do [[ "$k" == MODAL_* ]] && SAVED[$k]=$v; done < "$STATE_DIR/settings.env"
fi
setting() {  # setting VAR DEFAULT
  local v=${!1:-${SAVED[$1]:-$2}}
  if [[ "$1" == *_PORT && ! "$v" =~ ^[0-9]+$ ]]; then die "$1 must be a port number, got '$v'"; fi
  echo "$v"
}
AMQP_PORT=$(setting MODAL_RABBITMQ_PORT 5682)
MGMT_PORT=$(setting MODAL_RABBITMQ_MANAGEMENT_PORT 15682)
DIST_PORT=$(setting MODAL_RABBITMQ_DIST_PORT 25682)
EPMD_PORT=$(setting MODAL_EPMD_PORT 4379)
REDIS_PORT=$(setting MODAL_REDIS_PORT 6389)
POSTGRES_PORT=$(setting MODAL_POSTGRES_PORT 5442)
S3_PORT=$(setting MODAL_S3_PORT 8089)
S3_ACCESS_KEY=$(setting MODAL_S3_ACCESS_KEY modal:admin)
S3_SECRET_KEY=$(setting MODAL_S3_SECRET_KEY modal-secret-key)
START_TIMEOUT=${MODAL_INFRA_START_TIMEOUT:-60}
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "MODAL_INFRA_START_TIMEOUT must be a number of seconds"
STOP_TIMEOUT=15
POSTGRES_USER=platform

ALL=(rabbitmq redis postgres s3)


# ------------------------------------------------------------------ helpers --

# proc_start_time PID: start time (clock ticks since boot, field 22 of
# /proc/PID/stat); empty if no such process. The comm field may contain
# spaces, so cut after the last ')'.
proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # remaining fields start at field 3 (state); start time is field 22
  awk '{print $20}' <<<"$stat"
}

# proc_alive PID [START_TIME]: the process exists, is not a zombie (a dead
# child that nobody reaped yet still answers kill -0) and, if given, has that
# start time (so a recycled PID is not taken for ours).
proc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]] || return 1
  [[ -z "${2:-}" ]] || [[ $(awk '{print $20}' <<<"$stat") == "$2" ]]
}

# tree_pids ROOT: "PID START" lines for every live process in ROOT's process
# group or below ROOT in the process tree. The tree matters: PostgreSQL
# backends, Swift servers and Erlang's erl_child_setup call setsid() and so
# leave the runner's process group.
tree_pids() {
  ps -e -o pid=,ppid=,pgid=,stat= | awk -v root="$1" '
    $4 !~ /^Z/ { pid[$1] = 1; ppid[$1] = $2; pgid[$1] = $3 }
    END {
      for (p in pid) {
        hit = (pgid[p] == root)
        for (q = p; !hit && q > 1 && (q in ppid); q = ppid[q]) if (q == root) hit = 1
        if (hit) print p
      }
    }' | while read -r p; do
      st=$(proc_start_time "$p")
      [[ -z "$st" ]] || echo "$p $st"
    done
}

pid_file() { echo "$STATE_DIR/run/$1.pid"; }
log_file() { echo "$STATE_DIR/logs/$1.log"; }
data_dir() { echo "$STATE_DIR/$1"; }

# read_pid NAME: sets PID and PID_START from the pid file; 1 if none.
read_pid() {
  local f; f=$(pid_file "$1")
  [[ -f "$f" ]] || return 1
  { read -r PID; read -r PID_START || true; } < "$f"
  [[ "$PID" =~ ^[0-9]+$ ]] || return 1
}

is_running() { read_pid "$1" && proc_alive "$PID" "$PID_START"; }

check_name() {
  case "$1" in rabbitmq|redis|postgres|s3) ;; *) die "unknown server '$1' (rabbitmq, redis, postgres, s3)" ;; esac
}

# ports NAME: the TCP ports the server will listen on.
ports() {
  case "$1" in
    rabbitmq) echo "$AMQP_PORT $MGMT_PORT $DIST_PORT $EPMD_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    postgres) echo "$POSTGRES_PORT" ;;
    s3) if command -v minio >/dev/null 2>&1; then echo "$S3_PORT $((S3_PORT + 1))"
        else echo "$S3_PORT $((S3_PORT + 1)) $((S3_PORT + 2)) $((S3_PORT + 3)) $((S3_PORT + 4))"; fi ;;
  esac
}

describe() {
  case "$1" in
    rabbitmq) echo "amqp://127.0.0.1:$AMQP_PORT  management http://127.0.0.1:$MGMT_PORT  dist $DIST_PORT  epmd $EPMD_PORT" ;;
    redis) echo "127.0.0.1:$REDIS_PORT" ;;
    postgres) echo "127.0.0.1:$POSTGRES_PORT (user $POSTGRES_USER)" ;;
    s3) local backend; backend=$(cat "$(data_dir s3)/backend" 2>/dev/null || echo "?")
        if [[ $backend == minio ]]; then
          echo "http://127.0.0.1:$S3_PORT (minio; console port $((S3_PORT + 1)))"
        else
          echo "http://127.0.0.1:$S3_PORT ($backend; internal ports $((S3_PORT + 1))-$((S3_PORT + 4)))"
        fi ;;
  esac
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_code() {  # http_code URL [curl args...]
  local url=$1; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}

pg_bindir() { printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# rabbitmqctl_cmd ARGS...: rabbitmqctl against our broker. A subshell, so the
# broker's environment (HOME, RABBITMQ_*) does not leak into this script.
rabbitmqctl_cmd() (
  # shellcheck source-path=SCRIPTDIR source=infra/rabbitmq-env.sh
  . "$RUNNERS/rabbitmq-env.sh"
  rabbitmq_env "$AMQP_PORT" "$DIST_PORT" "$EPMD_PORT" "$(data_dir rabbitmq)"
  exec /usr/lib/rabbitmq/bin/rabbitmqctl "$@"
)

# runner_cmd NAME: sets CMD to the foreground runner invocation.
runner_cmd() {
  local dir; dir=$(data_dir "$1")
  case "$1" in
    rabbitmq) CMD=("$RUNNERS/run-rabbitmq.sh" --port "$AMQP_PORT" --management-port "$MGMT_PORT"
                   --dist-port "$DIST_PORT" --epmd-port "$EPMD_PORT" --data-dir "$dir") ;;
    redis) CMD=("$RUNNERS/run-redis.sh" --port "$REDIS_PORT" --data-dir "$dir") ;;
    postgres) CMD=("$RUNNERS/run-postgres.sh" --port "$POSTGRES_PORT" --data-dir "$dir" --user "$POSTGRES_USER") ;;
    s3) CMD=("$RUNNERS/run-s3.sh" --port "$S3_PORT" --data-dir "$dir"
             --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY") ;;
  esac
}

# ------------------------------------------------------------ readiness -----

# s3_roundtrip: with Swift's native API (tempauth), create a container, write,
# read and delete an object, delete the container. This needs the proxy,
# memcached, and the account, container and object servers all working.
s3_roundtrip() {
  local base="http://127.0.0.1:$S3_PORT" headers token url c="infra-probe-$$"
  headers=$(curl -s --max-time 5 -D - -o /dev/null \
    -H "X-Storage-User: $S3_ACCESS_KEY" -H "X-Storage-Pass: $S3_SECRET_KEY" "$base/auth/v1.0") || return 1
  token=$(tr -d '\r' <<<"$headers" | awk -F': ' 'tolower($1) == "x-auth-token" {print $2}')
  url=$(tr -d '\r' <<<"$headers" | awk -F': ' 'tolower($1) == "x-storage-url" {print $2}')
  [[ -n "$token" && -n "$url" ]] || return 1
  local -a auth=(-H "X-Auth-Token: $token")
  [[ $(http_code "$url/$c" "${auth[@]}" -X PUT) == 201 ]] || return 1
  [[ $(http_code "$url/$c/probe" "${auth[@]}" -X PUT --data-binary probe) == 201 ]] || return 1
  [[ $(curl -s --max-time 5 "${auth[@]}" "$url/$c/probe") == probe ]] || return 1
  [[ $(http_code "$url/$c/probe" "${auth[@]}" -X DELETE) == 204 ]] || return 1
  [[ $(http_code "$url/$c" "${auth[@]}" -X DELETE) == 204 ]] || return 1
}

# probe NAME: one readiness attempt; 0 = ready. QUICK[NAME]=1 (the server was
# already running) skips the slow steps (rabbitmqctl, the S3 write round trip).
probe() {
  local name=$1
  case "$name" in
    redis)
      [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] ;;
    postgres)
      "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres ;;
    rabbitmq)
      # AMQP listener, then management API, then (once; ~1.5 s of CPU for the
      # Erlang CLI) rabbitmqctl await_startup = the broker finished booting.
      port_open "$AMQP_PORT" || return 1
      [[ $(http_code "http://127.0.0.1:$MGMT_PORT/api/overview" -u guest:guest) == 200 ]] || return 1
      [[ ${QUICK[$name]} -eq 0 ]] || return 0
      local left=$(( START_TIMEOUT - (SECONDS - T0S[$name]) ))
      rabbitmqctl_cmd await_startup --timeout $(( left > 1 ? left : 1 )) >/dev/null 2>&1 ;;
    s3)
      local backend; backend=$(cat "$(data_dir s3)/backend" 2>/dev/null) || return 1
      # Any HTTP status (S3 answers an unsigned request with 403/400/...).
      [[ $(http_code "http://127.0.0.1:$S3_PORT/") =~ ^[1-5][0-9][0-9]$ ]] || return 1
      if [[ $backend == minio ]]; then
        [[ $(http_code "http://127.0.0.1:$S3_PORT/minio/health/ready") == 200 ]]
      else
        [[ $(http_code "http://127.0.0.1:$S3_PORT/healthcheck") == 200 ]] || return 1
        [[ ${QUICK[$name]} -eq 1 ]] || s3_roundtrip
      fi ;;
  esac
}

# wait_all NAME...: polls all named servers round-robin until each answers.
# Uses PIDS/STARTS/T0/T0S/QUICK (assoc arrays, by name). Prints one line per
# server; a server that dies or misses its deadline is reported with its log
# tail, stopped if this call started it, and makes wait_all return 1.
wait_all() {
  local name rc=0 now took why
  local -a pending=("$@") still
  while [[ ${#pending[@]} -gt 0 ]]; do
    still=()
    for name in "${pending[@]}"; do
      why=""
      if ! proc_alive "${PIDS[$name]}" "${STARTS[$name]}"; then
        why="its process exited"
      elif probe "$name"; then
        now=$(date +%s.%N)
        took=$(awk -v a="${T0[$name]}" -v b="$now" 'BEGIN{printf "%.1f", b - a}')
        if [[ ${QUICK[$name]} -eq 1 ]]; then
          log "$name already running (pid ${PIDS[$name]}): $(describe "$name")"
        else
          log "$name ready in ${took}s (pid ${PIDS[$name]}): $(describe "$name")"
        fi
        continue
      elif (( SECONDS - T0S[$name] >= START_TIMEOUT )); then
        why="not ready after ${START_TIMEOUT}s"
      fi
      if [[ -z "$why" ]]; then still+=("$name"); continue; fi
      rc=1
      {
        echo "infra.sh: $name failed to start: $why. Last lines of $(log_file "$name"):"
        tail -n 40 "$(log_file "$name")" 2>/dev/null | sed 's/^/    /'
      } >&2
      [[ ${QUICK[$name]} -eq 1 ]] || stop_one "$name" >/dev/null
    done
    pending=("${still[@]}")
    [[ ${#pending[@]} -eq 0 ]] || sleep 0.2
  done
  return $rc
}

# ---------------------------------------------------------------- commands --

# launch NAME: start the runner in the background; sets PID/PID_START.
launch() {
  local name=$1
  [[ $name != s3 ]] || rm -f "$(data_dir s3)/backend"   # the runner rewrites it
  mkdir -p "$(data_dir "$name")" "$STATE_DIR/logs" "$STATE_DIR/run"
  runner_cmd "$name"
  echo "=== $(date -u +%FT%TZ) infra.sh start: ${CMD[*]}" >> "$(log_file "$name")"
  # setsid: the runner becomes leader of a new session and process group, so
  # `stop` can signal the whole group. (A background job of a non-interactive
  # shell is never a group leader, so setsid does not need to fork and $! is
  # the runner itself.) 9>&-: do not hand the lock fd to the server.
  setsid "${CMD[@]}" >> "$(log_file "$name")" 2>&1 < /dev/null 9>&- &
  PID=$!
  PID_START=$(proc_start_time "$PID")
  printf '%s\n%s\n' "$PID" "$PID_START" > "$(pid_file "$name").tmp"
  mv "$(pid_file "$name").tmp" "$(pid_file "$name")"
}

cmd_start() {
  local name names=("$@") rc=0
  [[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
  for name in "${names[@]}"; do check_name "$name"; done
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"   # the postgres OS user must be able to traverse it
  lock
  # Refuse early (before launching anything) when a port is taken.
  local p busy=""
  for name in "${names[@]}"; do
    is_running "$name" && continue
    for p in $(ports "$name"); do
      if port_open "$p"; then busy="$busy $name:$p"; fi
    done
  done
  [[ -z "$busy" ]] || die "port(s) already in use on 127.0.0.1:$busy (another instance? see the MODAL_*_PORT settings)"
  save_settings
  # Launch everything first, then wait: the servers boot in parallel.
  declare -gA PIDS=() STARTS=() T0=() T0S=() QUICK=()
  for name in "${names[@]}"; do
    T0[$name]=$(date +%s.%N) T0S[$name]=$SECONDS
    if is_running "$name"; then
      QUICK[$name]=1
    else
      launch "$name"
      QUICK[$name]=0
    fi
    PIDS[$name]=$PID STARTS[$name]=$PID_START
  done
  wait_all "${names[@]}" || rc=1
  write_env_file
  return $rc
}

# stop_names NAME...: for each server, TERM its runner's process group; then
# wait (all servers in parallel) until every process of its group/process
# tree is gone, and KILL what is left after $STOP_TIMEOUT s. Only processes
# recorded when the signal was sent (or still in the runner's group later)
# are touched; the pid file is checked against the process start time.
stop_names() {
  local name p st left deadline=$((SECONDS + STOP_TIMEOUT)) killed=0
  local -A procs=() owner=() leader=()   # procs: "pid" -> start time
  for name in "$@"; do
    if ! read_pid "$name"; then log "$name: not running"; continue; fi
    if ! proc_alive "$PID" "$PID_START"; then
      rm -f "$(pid_file "$name")"; log "$name: not running (stale pid file removed)"; continue
    fi
    leader[$name]=$PID
    while read -r p st; do procs[$p]=$st; owner[$p]=$name; done < <(tree_pids "$PID")
    kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
  done
  while :; do
    left=0
    for p in "${!procs[@]}"; do
      if proc_alive "$p" "${procs[$p]}"; then left=1; else unset "procs[$p]"; fi
    done
    # Also catch processes that joined a runner's group after the snapshot.
    for name in "${!leader[@]}"; do
      while read -r p; do
        st=$(proc_start_time "$p"); [[ -n "$st" ]] || continue
        procs[$p]=$st; owner[$p]=$name; left=1
      done < <(ps -e -o pid=,pgid=,stat= | awk -v g="${leader[$name]}" '$2 == g && $3 !~ /^Z/ {print $1}')
    done
    (( left )) || break
    if (( killed && SECONDS >= deadline + 5 )); then
      log "WARNING: pids ${!procs[*]} survived SIGKILL (uninterruptible?); giving up"
      break
    fi
    if (( SECONDS >= deadline && ! killed )); then
      for p in "${!procs[@]}"; do
        log "${owner[$p]}: pid $p still running after ${STOP_TIMEOUT}s, sending KILL"
        kill -KILL "$p" 2>/dev/null || true
      done
      for name in "${!leader[@]}"; do kill -KILL -- "-${leader[$name]}" 2>/dev/null || true; done
      killed=1
    fi
    sleep 0.1
  done
  for name in "${!leader[@]}"; do rm -f "$(pid_file "$name")"; done
  for name in "$@"; do [[ -z "${leader[$name]:-}" ]] || log "$name stopped"; done
}

stop_one() { stop_names "$1"; }

cmd_stop() {
  local name names=("$@")
  [[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
  for name in "${names[@]}"; do check_name "$name"; done
  [[ -d "$STATE_DIR/run" ]] || { log "nothing running in $STATE_DIR"; return 0; }
  lock
  stop_names "${names[@]}"
}

cmd_status() {
  local name state answering
  local -A QUICK=([rabbitmq]=1 [redis]=1 [postgres]=1 [s3]=1)
  echo "state dir: $STATE_DIR"
  for name in "${ALL[@]}"; do
    if is_running "$name"; then
      if probe "$name" 2>/dev/null; then answering=answering; else answering="NOT answering"; fi
      state="running (pid $PID, $answering)"
    else
      state="stopped"
    fi
    printf '  %-9s %-32s %s\n' "$name" "$state" "$(describe "$name")"
  done
  echo "logs: $STATE_DIR/logs/<name>.log"
}

env_lines() {  # KEY<TAB>VALUE
  printf 'ConnectionStrings__rabbitmq\tamqp://guest:guest@127.0.0.1:%s/\n' "$AMQP_PORT"
  printf 'ConnectionStrings__redis\t127.0.0.1:%s\n' "$REDIS_PORT"
  printf 'ConnectionStrings__postgres\tHost=127.0.0.1;Port=%s;Username=%s\n' "$POSTGRES_PORT" "$POSTGRES_USER"
  printf 'ConnectionStrings__s3\tEndpoint=http://127.0.0.1:%s;AccessKey=%s;SecretKey=%s\n' "$S3_PORT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
}

export_lines() {
  local k v
  while IFS=$'\t' read -r k v; do printf "export %s='%s'\n" "$k" "$v"; done < <(env_lines)
}

save_settings() {
  cat > "$STATE_DIR/settings.env" <<EOF
MODAL_RABBITMQ_PORT=$AMQP_PORT
MODAL_RABBITMQ_MANAGEMENT_PORT=$MGMT_PORT
MODAL_RABBITMQ_DIST_PORT=$DIST_PORT
MODAL_EPMD_PORT=$EPMD_PORT
MODAL_REDIS_PORT=$REDIS_PORT
MODAL_POSTGRES_PORT=$POSTGRES_PORT
MODAL_S3_PORT=$S3_PORT
MODAL_S3_ACCESS_KEY=$S3_ACCESS_KEY
MODAL_S3_SECRET_KEY=$S3_SECRET_KEY
EOF
  chmod 600 "$STATE_DIR/settings.env"
}

write_env_file() {
  mkdir -p "$STATE_DIR"
  export_lines > "$STATE_DIR/infra.env"
}

cmd_env() {
  if [[ "${1:-}" == --dotenv ]]; then
    env_lines | tr '\t' '='
  else
    [[ $# -eq 0 ]] || die "env: unknown option $1 (only --dotenv)"
    export_lines
  fi
  write_env_file
}

# lock: serialise start/stop on one state dir (fd 9, released at exit).
lock() {
  exec 9> "$STATE_DIR/.lock"
  flock -w 300 9 || die "could not lock $STATE_DIR/.lock (another infra.sh still running?)"
}

main() {
  local cmd=${1:-}
  [[ $# -eq 0 ]] || shift
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_stop "$@"; cmd_start "$@" ;;
    status) cmd_status ;;
    env) cmd_env "$@" ;;
    rabbitmqctl) rabbitmqctl_cmd "$@" ;;
    ""|-h|--help|help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" ;;
    *) die "unknown command '$cmd' (start, stop, restart, status, env, rabbitmqctl)" ;;
  esac
}

main "$@"
