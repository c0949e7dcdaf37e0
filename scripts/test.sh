#!/bin/sh
# Builds octet and runs the whole test suite (CTest: unit tests, converter end-to-end tests, CLI
# tests, the embedding example and the installed-package test).
#   scripts/test.sh              Release build in build-test/
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
set -eu
cd "$(dirname "$0")/.."
scripts/install_deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  BUILD=build-asan
  FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCTET_SANITIZE=ON"
  # oneDNN's JIT and OpenMP runtime are not built with ASan; leaks in them are not ours.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
else
  BUILD=build-test
  FLAGS="-DCMAKE_BUILD_TYPE=Release"
fi
cmake -S . -B "$BUILD" -G Ninja $FLAGS >/dev/null
cmake --build "$BUILD"
ctest --test-dir "$BUILD" --output-on-failure -j2
