#!/usr/bin/env bash
# The long fuzz run (issue 24): FuzzTests with more requests than the suite sends, against every route of the Api,
# Storage, Secrets and the Scheduler as their OpenAPI documents list them. Starts and stops its own servers, as the
# suite does. Usage: scripts/fuzz.sh [requests per service, default 3000] [seed, default the date's day number]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/require-dotnet.sh
scripts/install-infra.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export MODAL_FUZZ_REQUESTS="${1:-3000}"
export MODAL_FUZZ_SEED="${2:-$(date +%j)}"
echo "Fuzzing with $MODAL_FUZZ_REQUESTS requests per service, seed $MODAL_FUZZ_SEED"
dotnet build tests/Modal.Platform.Tests -c Release
dotnet test tests/Modal.Platform.Tests -c Release --no-build --filter "FullyQualifiedName~Services.FuzzTests" \
  --logger "console;verbosity=normal"
