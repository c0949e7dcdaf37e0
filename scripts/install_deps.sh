#!/bin/sh
# Installs what octet needs to build, test and run its demo on Debian 12.
# Usage: scripts/install_deps.sh [--python]   (--python adds PyTorch/ONNX for regenerating models and benchmarks)
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PKGS="build-essential cmake ninja-build pkg-config \
  libdnnl-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev \
  nlohmann-json3-dev doctest-dev libcli11-dev libfmt-dev libxxhash-dev libhwy-dev libstb-dev \
  libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev libbenchmark-dev libonnx-testdata"
if [ "${1:-}" = "--python" ]; then
  PKGS="$PKGS python3-torch python3-torchvision python3-onnx python3-sklearn python3-numpy python3-matplotlib"
fi

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "octet: all build dependencies are installed"; exit 0; fi
echo "octet: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
