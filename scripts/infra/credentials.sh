#!/usr/bin/env bash
# The backing servers' credentials of one install, generated on first use.
#
# Usage: credentials.sh FILE
#   Creates FILE (mode 600) if missing and adds any credential it lacks (an
#   install made before a credential existed gets it on its next start);
#   existing values are never changed. Prints nothing.
#
# FILE is KEY=VALUE lines, readable by bash (`. FILE`) and by the AppHost. The
# runners (run-*.sh --credentials FILE) read what their server needs; each
# platform service gets only its own user's password (AppHost, or the tests'
# fixture). The *_ADMIN_* ones stay with the scripts and the AppHost's health
# checks. Values are 64 hex digits: safe in URLs, connection strings, SQL and
# Swift's config without quoting. Never commit such a file.
#
#   MODAL_POSTGRES_ADMIN_PASSWORD        superuser (initdb --user, "platform")
#   MODAL_POSTGRES_{API,SCHEDULER,SECRETS}_PASSWORD
#                                        roles modal_api, modal_scheduler,
#                                        modal_secrets: each owns its database
#   MODAL_REDIS_ADMIN_PASSWORD           ACL user modal-admin (scripts, health)
#   MODAL_REDIS_{API,STORAGE}_PASSWORD   ACL users api, storage
#   MODAL_RABBITMQ_ADMIN_PASSWORD        user modal-admin (administrator)
#   MODAL_RABBITMQ_{API,SCHEDULER,GPU_RUNNER}_PASSWORD
#                                        users api, scheduler, gpu-runner
#   MODAL_S3_STORAGE_SECRET              S3 key modal:storage (Storage's blobs)
#   MODAL_S3_PROBE_SECRET                S3 key probe:probe (health checks; an
#                                        account of its own, sees no blob)
set -euo pipefail

file=${1:?usage: credentials.sh FILE}
names=(
  MODAL_POSTGRES_ADMIN_PASSWORD MODAL_POSTGRES_API_PASSWORD MODAL_POSTGRES_SCHEDULER_PASSWORD MODAL_POSTGRES_SECRETS_PASSWORD
  MODAL_REDIS_ADMIN_PASSWORD MODAL_REDIS_API_PASSWORD MODAL_REDIS_STORAGE_PASSWORD
  MODAL_RABBITMQ_ADMIN_PASSWORD MODAL_RABBITMQ_API_PASSWORD MODAL_RABBITMQ_SCHEDULER_PASSWORD MODAL_RABBITMQ_GPU_RUNNER_PASSWORD
  MODAL_S3_STORAGE_SECRET MODAL_S3_PROBE_SECRET
)

mkdir -p "$(dirname "$file")"
# One writer at a time (infra.sh and an AppHost may share nothing, but two
# test runs could race on a fresh state dir).
exec 8>> "$file.lock"
flock -w 30 8
umask 077
[[ -f "$file" ]] || echo "# Backing servers' credentials of this install (scripts/infra/credentials.sh). Never commit." > "$file"
for name in "${names[@]}"; do
  grep -q "^$name=" "$file" || echo "$name=$(od -An -vtx1 -N32 /dev/urandom | tr -d ' \n')" >> "$file"
done
chmod 600 "$file"
