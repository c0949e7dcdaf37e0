#!/bin/bash
# One command: octet vs ONNX Runtime 1.30 vs PyTorch 1.13 on this machine, batch 1, 1 and 2 threads.
#
#   benchmarks/compare.sh [--quick] [--models resnet18,mobilenet_v2,...] [--threads 1,2] [--rounds N] [--no-torch]
#
# Exports the zoo when missing (export_zoo.py; export_sequence_models.py), converts each model with
# octet (int8 and --precision float) and `octet export-qdq`, times octet int8/float, ONNX Runtime
# float (original .onnx) and int8 (the export-qdq model), PyTorch float and int8 in alternating
# rounds, and writes benchmarks/results/<cpu>-<date>.md (+ .svg chart, .json raw numbers).
# Peers are installed if possible (onnxruntime-node from npm into benchmarks/node_modules; OpenBLAS
# unpacked from Debian's archive into benchmarks/.deps for a fair PyTorch float); one that cannot
# be installed shows "not installed" and the rest still runs. More options: compare.py --help.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"

# The octet binary (with export-qdq): $OCTET, else the newest build tree that has one, else PATH.
if [[ -z "${OCTET:-}" ]]; then
  for b in "$ROOT/build/bin/octet" $(ls -td "$ROOT"/build*/bin/octet 2>/dev/null); do
    if [[ -x "$b" ]] && "$b" export-qdq --help >/dev/null 2>&1; then OCTET="$b"; break; fi
  done
fi
if [[ -z "${OCTET:-}" ]]; then
  if command -v octet >/dev/null && octet export-qdq --help >/dev/null 2>&1; then
    OCTET="$(command -v octet)"
  else
    echo "compare.sh: no octet binary with export-qdq; build it first:" >&2
    echo "  cmake -S $ROOT -B $ROOT/build -G Ninja && cmake --build $ROOT/build --target octet" >&2
    exit 1
  fi
fi
export OCTET
echo "compare.sh: octet = $OCTET" >&2

# ONNX Runtime (npm, pinned in benchmarks/package.json).
if command -v node >/dev/null && [[ ! -d "$HERE/node_modules/onnxruntime-node" ]]; then
  echo "compare.sh: npm install --ignore-scripts onnxruntime-node (benchmarks/node_modules)" >&2
  (cd "$HERE" && npm install --ignore-scripts --no-audit --no-fund >&2) || echo "compare.sh: npm install failed: ORT columns will say not installed" >&2
fi

# OpenBLAS for PyTorch's float Linear/LSTM (Debian's torch links the reference BLAS otherwise).
BLAS_DIR=""
for d in /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/x86_64-linux-gnu/openblas-pthread \
         "$HERE/.deps/root/usr/lib/x86_64-linux-gnu/openblas-openmp"; do
  if [[ -e "$d/libblas.so.3" ]]; then BLAS_DIR="$d"; break; fi
done
if [[ -z "$BLAS_DIR" && "$(uname -m)" == x86_64 ]] && command -v apt-get >/dev/null; then
  mkdir -p "$HERE/.deps" && (cd "$HERE/.deps" && apt-get download libopenblas0-openmp >/dev/null 2>&1 \
    && for f in libopenblas0-openmp_*.deb; do dpkg -x "$f" root; done) || true
  d="$HERE/.deps/root/usr/lib/x86_64-linux-gnu/openblas-openmp"
  [[ -e "$d/libblas.so.3" ]] && BLAS_DIR="$d"
fi
[[ -z "$BLAS_DIR" ]] && echo "compare.sh: no OpenBLAS: PyTorch float uses the reference BLAS (slow Linear/LSTM)" >&2

# Every runtime runs with its default threading. libgomp (octet's and PyTorch's OpenMP) spins
# briefly at barriers before sleeping: on a quiet machine that is what users get (octet's GRU at
# 2 threads: 2.07 ms vs 2.96 ms with OMP_WAIT_POLICY=PASSIVE). On shared, oversubscribed cores
# spinning can collapse multi-threaded latency (seen here under load 5-6: 50x); set
# OMP_WAIT_POLICY=PASSIVE there. The report records it.

exec /usr/bin/python3 "$HERE/compare.py" --octet "$OCTET" --blas-dir "$BLAS_DIR" "$@"
