#!/usr/bin/python3
"""Compare ONNX Runtime on an export-qdq model with `octet run` on the octet model it came from.

    /usr/bin/python3 benchmarks/qdq_diff.py MODEL.json MODEL.qdq.onnx INPUT.npy [--octet PATH] [--threads N]

Prints the max absolute difference of the first output, in units of the octet output's
quantization step (LSB: the scale of the 8-bit tensor its final DequantizeLinear reads; for
float outputs, in units of 1e-3 of the output's max |value|), plus the cosine.
Exit status 0; 3 when onnxruntime-node is not installed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("onnx")
    ap.add_argument("input")
    ap.add_argument("--octet", default=os.environ.get("OCTET", "octet"))
    ap.add_argument("--threads", default="1")
    a = ap.parse_args()
    m = json.load(open(a.model))
    out_name = m["outputs"][0]
    tensors = {t["name"]: t for t in m["tensors"]}
    lsb = None
    for n in m["nodes"]:
        if out_name in n["outputs"] and n["op"] == "DequantizeLinear":
            q = tensors[n["inputs"][0]].get("quant", {})
            s = q.get("scale")
            lsb = s if isinstance(s, float) else None
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.octet, "run", a.model, "-i", a.input, "-o", os.path.join(d, "octet"), "-q", "--threads", a.threads], check=True)
        r = subprocess.run(["node", os.path.join(HERE, "ort_run.mjs"), a.onnx, "-i", a.input, "-o", os.path.join(d, "ort"),
                            "--threads", a.threads], capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            return r.returncode
        safe = out_name.replace("/", "_").replace(":", "_")
        o = np.load(os.path.join(d, "octet", os.listdir(os.path.join(d, "octet"))[0]))
        e = np.load(os.path.join(d, "ort", [f for f in os.listdir(os.path.join(d, "ort")) if f.startswith(safe[:8]) or True][0]))
    diff = float(np.abs(o.astype(np.float64) - e.astype(np.float64)).max())
    cos = float((o.ravel() @ e.ravel()) / (np.linalg.norm(o) * np.linalg.norm(e) + 1e-30))
    unit = lsb if lsb else 1e-3 * float(np.abs(o).max() + 1e-30)
    res = {"model": os.path.basename(a.model), "output": out_name, "shape": list(o.shape), "max_abs_diff": diff,
           "lsb": lsb, "max_diff_lsb" if lsb else "max_diff_per_mille_of_max": round(diff / unit, 3),
           "mean_abs_diff": float(np.abs(o - e).mean()), "cosine": cos}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
