#!/usr/bin/env bash
# Fails with a clear message when the .NET 10 SDK is missing. Debian does not package it; Microsoft's
# package feed or dotnet-install.sh provides it (neither can be reached from the build machines here,
# which come with the SDK).
set -euo pipefail
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  cat >&2 <<'MSG'
The .NET 10 SDK is required and was not found on PATH.
Install it from Microsoft's Debian/Ubuntu packages (apt-get install dotnet-sdk-10.0 after adding
packages.microsoft.com) or with dotnet-install.sh --channel 10.0, then run this command again.
MSG
  exit 1
fi
