#!/usr/bin/env bash
# On a GPU host with bubblewrap (Debian's `bubblewrap`) and the .NET SDK: starts a sandbox with exactly the arguments the
# runner's bubblewrap backend computes for a container holding the GPUs given (default: 0), and lists /dev/nvidia*
# inside. Passes when the container sees its own /dev/nvidiaN files and no other GPU's.
#
# Usage: scripts/device-check.sh [GPU index ...]      e.g. scripts/device-check.sh 1 3
set -euo pipefail
cd "$(dirname "$0")/.."

gpus=("$@")
[[ ${#gpus[@]} -gt 0 ]] || gpus=(0)
command -v bwrap >/dev/null || { echo "device-check: bwrap not found (apt-get install bubblewrap)" >&2; exit 2; }
ls /dev/nvidia[0-9]* >/dev/null 2>&1 || { echo "device-check: no /dev/nvidiaN on this host" >&2; exit 2; }

bench=bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll
[[ -f $bench ]] || dotnet build bench/Modal.Bench -c Release -v q >/dev/null
runtime=$(mktemp -d /tmp/modal-device-check.XXXXXX)
trap 'rm -rf "$runtime"' EXIT

mapfile -t sandbox < <(dotnet "$bench" sandbox-args "$runtime" "${gpus[@]}")
echo "host GPUs:      $(ls /dev/nvidia[0-9]* | tr '\n' ' ')"
echo "allocated:      ${gpus[*]}"
echo "bwrap ${sandbox[*]}"
inside=$(bwrap "${sandbox[@]}" -- /bin/sh -c 'ls -1 /dev/ | grep "^nvidia" | sed "s#^#/dev/#"; if command -v nvidia-smi >/dev/null; then nvidia-smi -L >&2 || true; fi')
echo "inside the sandbox:"
echo "$inside" | sed 's/^/  /'

expected=$(for gpu in "${gpus[@]}"; do echo "/dev/nvidia$gpu"; done | sort)
seen=$(echo "$inside" | grep -E '^/dev/nvidia[0-9]+$' | sort || true)
if [[ "$seen" == "$expected" ]]; then
  echo "device-check: PASS (the container sees only its GPUs: ${gpus[*]})"
else
  echo "device-check: FAIL (expected: $(echo $expected); saw: $(echo $seen))" >&2
  exit 1
fi
