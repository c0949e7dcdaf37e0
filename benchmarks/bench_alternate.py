#!/usr/bin/python3
"""Side-by-side latency of octet models on this (shared) machine: runs `octet bench --json` on
each model in turn (A B A B ...), several rounds, and prints the median of the per-run p50s and
the ratios to the first model.

    benchmarks/bench_alternate.py [--octet build/bin/octet] [--rounds 5] [--seconds 3]
        [--threads 1] [--backend auto] [-i NAME=FILE.npy ...] model1.json model2.json ...
"""
import argparse
import json
import statistics
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--octet", default="build/bin/octet")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--backend", default="auto", help="auto, onednn, xnnpack or reference (all models)")
    ap.add_argument("-i", "--input", action="append", default=[])
    a = ap.parse_args()
    p50 = {m: [] for m in a.models}
    for _ in range(a.rounds):
        for m in a.models:
            cmd = [a.octet, "bench", m, "--json", "--no-peak", "--seconds", str(a.seconds), "--threads", str(a.threads), "--backend", a.backend]
            for i in a.input:
                cmd += ["-i", i]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            p50[m].append(json.loads(out)["latency_ms"]["p50"])
    base = statistics.median(p50[a.models[0]])
    for m in a.models:
        med = statistics.median(p50[m])
        print("%-50s p50 median %8.3f ms  (runs %s)  %.2fx vs first" % (m, med, " ".join("%.2f" % v for v in p50[m]), base / med))


if __name__ == "__main__":
    main()
