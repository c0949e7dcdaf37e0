#!/bin/sh
# The demo, from a fresh Debian 12 machine: install dependencies, build, convert the digits
# classifier to float and int8, and compare them on the held-out set (accuracy, size, latency).
#   scripts/demo.sh [BUILD_DIR]      (default: build)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
scripts/install_deps.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target octet
OCTET="$BUILD/bin/octet"
OUT="$BUILD/demo"
mkdir -p "$OUT"

echo "== convert: float (the same fused graph, unquantized) and int8 (calibrated on 200 training samples)"
"$OCTET" convert examples/digits/digits.onnx -o "$OUT/digits_float.json" --precision float
"$OCTET" convert examples/digits/digits.onnx -o "$OUT/digits_int8.json" --calib examples/digits/calib

echo
echo "== evaluate on the 360 held-out digits (batch 1, 1 thread; latency alternates the two models)"
"$OCTET" eval "$OUT/digits_float.json" "$OUT/digits_int8.json" --data examples/digits/heldout.npz --runs 300

onnx=$(stat -c %s examples/digits/digits.onnx)
int8=$(( $(stat -c %s "$OUT/digits_int8.json") + $(stat -c %s "$OUT/digits_int8.bin") ))
echo
echo "int8 model (json + bin) is $(awk "BEGIN { printf \"%.3f\", $int8 / $onnx }")x the size of digits.onnx"
echo "next: $OCTET inspect $OUT/digits_int8.json; $OCTET bench $OUT/digits_int8.json --profile"
