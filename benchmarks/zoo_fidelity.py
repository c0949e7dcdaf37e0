#!/usr/bin/python3
"""Convert the exported zoo with octet (float and int8) and compare each with PyTorch's float
outputs on the held-out samples; print PyTorch FX int8's numbers beside octet's.

    /usr/bin/python3 benchmarks/zoo_fidelity.py [--octet build/bin/octet] [--models resnet18,...]
                                                [--calib-method entropy] [--models-dir benchmarks/models]

Needs benchmarks/export_zoo.py to have run. Writes converted models to <models-dir>/octet/.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def run_octet(octet, model, samples):
    outs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(samples):
            d = os.path.join(tmp, str(i))
            subprocess.run([octet, "run", model, "--input", "input=" + s, "--output-dir", d], check=True,
                           stdout=subprocess.DEVNULL)
            outs.append(np.load(os.path.join(d, "logits.npy")))
    return np.concatenate(outs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--octet", default="build/bin/octet")
    ap.add_argument("--models-dir", default=os.path.join("benchmarks", "models"))
    ap.add_argument("--models", default="resnet18,resnet50,mobilenet_v2")
    ap.add_argument("--calib-method", default="mse")
    ap.add_argument("--weight-bits", default="8", choices=["7", "8"],
                    help="octet convert --weight-bits (8: full int8 weights, as PyTorch's)")
    args = ap.parse_args()
    out_dir = os.path.join(args.models_dir, "octet")
    os.makedirs(out_dir, exist_ok=True)
    print("| model | octet float cos | octet int8 cos (%s) | int8 top-1 agree | PyTorch FX int8 cos | size int8/ONNX |"
          % args.calib_method)
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.models.split(","):
        base = os.path.join(args.models_dir, name)
        onnx = base + ".onnx"
        if not os.path.exists(onnx):
            print("| %s | not exported (run benchmarks/export_zoo.py) |" % name)
            continue
        ref = np.load(os.path.join(base, "heldout_float.npz"))["logits"]
        samples = sorted(glob.glob(os.path.join(base, "heldout", "*.npy")))
        fl = os.path.join(out_dir, name + "_float.json")
        q = os.path.join(out_dir, name + "_int8.json")
        subprocess.run([args.octet, "convert", onnx, "-o", fl, "--precision", "float", "-q"], check=True)
        subprocess.run([args.octet, "convert", onnx, "-o", q, "--calib", os.path.join(base, "calib"),
                        "--calib-method", args.calib_method, "--weight-bits", args.weight_bits, "-q"], check=True)
        yf = run_octet(args.octet, fl, samples)
        yq = run_octet(args.octet, q, samples)
        cos_f = min(cosine(a, b) for a, b in zip(yf, ref))
        cos_q = [cosine(a, b) for a, b in zip(yq, ref)]
        agree = float(np.mean(yq.argmax(1) == ref.argmax(1)))
        pt = "n/a"
        pj = os.path.join(base, "pytorch_int8.json")
        if os.path.exists(pj):
            j = json.load(open(pj))
            pt = "%.5f mean, %.5f min" % (j["cosine_mean"], j["cosine_min"]) if "cosine_mean" in j else j.get("status", "?")
        size = (os.path.getsize(q) + os.path.getsize(q[:-5] + ".bin")) / os.path.getsize(onnx)
        print("| %s | %.6f (min) | %.5f mean, %.5f min | %.0f%% | %s | %.3fx |"
              % (name, cos_f, np.mean(cos_q), min(cos_q), 100 * agree, pt, size))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
