#!/usr/bin/env bash
# Brings the whole platform up on this machine: installs missing infrastructure packages, builds,
# then runs the Aspire AppHost in the foreground (RabbitMQ, Redis, PostgreSQL and S3 as local processes,
# plus the five services). Ctrl+C (or SIGTERM) stops everything it started.
# MODAL_SIMULATED_GPUS="H100:2,A10G:1" gives the runner simulated GPUs (placement only, no device; see the README).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/require-dotnet.sh
scripts/install-infra.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build AppHost -c Release

# The AppHost binary is run directly rather than through `dotnet run`, which would keep an idle SDK
# process (~65 MB) alive beside it. These are the values of the http profile in
# AppHost/Properties/launchSettings.json (what `dotnet run --project AppHost` uses). Development here is the AppHost's
# own; the five services run as Production (problem details without stack traces) unless
# MODAL_ENVIRONMENT=Development is set (AppHost/Infrastructure/PlatformServiceExtensions.cs).
export DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development
export MODAL_ENVIRONMENT="${MODAL_ENVIRONMENT:-Production}"
export ASPNETCORE_URLS="${MODAL_DASHBOARD_URL:-http://127.0.0.1:15888}"
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="${MODAL_DASHBOARD_OTLP_URL:-http://127.0.0.1:19888}"
export ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="${MODAL_RESOURCE_SERVICE_URL:-http://127.0.0.1:20888}"
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
# The dashboard asks for a login (its browser token) and its telemetry (OTLP) and HTTP APIs take only the API keys the
# AppHost generates at each start and hands its services: any process of the node reaches loopback, so nothing there is
# anonymous. The browser token is this install's own, generated once into the data folder beside install-keys.env, so
# the login link below stays valid across restarts; delete the file to change it.
token_file=.infra/apphost/dashboard-browser-token
if [[ ! -s "$token_file" ]]; then
  mkdir -p "$(dirname "$token_file")"
  (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$token_file")
fi
ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN="$(cat "$token_file")"
export ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN

if [[ -n "${MODAL_SIMULATED_GPUS:-}" ]]; then
  echo "Runner GPUs: simulated $MODAL_SIMULATED_GPUS (placement only: no device behind them)"
fi
echo "Dashboard: $ASPNETCORE_URLS/login?t=$ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN"
echo "           (the Modal API's URL is printed once it is healthy; services run as $MODAL_ENVIRONMENT)"
cd AppHost
exec bin/Release/net10.0/Modal.AppHost
