#!/usr/bin/env bash
# Checks a GPU node for TorchSharp functions end to end, without the platform and without a network on the node
# (docs/gpu-nodes.md). Two steps:
#
#   1. Where the .NET SDK and the NuGet feed are:      scripts/gpu-check.sh pack [gpu-check.tar.gz]
#      publishes examples/HelloGpu and examples/MatmulBench (one folder, one copy of libtorch), the runner's discovery
#      (bench/Modal.Bench) and the .NET runtime they need (and bwrap, if this machine has it) into one archive.
#   2. On the GPU node (no .NET needed):                 tar xzf gpu-check.tar.gz && gpu-check/run.sh [CUDA libtorch lib folder] [GPU index]
#      prints what the runner finds (driver files, nvidia-smi, the CUDA libtorch and its version), runs HelloGpu in a
#      sandbox made with the runner's own bubblewrap arguments for a container holding that GPU (nvidia-smi inside, a
#      tensor op on the device), then MatmulBench in the same sandbox and bare on the same GPU (fp32/bf16 TFLOP/s).
#      Passes when the sandboxed HelloGpu ran on CUDA. Takes 1-2 minutes.
set -euo pipefail

pack() {
  local out=${1:-gpu-check.tar.gz}
  cd "$(dirname "$0")/.."
  local stage; stage=$(mktemp -d /tmp/gpu-check.XXXXXX)
  trap "rm -rf '$stage'" EXIT
  local root="$stage/gpu-check"
  mkdir -p "$root/apps" "$root/bench" "$root/dotnet/shared" "$root/bin"
  dotnet publish examples/HelloGpu -c Release -o "$root/apps" -v q --nologo
  dotnet publish examples/MatmulBench -c Release -o "$root/apps" -v q --nologo
  dotnet publish bench/Modal.Bench -c Release -o "$root/bench" -v q --nologo
  # The runtime, as a framework-dependent app finds it through DOTNET_ROOT: the host, hostfxr and the two frameworks.
  local dotnet_root; dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  cp "$dotnet_root/dotnet" "$root/dotnet/"
  cp -r "$dotnet_root/host" "$root/dotnet/"
  for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
    local version; version=$(ls "$dotnet_root/shared/$framework" | sort -V | tail -1)
    mkdir -p "$root/dotnet/shared/$framework"
    cp -r "$dotnet_root/shared/$framework/$version" "$root/dotnet/shared/$framework/"
  done
  if command -v bwrap >/dev/null; then cp "$(command -v bwrap)" "$root/bin/"; fi
  cp scripts/gpu-check.sh "$root/run.sh"
  tar -C "$stage" -czf "$out" gpu-check
  echo "gpu-check: wrote $out ($(du -h "$out" | cut -f1)); on the GPU node: tar xzf $(basename "$out") && gpu-check/run.sh [libtorch lib folder] [GPU]"
}

run() {
  local here; here=$(cd "$(dirname "$0")" && pwd)
  local libtorch=${1:--} gpu=${2:-0}
  # The sandbox's /tmp is a tmpfs of its own: a runtime unpacked under /tmp would be hidden from the container.
  [[ $here != /tmp/* ]] || { echo "gpu-check: unpack the archive outside /tmp (e.g. /var/tmp or \$HOME)" >&2; exit 2; }
  export DOTNET_ROOT="$here/dotnet" PATH="$here/dotnet:$here/bin:/usr/local/nvidia/bin:$PATH"
  local bwrap; bwrap=$(command -v bwrap) || { echo "gpu-check: no bwrap (apt-get install bubblewrap, or pack on a machine that has it)" >&2; exit 2; }
  local runtime; runtime=$(mktemp -d /tmp/gpu-check-run.XXXXXX)
  trap "rm -rf '$runtime'" EXIT

  echo "== host: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "== nvidia-smi -L"
  nvidia-smi -L || echo "(nvidia-smi failed or is missing)"
  echo "== /dev/nvidia*"; (ls -d /dev/nvidia* 2>/dev/null || echo "(none)") | tr '\n' ' '; echo

  sandboxed() { # <entry.dll> [program arguments...]: the runner's command for a container of that app holding $gpu
    local entry=$1; shift
    local -a cmd
    mapfile -t cmd < <(dotnet "$here/bench/Modal.Bench.dll" gpu-node "$runtime" "$here/apps" "$entry" "$libtorch" "$gpu")
    for i in "${!cmd[@]}"; do [[ ${cmd[$i]} == bwrap ]] && cmd[$i]=$bwrap; done
    env -i "${cmd[@]}" "$@"
  }

  echo "== the runner's discovery"
  dotnet "$here/bench/Modal.Bench.dll" gpu-node "$runtime" "$here/apps" HelloGpu.dll "$libtorch" "$gpu" >/dev/null
  echo "== HelloGpu in a container holding GPU $gpu"
  local said; said=$(sandboxed HelloGpu.dll --local 2>&1) || true
  echo "$said"
  echo "== MatmulBench in a container holding GPU $gpu"
  sandboxed MatmulBench.dll --local 2>&1 || true
  echo "== MatmulBench bare on GPU $gpu (the node's libtorch in place of the app's CPU one, as the runner binds it)"
  local bare; bare=$(mktemp -d /tmp/gpu-check-bare.XXXXXX)
  cp -r "$here/apps/." "$bare/"
  if [[ $libtorch != - ]]; then
    for file in "$bare"/runtimes/linux-x64/native/*.so*; do
      [[ -e $libtorch/$(basename "$file") ]] && ln -sf "$libtorch/$(basename "$file")" "$file"
    done
  fi
  CUDA_VISIBLE_DEVICES=$gpu LD_LIBRARY_PATH="${libtorch/#-/}" dotnet "$bare/MatmulBench.dll" --local 2>&1 || true
  rm -rf "$bare"

  if grep -q "^device: cuda" <<<"$said"; then
    echo "gpu-check: PASS (a container holding GPU $gpu ran its tensor op on CUDA)"
  else
    echo "gpu-check: FAIL (the container did not run on CUDA; its output above says why)" >&2
    exit 1
  fi
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  *) run "$@" ;;
esac
