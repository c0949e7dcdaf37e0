#!/usr/bin/python3
"""Export a corpus of torchvision models to ONNX the way users do (dynamic axes, opset 17),
with calibration / held-out data, to exercise octet's converter on real-world graphs.

Run from the repository root with Debian's interpreter (torch 1.13, torchvision 0.14, onnx 1.12;
not the python3 on PATH):

    /usr/bin/python3 benchmarks/corpus/export_torchvision.py [--out build/corpus/torchvision]
        [--models mobilenet_v3_large,...] [--force] [--threads 1]

Models (torchvision.models constructors, weights=None, default num_classes):

    classification, input "input" [batch,3,224,224] (inception_v3: 299), output "logits"
    [batch,1000], batch symbolic:
        mobilenet_v3_large efficientnet_b0 convnext_tiny regnet_y_400mf shufflenet_v2_x1_0
        squeezenet1_1 densenet121 googlenet inception_v3 vit_b_16 swin_t
        (googlenet and inception_v3 with aux_logits=False, init_weights=True)
    segmentation (torchvision.models.segmentation, weights_backbone=None), input "input"
    [batch,3,520,520], output "out" [batch,21,height,width] (the model's "out" entry only; the
    model is wrapped), batch, height and width symbolic:
        deeplabv3_mobilenet_v3_large lraspp_mobilenet_v3_large
    detection (torchvision.models.detection, weights_backbone=None), wrapped so that the ONNX
    input is a single image "input" [3,height,width] in [0,1] (the model's list of one image)
    and the outputs are "boxes" [num_detections,4], "scores" [num_detections] and "labels"
    [num_detections] of that image; height and width symbolic; traced with a 320x320 image:
        ssdlite320_mobilenet_v3_large fasterrcnn_mobilenet_v3_large_320_fpn

No pretrained weights are downloaded: weights are random but seeded (one seed per model, see
MODELS). As in benchmarks/export_zoo.py, every BatchNorm layer first gets random affine
parameters (gamma ~ U(0.5,1.5), beta ~ N(0,0.1)) and non-trivial running statistics,
accumulated (momentum=None, i.e. cumulative average) over 20 batches of 8 synthetic images run
through the model in train mode; then the model is put in eval mode. Detection models cannot run
in train mode without targets, so for them the model is in eval mode and only the BatchNorm
layers are in train mode while the statistics accumulate. Models without BatchNorm (convnext,
vit, swin, squeezenet) skip this step. Two torchvision initializations that no trained model
has are replaced first (meta.json "reinitialized" lists them): parameters of rank >= 2 that are
all zeros (vit_b_16's class token and classifier head, which would make every logit 0) get a
truncated N(0, 0.02), and ConvNeXt's layer_scale (1e-6, which makes every block an identity)
gets U(0.1, 0.5). Activations therefore have realistic ranges.

Synthetic "images" come from export_zoo.synthetic_images (imported, not copied): smooth
multi-octave random fields (1/f-like noise with correlated colour channels) in [0,1],
normalized with the ImageNet mean/std. Detection models take raw [0,1] images (torchvision's
detection models normalize and resize internally), so their samples are the same fields
without the normalization.

Export: torch.onnx.export, eval mode, do_constant_folding=True, opset 17; if that fails, 16, 15,
... down to 11, and the first that works is used (meta.json records the attempts). The file is
checked with onnx.checker.

For each model NAME, writes into --out (default build/corpus/torchvision/, gitignored):

    NAME.onnx                     the exported model
    NAME/calib/calib_NNN.npy      16 calibration samples: float32 [1,3,H,W] (detection:
                                  [3,H,W] in [0,1])
    NAME/heldout/heldout_NNN.npy  4 held-out samples, same format
    NAME/heldout_float.npz        PyTorch float outputs of the held-out samples: classification
                                  "logits" [4,1000]; segmentation "out" [4,21,H,W]; detection
                                  "boxes_NNN", "scores_NNN", "labels_NNN" per sample
    NAME/meta.json                status ("ok" / "failed" + error and traceback), opset used and
                                  opset attempts, ONNX inputs/outputs with their (symbolic)
                                  dims, op histogram, seed, parameter count, BatchNorm
                                  recalibration / export / total seconds, ONNX file size,
                                  torch / torchvision / onnx versions

An existing NAME.onnx (with its meta.json) is skipped unless --force, so reruns are cheap. Each
model is independent: an exception is caught, printed as one line "NAME: export failed: ...",
recorded in NAME/meta.json, and the script goes on with the next model. One progress line per
model; exit status 1 if any model failed.
"""
import argparse
import json
import os
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))          # benchmarks/, for export_zoo

import numpy as np
import torch
import torch.nn as nn

from export_zoo import (BN_BATCHES, BN_BATCH_SIZE, IMAGENET_MEAN, IMAGENET_STD,  # noqa: E402
                        save_npz_deterministic, synthetic_images, write_samples)

N_CALIB = 16
N_HELDOUT = 4
OPSETS = [17, 16, 15, 14, 13, 12, 11]

# name -> (kind, seed, (H, W), extra constructor kwargs)
MODELS = {
    "mobilenet_v3_large": ("cls", 2001, (224, 224), {}),
    "efficientnet_b0": ("cls", 2002, (224, 224), {}),
    "convnext_tiny": ("cls", 2003, (224, 224), {}),
    "regnet_y_400mf": ("cls", 2004, (224, 224), {}),
    "shufflenet_v2_x1_0": ("cls", 2005, (224, 224), {}),
    "squeezenet1_1": ("cls", 2006, (224, 224), {}),
    "densenet121": ("cls", 2007, (224, 224), {}),
    "googlenet": ("cls", 2008, (224, 224), {"aux_logits": False, "init_weights": True}),
    "inception_v3": ("cls", 2009, (299, 299), {"aux_logits": False, "init_weights": True}),
    "vit_b_16": ("cls", 2010, (224, 224), {}),
    "swin_t": ("cls", 2011, (224, 224), {}),
    "deeplabv3_mobilenet_v3_large": ("seg", 2012, (520, 520), {"weights_backbone": None}),
    "lraspp_mobilenet_v3_large": ("seg", 2013, (520, 520), {"weights_backbone": None}),
    "ssdlite320_mobilenet_v3_large": ("det", 2014, (320, 320), {"weights_backbone": None}),
    "fasterrcnn_mobilenet_v3_large_320_fpn": ("det", 2015, (320, 320),
                                              {"weights_backbone": None}),
}


def log(msg):
    print(msg, flush=True)


class SegmentationOut(nn.Module):
    """torchvision segmentation model -> its "out" tensor only."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class DetectionOut(nn.Module):
    """torchvision detection model on one [3,H,W] image -> (boxes, scores, labels)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        d = self.model([x])[0]
        return d["boxes"], d["scores"], d["labels"]


def images(rng, kind, n, hw):
    """n synthetic images: [n,3,H,W] ImageNet-normalized, or in [0,1] for detection."""
    assert hw[0] == hw[1], "export_zoo.synthetic_images makes square images"
    x = synthetic_images(rng, n, hw[0])
    if kind == "det":
        x = np.clip(x * IMAGENET_STD + IMAGENET_MEAN, 0.0, 1.0).astype(np.float32)
    return x


def build_model(name):
    """Seeded random model with recalibrated BatchNorm, in eval mode, wrapped for export."""
    import torchvision
    kind, seed, hw, kwargs = MODELS[name]
    torch.manual_seed(seed)
    module = {"cls": torchvision.models, "seg": torchvision.models.segmentation,
              "det": torchvision.models.detection}[kind]
    model = getattr(module, name)(weights=None, **kwargs)
    reinit = []
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.dim() >= 2 and not p.any():        # ViT: class token and head are zeros
                nn.init.trunc_normal_(p, std=0.02)
                reinit.append(pname)
        for mname, m in model.named_modules():      # ConvNeXt: layer_scale = 1e-6
            if isinstance(getattr(m, "layer_scale", None), nn.Parameter):
                m.layer_scale.uniform_(0.1, 0.5)
                reinit.append(mname + ".layer_scale")
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.1)
            bn.momentum = None          # cumulative moving average
            bn.reset_running_stats()
    t0 = time.time()
    if bns:
        rng = np.random.default_rng(seed + 7)
        if kind == "det":
            model.eval()                # train mode needs targets
            for bn in bns:
                bn.train()
        else:
            model.train()
        with torch.no_grad():
            for _ in range(BN_BATCHES):
                x = torch.from_numpy(images(rng, kind, BN_BATCH_SIZE, hw))
                model(list(x) if kind == "det" else x)
        for bn in bns:
            bn.momentum = 0.1
    bn_seconds = time.time() - t0
    model.eval()
    if kind == "seg":
        model = SegmentationOut(model).eval()
    elif kind == "det":
        model = DetectionOut(model).eval()
    return model, len(bns), bn_seconds, reinit


def write_images(directory, prefix, x, kind):
    if kind != "det":
        write_samples(directory, prefix, x)          # [1,3,H,W] each
        return
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        if f.startswith(prefix + "_") and f.endswith(".npy"):
            os.remove(os.path.join(directory, f))
    for i in range(len(x)):
        np.save(os.path.join(directory, f"{prefix}_{i:03d}.npy"), x[i])   # [3,H,W]


def reference_outputs(model, kind, heldout):
    with torch.no_grad():
        if kind == "det":
            out = {}
            for i in range(len(heldout)):
                boxes, scores, labels = model(torch.from_numpy(heldout[i]))
                out[f"boxes_{i:03d}"] = boxes.numpy()
                out[f"scores_{i:03d}"] = scores.numpy()
                out[f"labels_{i:03d}"] = labels.numpy()
            return out
        y = np.concatenate([model(torch.from_numpy(heldout[i:i + 1])).numpy()
                            for i in range(len(heldout))])
        return {"logits" if kind == "cls" else "out": y.astype(np.float32)}


def export_args(kind):
    if kind == "cls":
        return ["input"], ["logits"], {"input": {0: "batch"}, "logits": {0: "batch"}}
    if kind == "seg":
        d = {0: "batch", 2: "height", 3: "width"}
        return ["input"], ["out"], {"input": d, "out": d}
    n = {0: "num_detections"}
    return (["input"], ["boxes", "scores", "labels"],
            {"input": {1: "height", 2: "width"}, "boxes": n, "scores": n, "labels": n})


def value_infos(values):
    import onnx
    res = []
    for v in values:
        t = v.type.tensor_type
        dims = [d.dim_param if d.HasField("dim_param") else
                (d.dim_value if d.HasField("dim_value") else None) for d in t.shape.dim]
        res.append({"name": v.name, "dtype": onnx.TensorProto.DataType.Name(t.elem_type),
                    "shape": dims})
    return res


def one_line(e):
    msg = " ".join(str(e).split())
    if len(msg) > 300:
        msg = msg[:297] + "..."
    return f"{type(e).__name__}: {msg}"


def export_one(name, out, meta):
    import onnx
    kind, seed, hw, _ = MODELS[name]
    t0 = time.time()
    model, n_bn, bn_seconds, reinit = build_model(name)
    meta.update({"reinitialized": reinit,
                 "parameters": int(sum(p.numel() for p in model.parameters())),
                 "batchnorm_layers": n_bn, "bn_seconds": round(bn_seconds, 2),
                 "build_seconds": round(time.time() - t0, 2)})

    rng = np.random.default_rng(seed + 100)
    calib = images(rng, kind, N_CALIB, hw)
    heldout = images(rng, kind, N_HELDOUT, hw)
    mdir = os.path.join(out, name)
    write_images(os.path.join(mdir, "calib"), "calib", calib, kind)
    write_images(os.path.join(mdir, "heldout"), "heldout", heldout, kind)
    sample_shape = [3, hw[0], hw[1]] if kind == "det" else [1, 3, hw[0], hw[1]]
    meta["samples"] = {"calib": N_CALIB, "heldout": N_HELDOUT, "dtype": "float32",
                       "shape": sample_shape,
                       "values": "[0,1]" if kind == "det" else "ImageNet-normalized"}
    ref = reference_outputs(model, kind, heldout)
    save_npz_deterministic(os.path.join(mdir, "heldout_float.npz"), **ref)
    if kind == "det":
        meta["heldout_detections"] = [int(len(ref[f"scores_{i:03d}"]))
                                      for i in range(N_HELDOUT)]

    inames, onames, dyn = export_args(kind)
    example = torch.from_numpy(heldout[0] if kind == "det" else heldout[:1])
    onnx_path = os.path.join(out, name + ".onnx")
    tmp = onnx_path + ".tmp.onnx"
    attempts = []
    meta["opset_attempts"] = attempts
    for opset in OPSETS:
        t1 = time.time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (example,), tmp, opset_version=opset,
                                  do_constant_folding=True, input_names=inames,
                                  output_names=onames, dynamic_axes=dyn)
            onnx.checker.check_model(tmp)
        except Exception as e:                          # try the next lower opset
            attempts.append({"opset": opset, "error": one_line(e)})
            if os.path.exists(tmp):
                os.remove(tmp)
            continue
        attempts.append({"opset": opset, "error": None})
        meta["export_seconds"] = round(time.time() - t1, 2)
        os.replace(tmp, onnx_path)
        break
    else:
        raise RuntimeError(f"no opset in {OPSETS[0]}..{OPSETS[-1]} works; opset "
                           f"{attempts[0]['opset']}: {attempts[0]['error']}")
    m = onnx.load(onnx_path, load_external_data=False)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    meta.update({"opset": opset, "onnx_bytes": os.path.getsize(onnx_path),
                 "inputs": value_infos(m.graph.input), "outputs": value_infos(m.graph.output),
                 "nodes": len(m.graph.node), "ops": dict(sorted(ops.items()))})
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("build", "corpus", "torchvision"))
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of " + ",".join(MODELS))
    ap.add_argument("--force", action="store_true", help="re-export models that exist")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n}; known: {list(MODELS)}")
    os.makedirs(args.out, exist_ok=True)
    import onnx
    import torchvision
    failed = []
    t_all = time.time()
    for name in names:
        onnx_path = os.path.join(args.out, name + ".onnx")
        meta_path = os.path.join(args.out, name, "meta.json")
        if not args.force and os.path.exists(onnx_path) and os.path.exists(meta_path):
            log(f"{name}: exists, skipped (use --force to re-export)")
            continue
        kind, seed, hw, kwargs = MODELS[name]
        meta = {"model": name, "kind": kind, "seed": seed, "input_hw": list(hw),
                "constructor_kwargs": {"weights": None, **kwargs},
                "torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
                "onnx_version": onnx.__version__}
        t0 = time.time()
        try:
            export_one(name, args.out, meta)
            meta["status"] = "ok"
        except Exception as e:
            meta.update({"status": "failed", "error": one_line(e),
                         "traceback": traceback.format_exc()})
        meta["total_seconds"] = round(time.time() - t0, 2)
        os.makedirs(os.path.dirname(meta_path), exist_ok=True)
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        if meta["status"] == "ok":
            log(f"{name}: ok, opset {meta['opset']}, {meta['onnx_bytes'] / 1e6:.1f} MB, "
                f"{meta['nodes']} nodes, {meta['total_seconds']:.1f} s "
                f"(export {meta['export_seconds']:.1f} s)")
        else:
            failed.append(name)
            if os.path.exists(onnx_path):       # don't leave a stale model behind a failure
                os.remove(onnx_path)
            log(f"{name}: export failed: {meta['error']} ({meta['total_seconds']:.1f} s)")
    log(f"{len(names) - len(failed)}/{len(names)} models ok in {time.time() - t_all:.0f} s"
        + (f"; failed: {','.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
