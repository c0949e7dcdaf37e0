#!/bin/sh
# Records the cross-backend agreement fixtures: every small test model converted once (int8 with
# the default settings, and float for two of them), with its input and the outputs of the
# reference backend on x86. tests/unit/test_golden.cc runs each model on every backend compiled in
# (oneDNN, XNNPACK, reference; on aarch64 under qemu too) and compares with these outputs.
#   tests/data/golden/make_golden.sh [OCTET]      (OCTET: an x86 build's CLI, default build/bin/octet)
set -eu
cd "$(dirname "$0")/../../.."
OCTET=${1:-build/bin/octet}
OUT=tests/data/golden
for m in tests/models/*/; do
  name=$(basename "$m")
  [ -f "$m/model.onnx" ] && [ -f "$m/input.npy" ] || continue   # single-input models with a recorded input
  for prec in int8 float; do
    case "$prec-$name" in float-tiny_resnet|float-lstm2_small|int8-*) ;; *) continue;; esac
    dir="$OUT/${name}_$prec"
    rm -rf "$dir" && mkdir -p "$dir"
    if [ "$prec" = int8 ]; then
      "$OCTET" convert "$m/model.onnx" -o "$dir/model.json" --calib "$m/calib" -q
    else
      "$OCTET" convert "$m/model.onnx" -o "$dir/model.json" --precision float -q
    fi
    cp "$m/input.npy" "$dir/input.npy"
    "$OCTET" run "$dir/model.json" -i "$dir/input.npy" --backend reference -o "$dir/expected" -q
    echo "$dir: $(ls "$dir/expected" | tr '\n' ' ')"
  done
done
