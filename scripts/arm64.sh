#!/bin/sh
# aarch64 (64-bit ARM Linux) builds without ARM hardware.
#   scripts/arm64.sh build   cross-builds the runtime, the CLI and the tests: build-arm64/bin/octet
#                            is what you copy to a board with a model (see docs/devices.md)
#   scripts/arm64.sh test    builds, then runs the test suite under qemu-aarch64-static
# The converter is not cross-built (convert on the x86 machine; the model file is the same).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$ROOT/build-arm64
SYSROOT=$BUILD/sysroot
ACTION=${1:-build}
case "$ACTION" in build|test) ;; *) echo "usage: scripts/arm64.sh build|test" >&2; exit 2;; esac

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# Host tools and the header-only libraries the build shares with x86.
scripts/install_deps.sh
need=""
for p in g++-aarch64-linux-gnu qemu-user-static dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then $SUDO apt-get install -y -qq --no-install-recommends $need; fi

# The arm64 libraries cannot be installed beside the amd64 ones (multi-arch conflicts), so they
# are unpacked into a sysroot inside the build tree.
PKGS="libxnnpack-dev libxnnpack0 libpthreadpool-dev libpthreadpool0 libcpuinfo-dev libcpuinfo0 zlib1g-dev zlib1g libhwy-dev libhwy1"
if [ ! -f "$SYSROOT/.complete" ]; then
  if ! dpkg --print-foreign-architectures | grep -q arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  $SUDO apt-get update -qq
  rm -rf "$SYSROOT" "$BUILD/debs"
  mkdir -p "$SYSROOT" "$BUILD/debs"
  (cd "$BUILD/debs" && for p in $PKGS; do apt-get download -q -o APT::Sandbox::User=root "$p:arm64"; done)
  for deb in "$BUILD"/debs/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
  touch "$SYSROOT/.complete"
fi

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" -DOCTET_ARM64_SYSROOT="$SYSROOT" \
  -DOCTET_BUILD_CONVERTER=OFF -DOCTET_WITH_ONEDNN=OFF -DOCTET_WITH_XNNPACK=ON >/dev/null
cmake --build "$BUILD"
file "$BUILD/bin/octet" 2>/dev/null || true
if [ "$ACTION" = test ]; then
  ctest --test-dir "$BUILD" --output-on-failure
fi
