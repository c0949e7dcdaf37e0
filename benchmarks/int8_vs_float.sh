#!/bin/sh
# octet int8 vs octet float on the exported zoo: batch 1, 1 and 2 threads, the two models
# alternating run by run (octet eval), medians. Needs benchmarks/zoo_fidelity.py to have
# converted the models (benchmarks/models/octet/NAME_{float,int8}.json).
#   benchmarks/int8_vs_float.sh [OCTET] [RUNS]
set -eu
cd "$(dirname "$0")/.."
OCTET=${1:-build/bin/octet}
RUNS=${2:-40}
M=benchmarks/models
for name in ${MODELS:-resnet18 resnet50 mobilenet_v2}; do
  [ -f "$M/octet/${name}_int8.json" ] || { echo "$name: not converted (run benchmarks/zoo_fidelity.py)"; continue; }
  data=$M/$name/heldout.npz
  [ -f "$data" ] || /usr/bin/python3 -c "
import glob, numpy as np, sys
xs = [np.load(f) for f in sorted(glob.glob('$M/$name/heldout/*.npy'))]
np.savez('$data', x=np.concatenate(xs))"
  for t in 1 2; do
    echo "== $name, $t thread(s)"
    OMP_WAIT_POLICY=PASSIVE "$OCTET" eval "$M/octet/${name}_float.json" "$M/octet/${name}_int8.json" --data "$data" \
      --threads $t --runs "$RUNS" | grep -E "json|samples"
  done
done
