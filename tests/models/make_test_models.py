#!/usr/bin/python3
"""Generate octet's small ONNX test models, with calibration data and reference outputs.

Run from the repository root with Debian's interpreter (it has torch and onnx):

    /usr/bin/python3 tests/models/make_test_models.py [NAME ...]

With no NAME every model is (re)generated. For each model, tests/models/<name>/ gets:

    model.onnx      the exported model (one graph input "input", one output "output";
                    the batch dimension is symbolic: "batch")
    calib/calib_NNN.npy   16 calibration samples, float32, batch 1 each
    input.npy       one held-out input (batch 2), not among the calibration samples
    expected.npy    the PyTorch float32 output for input.npy (eval mode)

Models (weights are random but seeded; every BatchNorm first gets realistic running
statistics from a few batches of synthetic inputs in train mode, so activations have
realistic ranges):

    tiny_resnet     conv7x7/s2-BN-ReLU stem, maxpool 3x3/s2, two basic residual blocks (the
                    second with a strided 1x1 projection shortcut), GAP, flatten, linear.
                    Input [N,3,32,32], opset 13.
    tiny_mobilenet  MobileNetV2/V3 style: depthwise convs, ReLU6, Hardswish, inverted
                    residuals with add, squeeze-excitation (HardSigmoid, Mul), grouped conv
                    (groups=4), dilated conv (dilation 2), GAP, linear. [N,3,32,32], opset 13.
    ops_zoo         Concat, Slice (with step), Pad (constant and reflect), nearest and
                    bilinear Resize, ConvTranspose (stride 2, output_padding), AveragePool
                    with count_include_pad 1 and 0, LeakyRelu, Sigmoid, Tanh, Sub/Div by
                    constants, ReduceMean, Flatten, Softmax. [N,3,16,16], opset 13.
    train_mode_bn   a small conv net whose ONNX keeps un-folded BatchNormalization nodes
                    (inference form: running statistics). [N,3,16,16], opset 13.
    tiny_opset9/11/13/17  one conv+BN+Clip(ReLU6)+Slice+reshape/flatten+Gemm+Squeeze+Softmax
                    model exported at opsets 9, 11, 13 and 17 (opset 9/11 use the attribute
                    forms of Clip/Slice/Squeeze/Softmax). [N,3,16,16].
    mlp             Linear-ReLU-(x @ W + b)-GELU-Linear on [N,64] (Gemm, MatMul+Add, Erf
                    pattern), opset 13.

It also writes tests/models/README.md (op-type counts read back from each ONNX graph).
All outputs are deterministic: running the script twice gives identical files.
"""
import os
import sys
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
N_CALIB = 16
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


# ---- synthetic inputs ------------------------------------------------------------------------
def smooth_images(rng, n, c, h, w):
    """Smooth random 'images' in [0,1] (low-res noise upsampled + fine noise), ImageNet-normalized
    for 3 channels. Returns float32 [n,c,h,w]."""
    out = np.empty((n, c, h, w), np.float32)
    for i in range(n):
        img = np.zeros((c, h, w), np.float32)
        for cells, amp in ((2, 0.5), (4, 0.3), (8, 0.15)):
            coarse = rng.uniform(-1, 1, size=(1, c, cells, cells)).astype(np.float32)
            up = F.interpolate(torch.from_numpy(coarse), size=(h, w), mode="bilinear",
                               align_corners=False)[0].numpy()
            img += amp * up
        img += 0.05 * rng.standard_normal((c, h, w)).astype(np.float32)
        img = 0.5 + 0.5 * img / max(1e-6, float(np.abs(img).max()))
        out[i] = np.clip(img * rng.uniform(0.6, 1.0) + rng.uniform(0.0, 0.2), 0.0, 1.0)
    if c == 3:
        out = (out - IMAGENET_MEAN) / IMAGENET_STD
    return out.astype(np.float32)


def feature_vectors(rng, n, d):
    """Correlated, mostly-Gaussian feature vectors with a few larger components. [n,d]."""
    mix = rng.standard_normal((d, d)).astype(np.float32) / np.sqrt(d)
    scale = np.linspace(0.5, 2.0, d, dtype=np.float32)
    z = rng.standard_normal((n, d)).astype(np.float32)
    return ((z @ mix) * scale + 0.1).astype(np.float32)


# ---- models ----------------------------------------------------------------------------------
def cbr(cin, cout, k=3, s=1, p=None, g=1, d=1, act=nn.ReLU):
    if p is None:
        p = d * (k - 1) // 2
    layers = [nn.Conv2d(cin, cout, k, s, p, dilation=d, groups=g, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = cbr(cin, cout, 3, stride)
        self.c2 = cbr(cout, cout, 3, 1, act=None)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = cbr(cin, cout, 1, stride, 0, act=None)

    def forward(self, x):
        skip = x if self.proj is None else self.proj(x)
        return F.relu(self.c2(self.c1(x)) + skip)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(3, 16, 7, 2, 3)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.b1 = BasicBlock(16, 16, 1)
        self.b2 = BasicBlock(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.b2(self.b1(self.pool(self.stem(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class SqueezeExcite(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, expand, stride, act, se):
        super().__init__()
        mid = cin * expand
        self.expand = cbr(cin, mid, 1, act=act)
        self.dw = cbr(mid, mid, 3, stride, g=mid, act=act)
        self.se = SqueezeExcite(mid) if se else nn.Identity()
        self.project = cbr(mid, cout, 1, act=None)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.use_res else y


class TinyMobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(3, 16, 3, 2, act=nn.Hardswish)                        # 16x16
        self.dw_sep = nn.Sequential(cbr(16, 16, 3, g=16, act=nn.ReLU6),        # depthwise
                                    cbr(16, 16, 1, act=None))                  # pointwise
        self.ir1 = InvertedResidual(16, 16, 4, 1, nn.ReLU6, se=True)           # residual add + SE
        self.ir2 = InvertedResidual(16, 24, 3, 2, nn.Hardswish, se=False)      # 8x8
        self.grouped = cbr(24, 32, 3, g=4, act=nn.ReLU)
        self.dilated = cbr(32, 32, 3, d=2, act=nn.Hardswish)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = self.dw_sep(x)
        x = self.ir1(x)
        x = self.ir2(x)
        x = self.dilated(self.grouped(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class OpsZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.ca = nn.Conv2d(3, 8, 3, padding=1)
        self.cb = nn.Conv2d(3, 4, 1)
        self.cc = nn.Conv2d(3, 4, 1)
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.mix = nn.Conv2d(40, 8, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):                                                     # [N,3,16,16]
        a = F.leaky_relu(self.ca(x), 0.1)
        b = torch.sigmoid(self.cb(x))
        c = torch.tanh(self.cc(x))
        y = torch.cat([a, b, c], dim=1)                                       # [N,16,16,16]
        y = y[:, :, 1:-1, ::2]                                                # [N,16,14,8]
        y = F.pad(y, (0, 0, 1, 1), mode="reflect")                            # [N,16,16,8]
        y = F.pad(y, (4, 4, 0, 0), mode="constant", value=0.25)               # [N,16,16,16]
        d = F.avg_pool2d(y, 3, 2, 1, count_include_pad=True)                  # [N,16,8,8]
        e = F.avg_pool2d(y, 3, 2, 1, count_include_pad=False)                 # [N,16,8,8]
        u1 = F.interpolate(d, scale_factor=2.0, mode="nearest")               # [N,16,16,16]
        u2 = F.interpolate(e, scale_factor=2.0, mode="bilinear", align_corners=False)
        t = self.up(d)                                                        # [N,8,16,16]
        m = torch.cat([u1, u2, t], dim=1)                                     # [N,40,16,16]
        m = (m - 0.5) / 2.0
        m = F.leaky_relu(self.mix(m), 0.2)
        m = m.mean(dim=(2, 3), keepdim=True)                                  # [N,8,1,1]
        m = torch.flatten(m, 1)
        return F.softmax(self.fc(m), dim=1)


class TrainModeBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = cbr(3, 8, 3)
        self.c2 = cbr(8, 16, 3, 2)
        self.c3 = cbr(16, 16, 3)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.c3(self.c2(self.c1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class TinyOpset(nn.Module):
    """Ops chosen for their opset-dependent forms: Clip (attr -> inputs at 11), Slice (attr ->
    inputs at 10), Squeeze (attr -> input at 13), Softmax (2-D coercion -> axis at 13)."""

    def __init__(self):
        super().__init__()
        self.c1 = cbr(3, 8, 3, act=nn.ReLU6)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2)
        self.fc_a = nn.Linear(8 * 6 * 6, 10)
        self.fc_b = nn.Linear(8, 10)

    def forward(self, x):                                                     # [N,3,16,16]
        x = self.c1(x)
        x = x[:, :, 1:-1, 1:-1]                                               # [N,8,14,14]
        x = torch.clamp(self.c2(x), 0.0, 6.0)                                 # [N,8,6,6]
        a = self.fc_a(x.reshape(x.shape[0], -1))                              # Shape..Reshape
        s = F.adaptive_avg_pool2d(x, 1).squeeze(3).squeeze(2)                 # Squeeze
        b = self.fc_b(torch.flatten(s, 1))
        return F.softmax(a + b, dim=1)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.w2 = nn.Parameter(torch.randn(128, 96) / np.sqrt(128))
        self.b2 = nn.Parameter(0.1 * torch.randn(96))
        self.fc3 = nn.Linear(96, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))          # Gemm
        x = F.gelu(x @ self.w2 + self.b2)  # MatMul + Add, GELU -> Div/Erf/Add/Mul/Mul
        return self.fc3(x)               # Gemm


# ---- spec table ------------------------------------------------------------------------------
# name: (model class, input shape without batch, opset, seed, export options)
IMAGE_32 = (3, 32, 32)
IMAGE_16 = (3, 16, 16)
SPECS = {
    "tiny_resnet": (TinyResNet, IMAGE_32, 13, 101, {}),
    "tiny_mobilenet": (TinyMobileNet, IMAGE_32, 13, 102, {}),
    "ops_zoo": (OpsZoo, IMAGE_16, 13, 103, {}),
    "train_mode_bn": (TrainModeBN, IMAGE_16, 13, 104, {"keep_bn": True}),
    "tiny_opset9": (TinyOpset, IMAGE_16, 9, 105, {}),
    "tiny_opset11": (TinyOpset, IMAGE_16, 11, 105, {}),
    "tiny_opset13": (TinyOpset, IMAGE_16, 13, 105, {}),
    "tiny_opset17": (TinyOpset, IMAGE_16, 17, 105, {}),
    "mlp": (MLP, (64,), 13, 106, {}),
}


def make_inputs(seed, shape, n):
    rng = np.random.default_rng(seed)
    if len(shape) == 3:
        return smooth_images(rng, n, *shape)
    return feature_vectors(rng, n, shape[0])


def init_model(cls, seed, shape):
    """Seeded random weights; BatchNorm gets random affine params and running statistics
    accumulated (cumulative average) over 8 batches of synthetic inputs in train mode."""
    torch.manual_seed(seed)
    model = cls()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.1)
            bn.momentum = None
            bn.reset_running_stats()
        if bns:
            model.train()
            stats_inputs = make_inputs(seed + 5000, shape, 8 * 16)
            for i in range(8):
                model(torch.from_numpy(stats_inputs[i * 16:(i + 1) * 16]))
    model.eval()
    return model


def op_counts(onnx_model):
    return Counter(n.op_type for n in onnx_model.graph.node)


def export(model, sample, path, opset, keep_bn):
    kwargs = dict(opset_version=opset, input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    if keep_bn:
        # In torch 1.13 eval-mode export always fuses BN into Conv (even with
        # do_constant_folding=False), and TrainingMode.TRAINING exports BN in its training
        # form (5 outputs, batch statistics). TrainingMode.PRESERVE on a model in eval mode
        # keeps BatchNormalization in inference form (running statistics, 1 output).
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
        kwargs["do_constant_folding"] = False
    torch.onnx.export(model, sample, path, **kwargs)


def make(name):
    import onnx
    cls, shape, opset, seed, opts = SPECS[name]
    out_dir = os.path.join(HERE, name)
    calib_dir = os.path.join(out_dir, "calib")
    os.makedirs(calib_dir, exist_ok=True)

    model = init_model(cls, seed, shape)
    data = make_inputs(seed, shape, N_CALIB + 2)
    calib, held = data[:N_CALIB], data[N_CALIB:]

    onnx_path = os.path.join(out_dir, "model.onnx")
    try:
        export(model, torch.from_numpy(held), onnx_path, opset, opts.get("keep_bn", False))
    except Exception as e:  # report and carry on with the other models
        print(f"[{name}] EXPORT FAILED at opset {opset}: {type(e).__name__}: {e}")
        return None
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    counts = op_counts(m)
    if opts.get("keep_bn"):
        bn_nodes = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
        assert bn_nodes, "expected BatchNormalization nodes in the exported graph"
        for n in bn_nodes:
            assert len(n.output) == 1, "BatchNormalization exported in training form"
            for a in n.attribute:
                assert not (a.name == "training_mode" and a.i != 0), "training_mode=1"

    for f in os.listdir(calib_dir):
        if f.startswith("calib_") and f.endswith(".npy"):
            os.remove(os.path.join(calib_dir, f))
    for i in range(N_CALIB):
        np.save(os.path.join(calib_dir, f"calib_{i:03d}.npy"), calib[i:i + 1])
    np.save(os.path.join(out_dir, "input.npy"), held)
    with torch.no_grad():
        expected = model(torch.from_numpy(held)).numpy().astype(np.float32)
    np.save(os.path.join(out_dir, "expected.npy"), expected)

    size = os.path.getsize(onnx_path)
    print(f"[{name}] wrote {os.path.relpath(out_dir)}/: model.onnx ({size} bytes, opset {opset}), "
          f"calib/ ({N_CALIB} x {list(calib[:1].shape)}), input.npy {list(held.shape)}, "
          f"expected.npy {list(expected.shape)}")
    print(f"[{name}]   ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    n_params = sum(p.numel() for p in model.parameters())
    return dict(name=name, opset=opset, shape=shape, size=size, counts=counts,
                params=n_params, out_shape=list(expected.shape[1:]))


README_HEAD = """# Small ONNX test models

Generated by `make_test_models.py` (weights are random but seeded; BatchNorm layers have
running statistics from synthetic inputs). Regenerate everything with

    /usr/bin/python3 tests/models/make_test_models.py

or only some models with `... make_test_models.py tiny_resnet mlp`. The output is deterministic.

Each directory holds `model.onnx` (input `input`, output `output`, symbolic batch dimension
`batch`), `calib/calib_000.npy..calib_015.npy` (16 calibration samples, batch 1),
`input.npy` (a held-out input, batch 2) and `expected.npy` (the PyTorch float32 output for
`input.npy`). Image inputs are smooth synthetic images normalized with the ImageNet mean/std.

`train_mode_bn` keeps its BatchNormalization nodes (inference form, running statistics): it is
exported with `training=TrainingMode.PRESERVE` from a model in eval mode, because torch 1.13
folds BN into Conv in eval export even with `do_constant_folding=False`, and
`TrainingMode.TRAINING` exports the training form (batch statistics, 5 outputs).
`tiny_opset9/11/13/17` are the same model and weights exported at four opsets (opset 9 uses the
attribute forms of Clip, Slice, Squeeze and Unsqueeze, opset 11 still those of Squeeze and
Unsqueeze; Softmax before opset 13 has the 2-D coercion semantics). In `ops_zoo`, torch exports each reflect/constant `F.pad` with its pads
computed by a small constant subgraph (ConstantOfShape, Concat, Reshape, Slice, Transpose,
Cast); a converter has to constant-fold it. `count_include_pad=True` average pooling is
exported as an explicit `Pad` followed by `AveragePool` with zero pads.

`onnx_numpy_eval.py` is an independent NumPy evaluator for these graphs (onnx 1.12 has no
`onnx.reference`): `/usr/bin/python3 tests/models/onnx_numpy_eval.py` checks every
`model.onnx` against its `expected.npy` (and the digits example's held-out accuracy).

| model | opset | input (no batch) | output | params | ONNX bytes | op types (count) |
| --- | --- | --- | --- | --- | --- | --- |
"""


def write_readme(results):
    # Merge with rows already in the README for models not regenerated this time.
    path = os.path.join(HERE, "README.md")
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("| `"):
                rows[line.split("`")[1]] = line
    for r in results:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
        rows[r["name"]] = (f"| `{r['name']}` | {r['opset']} | {list(r['shape'])} | {r['out_shape']} "
                           f"| {r['params']} | {r['size']} | {ops} |\n")
    with open(path, "w") as f:
        f.write(README_HEAD)
        for name in SPECS:
            if name in rows:
                f.write(rows[name])
    print(f"wrote {os.path.relpath(path)}")


def main(argv):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = argv or list(SPECS)
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        print(f"unknown model(s): {unknown}; known: {list(SPECS)}")
        return 2
    results, failed = [], []
    for name in names:
        r = make(name)
        (results if r else failed).append(r or name)
    write_readme(results)
    if failed:
        print(f"FAILED: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
