#!/usr/bin/env bash
# Foreground S3-compatible object store runner (used by the Aspire AppHost and
# by scripts/infra.sh).
#
# Usage: run-s3.sh --port P --data-dir DIR --credentials FILE
#   --port P             S3 endpoint http://127.0.0.1:P (path-style, SigV4, region us-east-1)
#   --data-dir DIR       all state: objects, rings, generated configs
#   --credentials FILE   the install's credentials (scripts/infra/credentials.sh):
#                        MODAL_S3_STORAGE_SECRET, MODAL_S3_PROBE_SECRET
#
# Keys (Swift tempauth; S3 access key = ACCOUNT:USER, secret from FILE):
#   modal:storage   Storage's key: admin of the account "modal" (every bucket
#                   of the platform's blobs and volumes)
#   probe:probe     health checks: admin of an account of its own, "probe",
#                   which holds no platform data
# No other key exists: a key that is not in FILE is refused.
#
# Backend: MinIO if a `minio` binary is on PATH (minio server, console on P+1),
# otherwise OpenStack Swift with the s3api middleware (Debian packages), as a
# single node in DIR:
#   P    proxy (s3api + tempauth; /healthcheck; native API /auth/v1.0, /v1/...)
#   P+1  account server   P+2 container server   P+3 object server
#   P+4  memcached (token/metadata cache for the proxy), TLS with client
#        certificates: only the proxy, holding DIR/memcached-tls/client.*,
#        gets an answer (Swift's memcache client cannot use a Unix socket)
# all bound to 127.0.0.1. The backend in use is written to DIR/backend.
#
# Swift caveat: Swift always reads /etc/swift/swift.conf (hash path prefix/
# suffix, storage policies; the path is hard-coded in swift.common.utils) and
# Debian's swift package ships it. Everything else (rings, server configs)
# is in DIR/etc, via swift_dir.
#
# Process handling (Swift): the five servers are children of this script,
# each runs as a single process (workers = 0, no forked workers) and carries
# a parent-death signal, so even a SIGKILL of this script takes them down.
# SIGTERM/SIGINT: the script stops them (TERM, then KILL after 10 s) and exits.
# If any of them dies, the script stops the others and exits non-zero.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

port="" data_dir="" credentials=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    --credentials) credentials="${2:?--credentials needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-s3.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$port" && -n "$data_dir" && -n "$credentials" ]] || usage

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)

# shellcheck disable=SC1090  # the install's own file
. "$credentials"
# Hex in the generated file; tempauth splits its value on whitespace, and "%("
# would start an interpolation in Swift's config parser.
for name in MODAL_S3_STORAGE_SECRET MODAL_S3_PROBE_SECRET; do
  [[ "${!name:-}" =~ ^[A-Za-z0-9]+$ ]] || { echo "run-s3.sh: $credentials lacks $name (letters and digits)" >&2; exit 2; }
done

# ---------------------------------------------------------------- MinIO ----
if command -v minio >/dev/null 2>&1; then
  echo minio > "$data_dir/backend"
  mkdir -p "$data_dir/minio"
  # MinIO has one root key: Storage's (its probe key would need `mc admin user add`).
  export MINIO_ROOT_USER="modal:storage" MINIO_ROOT_PASSWORD="$MODAL_S3_STORAGE_SECRET"
  export MINIO_REGION=us-east-1 MINIO_SITE_REGION=us-east-1 MINIO_BROWSER=off
  exec minio server --quiet --address "127.0.0.1:$port" \
    --console-address "127.0.0.1:$((port + 1))" "$data_dir/minio"
fi

# ---------------------------------------------------------------- Swift ----
echo swift > "$data_dir/backend"

if [[ ! -f /etc/swift/swift.conf ]]; then
  echo "run-s3.sh: /etc/swift/swift.conf is missing (it comes with Debian's swift package; run scripts/install-infra.sh)" >&2
  exit 1
fi
proxy_port=$port
account_port=$((port + 1)) container_port=$((port + 2)) object_port=$((port + 3))
memcached_port=$((port + 4))
etc="$data_dir/etc"            # swift_dir: rings + configs
devices="$data_dir/node"       # one "device" directory: node/d1
mkdir -p "$etc" "$devices/d1" "$data_dir/cache"

# memcached's TLS material, made once: a CA of this install only (its key is
# dropped once it has signed), a server certificate for 127.0.0.1 and the one
# client certificate, the proxy's.
tls="$data_dir/memcached-tls"
if [[ ! -s "$tls/client.key" ]]; then
  rm -rf "$tls.new"; mkdir -p "$tls.new"
  (
    cd "$tls.new"; umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 -subj /CN=modal-memcached-ca \
      -keyout ca.key -out ca.pem 2>/dev/null
    for who in server client; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=modal-memcached-$who" \
        -keyout "$who.key" -out "$who.csr" 2>/dev/null
      printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = %s\n' \
        "$([[ $who == server ]] && echo serverAuth || echo clientAuth)" > "$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 36500 \
        -extfile "$who.ext" -out "$who.pem" 2>/dev/null
    done
    rm -f ca.key ca.srl ./*.csr ./*.ext
  )
  rm -rf "$tls"; mv "$tls.new" "$tls"
fi

# Rings: one device, one replica, 2^8 partitions. They record the servers'
# ports, so they are rebuilt when the ports change (data stays valid: with a
# single device every partition lives on it).
ring_stamp="ports $account_port $container_port $object_port"
if [[ "$(cat "$etc/rings.stamp" 2>/dev/null)" != "$ring_stamp" ]]; then
  echo "run-s3.sh: building rings in $etc"
  # Same as `swift-ring-builder X.builder create 8 1 1; ... add
  # r1z1-127.0.0.1:PORT/d1 1; ... rebalance` for the three rings, but in one
  # Python process (9 swift-ring-builder runs take ~10 s on 2 cores).
  # /usr/bin/python3 on purpose: Swift is installed for the system Python.
  /usr/bin/python3 - "$etc" "$account_port" "$container_port" "$object_port" <<'PY'
import os, sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for name, port in zip(("account", "container", "object"), sys.argv[2:5]):
    builder = RingBuilder(8, 1, 1)   # 2^8 partitions, 1 replica, min_part_hours 1
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
                     "port": int(port), "replication_ip": "127.0.0.1",
                     "replication_port": int(port), "device": "d1",
                     "weight": 1, "meta": ""})
    builder.rebalance()
    builder.get_ring().save(os.path.join(etc, name + ".ring.gz"))
    builder.save(os.path.join(etc, name + ".builder"))
PY
  echo "$ring_stamp" > "$etc/rings.stamp"
fi

# Swift servers switch to `user` at start; the default ("swift") lacks rights
# on DIR, so use whoever runs this script (root here).
run_user=$(id -un)

# Configs are regenerated on every start (they follow the arguments).
# workers = 0: each server is one process (no pre-fork), light on 2 cores and
# easy to stop. log_requests = false on the backends: the proxy logs requests.
common_conf() {  # $1 = bind port
  cat <<CONF
# generated by run-s3.sh - edits are overwritten
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $run_user
swift_dir = $etc
devices = $devices
mount_check = false
disable_fallocate = true
recon_cache_path = $data_dir/cache
log_name = s3-$1
CONF
}
{
  common_conf "$account_port"
  cat <<CONF

[pipeline:main]
pipeline = account-server

[app:account-server]
use = egg:swift#account
log_requests = false
CONF
} > "$etc/account-server.conf"
{
  common_conf "$container_port"
  cat <<CONF

[pipeline:main]
pipeline = container-server

[app:container-server]
use = egg:swift#container
log_requests = false
# container -> account updates (bucket listing); generous for a busy machine
node_timeout = 10
conn_timeout = 2
CONF
} > "$etc/container-server.conf"
{
  common_conf "$object_port"
  cat <<CONF

[pipeline:main]
pipeline = object-server

[app:object-server]
use = egg:swift#object
log_requests = false
# The object server updates the container listing synchronously; on timeout
# it queues an "async pending" that only an object-updater daemon (not run
# here) would apply, and the object would be missing from listings. So wait
# long rather than time out on a busy 2-core machine.
container_update_timeout = 10
node_timeout = 10
conn_timeout = 2
CONF
} > "$etc/object-server.conf"
{
  common_conf "$proxy_port"
  cat <<CONF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
node_timeout = 30
conn_timeout = 2

[filter:s3api]
use = egg:swift#s3api
# SigV4 credential scope region; path-style only (no storage_domain).
location = us-east-1
# batch delete: delete this many objects concurrently (default 2)
multi_delete_concurrency = 8

[filter:tempauth]
use = egg:swift#tempauth
# S3 access key ACCOUNT:USER = user_ACCOUNT_USER; see run-s3.sh's header
user_modal_storage = $MODAL_S3_STORAGE_SECRET .admin
user_probe_probe = $MODAL_S3_PROBE_SECRET .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port
tls_enabled = true
tls_cafile = $tls/ca.pem
tls_certfile = $tls/client.pem
tls_keyfile = $tls/client.key

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
CONF
} > "$etc/proxy-server.conf"
chmod 600 "$etc/proxy-server.conf"   # holds the secret

# --------------------------------------------------------------- processes --
# eventlet's green DNS imports dnspython (+ httpx): about half of each Swift
# server's start-up CPU. Everything here talks to 127.0.0.1, so skip it.
export EVENTLET_NO_GREENDNS=yes
pids=()
# start CMD...: run CMD as a child with a parent-death signal (SIGKILL).
start() {
  setpriv --pdeathsig=KILL -- "$@" &
  pids+=($!)
}

stopping=0
stop_all() {
  [[ $stopping -eq 0 ]] || return 0
  stopping=1
  trap - TERM INT
  local pid deadline
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ! grep -qs '^[0-9]* ([^)]*) Z' "/proc/$pid/stat"; do
      if (( SECONDS >= deadline )); then kill -KILL "$pid" 2>/dev/null || true; break; fi
      sleep 0.1
    done
  done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 130' INT
trap 'stop_all' EXIT

# memcached refuses to run as root without -u; -t 1 thread is plenty here.
memcached_user=()
if [[ $(id -u) -eq 0 ]]; then memcached_user=(-u root); fi
# -Z with ssl_verify_mode=2 (require): a client without a certificate of this
# install's CA is dropped in the handshake.
start memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 64 -t 1 "${memcached_user[@]}" -Z \
  -o "ssl_chain_cert=$tls/server.pem,ssl_key=$tls/server.key,ssl_ca_cert=$tls/ca.pem,ssl_verify_mode=2"
# -v: log to stderr (there is no syslog socket on a plain machine).
start swift-account-server "$etc/account-server.conf" -v
start swift-container-server "$etc/container-server.conf" -v
start swift-object-server "$etc/object-server.conf" -v
start swift-proxy-server "$etc/proxy-server.conf" -v

# Wait for the first child to exit (or a signal): any exit is a failure.
rc=0
wait -n || rc=$?
if [[ $stopping -eq 0 ]]; then
  echo "run-s3.sh: a server process exited (status $rc); stopping the others" >&2
  stop_all
  exit $(( rc == 0 ? 1 : rc ))
fi
