#!/usr/bin/python3
"""Export the benchmark model zoo (torchvision resnet18, resnet50, mobilenet_v2) to ONNX, with
calibration / held-out data and a PyTorch-int8 baseline.

Run from the repository root with Debian's interpreter (torch 1.13, torchvision 0.14, onnx):

    /usr/bin/python3 benchmarks/export_zoo.py [--out benchmarks/models] [--models resnet18,...]
                                              [--skip-quant]

No pretrained weights are downloaded: weights are random but seeded. Before export every
BatchNorm layer gets random affine parameters (gamma ~ U(0.5,1.5), beta ~ N(0,0.1)) and
non-trivial running statistics, accumulated (momentum=None, i.e. cumulative average) over 20
batches of synthetic images run through the model in train mode; then the model is put in eval
mode. Activations therefore have realistic ranges.

Synthetic "images": smooth multi-octave random fields (1/f-like noise with correlated colour
channels) in [0,1], normalized with the ImageNet mean/std. float32 [1,3,224,224].

For each model NAME, writes into --out (default benchmarks/models/, which is gitignored):

    NAME.onnx                    eval-mode ONNX, opset 13, input "input" [batch,3,224,224],
                                 output "logits" [batch,1000]
    NAME/calib/calib_NNN.npy     32 calibration samples
    NAME/heldout/heldout_NNN.npy 8 held-out samples
    NAME/heldout_float.npz       logits: float32 [8,1000], PyTorch float outputs of the
                                 held-out samples (in order)
    NAME/pytorch_int8.json       PyTorch 1.13 FX static quantization (prepare_fx/convert_fx,
                                 get_default_qconfig_mapping("onednn"),
                                 torch.backends.quantized.engine="onednn") calibrated on the
                                 same 32 samples: cosine similarity of its held-out outputs vs
                                 float (per sample, mean, min) and top-1 agreement; or, if FX
                                 quantization fails, the error text.

Everything except the ONNX bytes is deterministic across runs (the ONNX export has been
observed to be byte-identical too).
"""
import argparse
import copy
import io
import json
import os
import sys
import time
import traceback
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {"resnet18": 1018, "resnet50": 1050, "mobilenet_v2": 1002}   # name -> seed
N_CALIB = 32
N_HELDOUT = 8
BN_BATCHES = 20
BN_BATCH_SIZE = 8
SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)


def log(msg):
    print(msg, flush=True)


def save_npz_deterministic(path, **arrays):
    """Like np.savez, but with a fixed zip timestamp so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def synthetic_images(rng, n, size=SIZE):
    """n smooth random 'images', ImageNet-normalized, float32 [n,3,size,size]."""
    out = np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        img = torch.zeros(1, 3, size, size)
        # 1/f-like: coarse octaves carry most of the energy; colours are correlated.
        for cells, amp in ((2, 1.0), (4, 0.6), (8, 0.35), (16, 0.2), (32, 0.12), (64, 0.07)):
            base = rng.standard_normal((1, 1, cells, cells)).astype(np.float32)
            chroma = 0.4 * rng.standard_normal((1, 3, cells, cells)).astype(np.float32)
            coarse = torch.from_numpy(base + chroma)
            img += amp * F.interpolate(coarse, size=(size, size), mode="bicubic",
                                       align_corners=False)
        img = img[0].numpy()
        img += 0.02 * rng.standard_normal(img.shape).astype(np.float32)      # sensor noise
        lo, hi = np.percentile(img, 1), np.percentile(img, 99)
        img = (img - lo) / max(1e-6, hi - lo)
        img = img * rng.uniform(0.6, 1.0) + rng.uniform(0.0, 0.2)            # contrast/brightness
        img = np.clip(img, 0.0, 1.0)
        out[i] = (img - IMAGENET_MEAN) / IMAGENET_STD
    return out


def build_model(name, seed):
    import torchvision
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.1)
            bn.momentum = None          # cumulative moving average
            bn.reset_running_stats()
    rng = np.random.default_rng(seed + 7)
    model.train()
    t0 = time.time()
    with torch.no_grad():
        for b in range(BN_BATCHES):
            x = torch.from_numpy(synthetic_images(rng, BN_BATCH_SIZE))
            model(x)
            if (b + 1) % 5 == 0:
                log(f"  [{name}] BN statistics: {b + 1}/{BN_BATCHES} batches "
                    f"({time.time() - t0:.0f} s)")
    for bn in bns:
        bn.momentum = 0.1
    model.eval()
    return model


def run_batched(model, x, batch=8):
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(outs).astype(np.float32)


def cosine_rows(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)


def fx_quantize(name, model, calib, heldout, ref_out):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    engine = "onednn"
    result = {"model": name, "torch_version": torch.__version__, "engine": engine,
              "method": "torch.ao.quantization.quantize_fx prepare_fx/convert_fx, "
                        "get_default_qconfig_mapping('onednn'), static, calibrated on "
                        f"{len(calib)} samples",
              "calibration_samples": int(len(calib)), "heldout_samples": int(len(heldout))}
    try:
        torch.backends.quantized.engine = engine
        result["engine"] = torch.backends.quantized.engine   # what torch actually selected
        qmap = get_default_qconfig_mapping(engine)
        example = (torch.from_numpy(calib[:1]),)
        prepared = prepare_fx(copy.deepcopy(model).eval(), qmap, example)
        t0 = time.time()
        run_batched(prepared, calib)
        log(f"  [{name}] FX calibration done ({time.time() - t0:.0f} s)")
        quantized = convert_fx(prepared)
        t0 = time.time()
        q_out = run_batched(quantized, heldout)
        log(f"  [{name}] FX int8 inference on {len(heldout)} samples ({time.time() - t0:.2f} s)")
        cos = cosine_rows(q_out, ref_out)
        result.update({
            "status": "ok",
            "cosine_per_sample": [round(float(c), 6) for c in cos],
            "cosine_mean": round(float(cos.mean()), 6),
            "cosine_min": round(float(cos.min()), 6),
            "top1_agreement": float((q_out.argmax(1) == ref_out.argmax(1)).mean()),
            "max_abs_diff": round(float(np.abs(q_out - ref_out).max()), 6),
        })
    except Exception as e:
        result.update({"status": "error", "error": f"{type(e).__name__}: {e}",
                       "traceback": traceback.format_exc()})
    return result


def write_samples(directory, prefix, x):
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        if f.startswith(prefix + "_") and f.endswith(".npy"):
            os.remove(os.path.join(directory, f))
    for i in range(len(x)):
        np.save(os.path.join(directory, f"{prefix}_{i:03d}.npy"), x[i:i + 1])


def export_one(name, seed, out, skip_quant):
    import onnx
    t_start = time.time()
    log(f"[{name}] building model (seed {seed}) and accumulating BatchNorm statistics")
    model = build_model(name, seed)
    log(f"[{name}] {sum(p.numel() for p in model.parameters())} parameters")

    rng = np.random.default_rng(seed + 100)
    calib = synthetic_images(rng, N_CALIB)
    heldout = synthetic_images(rng, N_HELDOUT)
    mdir = os.path.join(out, name)
    write_samples(os.path.join(mdir, "calib"), "calib", calib)
    write_samples(os.path.join(mdir, "heldout"), "heldout", heldout)
    log(f"[{name}] wrote {mdir}/calib/ ({N_CALIB} samples) and {mdir}/heldout/ "
        f"({N_HELDOUT} samples), float32 [1,3,{SIZE},{SIZE}]")

    ref_out = run_batched(model, heldout)
    save_npz_deterministic(os.path.join(mdir, "heldout_float.npz"), logits=ref_out)
    log(f"[{name}] wrote {mdir}/heldout_float.npz (logits {list(ref_out.shape)}; "
        f"top-1 classes {ref_out.argmax(1).tolist()})")

    onnx_path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, torch.from_numpy(heldout[:1]), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    log(f"[{name}] wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB), ops: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(ops.items())))

    if not skip_quant:
        log(f"[{name}] PyTorch FX static quantization (engine onednn)")
        res = fx_quantize(name, model, calib, heldout, ref_out)
        with open(os.path.join(mdir, "pytorch_int8.json"), "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
        if res["status"] == "ok":
            log(f"[{name}] FX int8 vs float cosine: mean {res['cosine_mean']:.5f}, "
                f"min {res['cosine_min']:.5f}, top-1 agreement {res['top1_agreement']:.3f}")
        else:
            log(f"[{name}] FX quantization FAILED: {res['error']}")
        log(f"[{name}] wrote {mdir}/pytorch_int8.json")
    log(f"[{name}] done in {time.time() - t_start:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("benchmarks", "models"))
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of " + ",".join(MODELS))
    ap.add_argument("--skip-quant", action="store_true", help="skip the PyTorch FX int8 baseline")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n}; known: {list(MODELS)}")
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        export_one(n, MODELS[n], args.out, args.skip_quant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
