#!/usr/bin/env bash
# Installs the Debian 12 packages that the local infrastructure scripts need
# (scripts/infra.sh and scripts/infra/run-*.sh): RabbitMQ, Redis, PostgreSQL 15,
# OpenStack Swift (S3 API via s3api) + memcached, bubblewrap, slirp4netns, nftables, and the tools used
# to start/probe/stop them.
#
# Idempotent: only packages that are not installed yet are installed, and
# `apt-get update` runs once, only when something is missing. When everything is
# present it returns in well under a second without touching the network.
#
# Usage (as root):  scripts/install-infra.sh
#
# The packages' own system services (rabbitmq on 5672, redis on 6379, postgres
# on 5432, memcached on 11211) are NOT started by this script: if no
# /usr/sbin/policy-rc.d exists, a temporary one that denies service starts is
# put in place for the duration of the install and removed afterwards. Our
# scripts run private instances on other ports instead.
set -euo pipefail

PACKAGES=(
  rabbitmq-server            # also pulls erlang (epmd, erl)
  redis-server redis-tools   # redis-tools: redis-cli (readiness probe)
  postgresql postgresql-15 postgresql-client-15   # client: pg_isready, psql
  swift swift-proxy swift-object swift-container swift-account
  memcached
  python3-swiftclient
  bubblewrap
  mmdebstrap                 # image bases from the Debian mirror, built unprivileged (--mode=unshare)
  uidmap                     # newuidmap/newgidmap: the image build user's subordinate ids
  slirp4netns                # containers' own network namespace, egress through user-mode networking
  nftables                   # nft: the runner refuses the node's own and link-local addresses to slirp4netns
  iproute2                   # ip netns: the containers' network namespaces
  curl                       # HTTP probes (RabbitMQ management API, S3)
  procps                     # ps / pgrep -g (process-group checks)
  util-linux                 # setsid, setpriv, flock, runuser
  ca-certificates
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install-infra.sh: must run as root (it calls apt-get)" >&2
  exit 1
fi

# The user image builds run as (GpuRunner:ImageBuildUser): not root, with 65,536 subordinate ids that root inside a
# build is mapped to, so nothing a build makes is owned by the node's root. Idempotent.
if ! getent passwd modal-build >/dev/null; then
  groupadd -g 61002 modal-build 2>/dev/null || true
  useradd -u 61002 -g 61002 -M -d /nonexistent -s /usr/sbin/nologin modal-build 2>/dev/null || true
fi
for f in /etc/subuid /etc/subgid; do
  grep -q '^modal-build:' "$f" 2>/dev/null || echo 'modal-build:1000000:65536' >> "$f"
done

# One dpkg-query call for all packages (fast). "install ok installed" is the
# only state that means usable; unknown, half-configured or removed packages
# are (re)installed. dpkg-query exits 1 when some package is unknown: ignore.
declare -A installed=()
while read -r pkg state; do
  if [[ "$state" == "install ok installed" ]]; then installed[$pkg]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-infra.sh: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-infra.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Keep apt from starting the system-wide services (see header).
created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\n# temporary, from scripts/install-infra.sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() {
  if [[ $created_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

# Another apt/dpkg run (e.g. unattended-upgrades on a fresh VM) may hold the
# lock: wait for it instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
apt-get "${APT_OPTS[@]}" update -qq
apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
echo "install-infra.sh: done"
