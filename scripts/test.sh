#!/usr/bin/env bash
# The whole test suite, as README and CI run it: installs missing infrastructure packages, starts a container engine
# for the Testcontainers tests (scripts/container-engine.sh), builds the solution once, then runs each test project in
# turn (the service tests start and stop their own RabbitMQ, Redis, PostgreSQL and S3 through scripts/infra.sh; the
# end-to-end test starts the AppHost).
# Test projects run one after another: on a 2-core machine two sets of servers at once only slow both.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/require-dotnet.sh
scripts/install-infra.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results_dir="${MODAL_TEST_RESULTS:-$PWD/TestResults}"
rm -rf "$results_dir"

# The container engine of the broker-kill tests (docs/decisions.md 34): podman's Docker API where no Docker engine
# answers. It starts beside the build (its first image build is mostly download) and is stopped whatever happens.
engine_env=$(mktemp)
scripts/container-engine.sh start > "$engine_env" &
engine_pid=$!
stop_engine() {
  wait "$engine_pid" 2>/dev/null || true
  scripts/container-engine.sh stop || true
  rm -f "$engine_env"
}
trap stop_engine EXIT

dotnet build Modal.Platform.sln -c Release

if wait "$engine_pid"; then
  # shellcheck disable=SC1090 # export lines written by container-engine.sh
  . "$engine_env"
else
  echo "test.sh: no container engine started; the tests that need one will fail and say why." >&2
fi

status=0
for project in tests/Modal.Platform.Tests tests/Modal.EndToEnd.Tests; do
  echo "== $project"
  # Long fault runs (trait Category=Fault) live in scripts/faults.sh, outside the suite's 20 minutes.
  dotnet test "$project" -c Release --no-build --results-directory "$results_dir" --filter "Category!=Fault" \
    --logger "trx;LogFilePrefix=$(basename "$project")" --logger "console;verbosity=normal" || status=$?
done

# One closing line over every project, from the TRX counters.
passed=0 failed=0 skipped=0
for trx in "$results_dir"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(count passed)))
  failed=$((failed + $(count failed)))
  skipped=$((skipped + $(count notExecuted)))
done
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "No test ran." >&2
  status=1
fi
exit "$status"
