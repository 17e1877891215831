#!/bin/sh
# Entrypoint of the local RabbitMQ image (scripts/container-engine.sh builds it from Debian's rabbitmq-server).
# It takes the settings the official `rabbitmq` image takes, so Testcontainers.RabbitMq drives either alike:
# RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS become the first boot's administrator (Debian's broker reads
# them from its config file only, not from the environment). The config file lives in the broker's own home:
# the image runs as the unprivileged `rabbitmq` user, which cannot write /etc/rabbitmq.
set -eu
conf="$HOME/rabbitmq.conf"
: > "$conf"
if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then echo "default_user = $RABBITMQ_DEFAULT_USER" >> "$conf"; fi
if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then echo "default_pass = $RABBITMQ_DEFAULT_PASS" >> "$conf"; fi
export RABBITMQ_CONFIG_FILE="$conf"
# Debian's /usr/sbin wrapper would su to the rabbitmq user (already us) with another environment: call the server
# itself. It stays the container's main process and turns SIGTERM into a clean shutdown.
exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
