#!/usr/bin/env bash
# Brings the whole platform up on this machine: installs missing infrastructure packages, builds,
# then runs the Aspire AppHost in the foreground (RabbitMQ, Redis, PostgreSQL and S3 as local processes,
# plus the five services). Ctrl+C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/require-dotnet.sh
scripts/install-infra.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build AppHost -c Release

dashboard_url=$(sed -n 's/.*"applicationUrl": "\([^"]*\)".*/\1/p' AppHost/Properties/launchSettings.json | head -n 1)
echo "Dashboard: $dashboard_url   (the Modal API's URL is printed once it is healthy)"
exec dotnet run --project AppHost -c Release --no-build --launch-profile http
