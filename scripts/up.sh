#!/usr/bin/env bash
# Brings the whole platform up on this machine: installs missing infrastructure packages, builds,
# then runs the Aspire AppHost in the foreground (RabbitMQ, Redis, PostgreSQL and S3 as local processes,
# plus the five services). Ctrl+C (or SIGTERM) stops everything it started.
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
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true

echo "Dashboard: $ASPNETCORE_URLS   (the Modal API's URL is printed once it is healthy; services run as $MODAL_ENVIRONMENT)"
cd AppHost
exec bin/Release/net10.0/Modal.AppHost
