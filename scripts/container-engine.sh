#!/usr/bin/env bash
# A Docker-compatible container engine for the Testcontainers tests (docs/decisions.md 34): podman's API service,
# on machines without Docker, and a RabbitMQ image built from Debian's packages (no registry answers here).
#
# Usage:
#   scripts/container-engine.sh start
#       When a Docker engine already answers (DOCKER_HOST, else /var/run/docker.sock), starts nothing and prints
#       nothing: the tests use it, with the official rabbitmq image. Otherwise (as root): installs podman, runc and
#       mmdebstrap if missing, writes <state dir>/containers.conf, builds the local RabbitMQ image unless the engine
#       already holds it, starts `podman system service` on <state dir>/podman.sock and waits until it answers.
#       Prints eval-able `export` lines on stdout (DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED,
#       MODAL_TEST_RABBITMQ_IMAGE, MODAL_CONTAINER_ENGINE_RUN); progress goes to stderr. Already running: prints them again.
#   scripts/container-engine.sh stop
#       Removes the containers the tests left behind under this run's label, then stops the API service this
#       state dir started (TERM to its recorded PID, KILL after 15 s). Not running = not an error.
#   scripts/container-engine.sh image
#       Builds (or finds) the RabbitMQ image only and prints its name.
#
# Settings (environment):
#   MODAL_CONTAINER_ENGINE_DIR   state dir: containers.conf, socket, PID file, log   (<repo>/.container-engine)
#   MODAL_DEBIAN_MIRROR          where mmdebstrap fetches the image's packages      (http://deb.debian.org/debian)
#
# Why these settings (measured on Debian 12 with podman 4.3, cgroups v1 in hybrid mode):
#   - runtime runc: crun refuses this machine's hybrid cgroups;
#   - explicit nofile/nproc ulimits: podman's defaults (from the host's hard limits) cannot be set here;
#   - cgroupfs and file events: no systemd or journald runs inside these machines;
#   - Ryuk (Testcontainers' reaper) is an image from Docker Hub, which cannot be pulled: it is disabled, and
#     `stop` removes what a crashed test process left under this run's label instead.
# The image is cached in podman's store under a tag that is the hash of this script and the image's entrypoint
# (which hold its package list and settings): a change to either builds a new one, and older tags are removed.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$REPO_ROOT/scripts/container-engine"
STATE_DIR=$(realpath -m "${MODAL_CONTAINER_ENGINE_DIR:-$REPO_ROOT/.container-engine}")
SOCKET="$STATE_DIR/podman.sock"
PID_FILE="$STATE_DIR/service.pid"
RUN_FILE="$STATE_DIR/run-id"
MIRROR=${MODAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ENGINE_PACKAGES=(podman runc mmdebstrap curl)
# Debian bookworm's rabbitmq-server 3.10 with its Erlang 25, as the shared test broker runs it.
IMAGE_PACKAGES=(rabbitmq-server)
IMAGE_REPOSITORY=localhost/modal-rabbitmq
LABEL=modal.container-engine-run

log() { echo "container-engine.sh: $*" >&2; }
die() { log "$*"; exit 1; }

image_name() {
  local hash
  hash=$(cat "${BASH_SOURCE[0]}" "$HERE/rabbitmq-entrypoint.sh" | sha256sum | cut -c1-16)
  echo "$IMAGE_REPOSITORY:$hash"
}

# docker_answers SOCKET: a Docker API (Docker's or podman's) answers _ping on that Unix socket.
docker_answers() {
  [[ -S "$1" ]] && [[ $(curl -s --max-time 5 --unix-socket "$1" http://engine/_ping 2>/dev/null) == OK ]]
}

install_engine() {
  local missing=() pkg
  for pkg in "${ENGINE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  [[ $(id -u) -eq 0 ]] || die "must run as root to install ${missing[*]}"
  log "installing ${missing[*]}"
  local apt=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
}

write_config() {
  mkdir -p "$STATE_DIR"
  cat > "$STATE_DIR/containers.conf" <<'CONF'
# Written by scripts/container-engine.sh (see its header for why each setting).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_CONF="$STATE_DIR/containers.conf"
}

build_image() {
  local image work
  image=$(image_name)
  # Two checkouts on one machine share podman's store: one builds, the other waits and finds the image.
  exec 9> "${TMPDIR:-/tmp}/modal-container-image.lock"
  flock 9
  if podman image exists "$image"; then
    log "image $image present"
  else
    log "building $image from Debian's ${IMAGE_PACKAGES[*]} (a minute or two)"
    work=$(mktemp -d)
    # The tar holds every file the image will: docs, manuals and translations are left out.
    mmdebstrap --quiet --variant=apt --include="$(IFS=,; echo "${IMAGE_PACKAGES[*]}")" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook="copy-in '$HERE/rabbitmq-entrypoint.sh' /usr/local/bin" \
      bookworm "$work/rootfs.tar" "$MIRROR" >&2 || { rm -rf "$work"; die "mmdebstrap failed"; }
    podman import --quiet \
      --change 'ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint.sh"]' \
      --change 'USER rabbitmq' \
      --change 'WORKDIR /var/lib/rabbitmq' \
      --change 'ENV HOME=/var/lib/rabbitmq' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'ENV RABBITMQ_LOGS=-' \
      --change 'EXPOSE 5672' \
      "$work/rootfs.tar" "$image" >/dev/null || { rm -rf "$work"; die "podman import failed"; }
    rm -rf "$work"
    # Earlier builds' tags: removed when no container uses them (podman refuses otherwise, which is fine).
    podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$IMAGE_REPOSITORY" \
      | grep -vxF "$image" | xargs -r podman rmi >/dev/null 2>&1 || true
  fi
  exec 9>&-
  echo "$image"
}

proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  awk '{print $20}' <<<"$stat"
}

# service_pid: the PID of the service this state dir started, if it still runs (start time guards against reuse).
service_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid start
  { read -r pid; read -r start; } < "$PID_FILE"
  [[ -n "$pid" && $(proc_start_time "$pid") == "$start" ]] && echo "$pid"
  return 0
}

print_environment() {
  echo "export DOCKER_HOST='unix://$SOCKET'"
  echo "export TESTCONTAINERS_RYUK_DISABLED=true"
  echo "export MODAL_TEST_RABBITMQ_IMAGE='$1'"
  echo "export MODAL_CONTAINER_ENGINE_RUN='$(cat "$RUN_FILE")'"
}

start() {
  if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "unix://$SOCKET" ]] || docker_answers /var/run/docker.sock; then
    log "a Docker engine answers (${DOCKER_HOST:-/var/run/docker.sock}): using it"
    return
  fi
  install_engine
  write_config
  local image pid
  image=$(build_image)
  pid=$(service_pid)
  if [[ -z "$pid" ]]; then
    rm -f "$SOCKET"
    head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN_FILE"
    # setsid: the service leads a process group of its own, apart from the test run's.
    setsid podman system service --time=0 "unix://$SOCKET" > "$STATE_DIR/service.log" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n%s\n' "$pid" "$(proc_start_time "$pid")" > "$PID_FILE"
    for _ in $(seq 1 150); do
      docker_answers "$SOCKET" && break
      kill -0 "$pid" 2>/dev/null || die "podman system service exited: $(tail -n 5 "$STATE_DIR/service.log")"
      sleep 0.2
    done
    docker_answers "$SOCKET" || die "podman's API did not answer on $SOCKET within 30 s"
    log "podman API on unix://$SOCKET (PID $pid)"
  fi
  print_environment "$image"
}

stop() {
  local pid run
  pid=$(service_pid)
  if [[ -f "$RUN_FILE" ]] && command -v podman >/dev/null; then
    run=$(cat "$RUN_FILE")
    export CONTAINERS_CONF="$STATE_DIR/containers.conf"
    podman ps -aq --filter "label=$LABEL=$run" | xargs -r podman rm -f >/dev/null 2>&1 || true
  fi
  [[ -n "$pid" ]] || { rm -f "$PID_FILE"; return; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 75); do
    [[ -n $(service_pid) ]] || break
    sleep 0.2
  done
  if [[ -n $(service_pid) ]]; then
    log "podman system service (PID $pid) still runs after 15 s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$SOCKET"
  log "stopped podman system service (PID $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  image) install_engine; write_config; build_image ;;
  *) die "usage: $0 start|stop|image" ;;
esac
