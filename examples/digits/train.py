#!/usr/bin/python3
"""Train the octet demo model on scikit-learn's 8x8 digits and export it to ONNX.

Run from the repository root with Debian's interpreter (it has torch, onnx and sklearn):

    /usr/bin/python3 examples/digits/train.py

Data: sklearn.datasets.load_digits (1797 images 8x8, values 0..16), scaled to [0, 1] and
shaped float32 [N, 1, 8, 8]. A fixed permutation (seed SEED) holds out 360 samples; the other
1437 are for training.

Model (about 1 M parameters): bilinear upsample 8x8 -> 32x32 (F.interpolate,
align_corners=False, exported as an ONNX Resize), then Conv-BatchNorm-ReLU blocks with
32/64/128/192 channels, three residual blocks (conv output + skip, then ReLU), max pooling,
global average pooling and a Linear classifier to 10 classes. Trained with Adam and light
augmentation (random shifts of up to one pixel).

Writes (all deterministic: running twice gives identical files):
    examples/digits/digits.onnx     eval-mode ONNX, opset 13, input "input" [batch,1,8,8],
                                    output "logits" [batch,10] (BatchNorm folded into Conv)
    examples/digits/calib/calib_NNN.npy   200 training samples, float32 [1,1,8,8]
    examples/digits/heldout.npz     x: float32 [360,1,8,8], y: int64 [360]

The README.md next to this script is written by hand (not by this script).
"""
import io
import os
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240607
N_HELDOUT = 360
N_CALIB = 200
EPOCHS = 12
BATCH = 64

HERE = os.path.dirname(os.path.abspath(__file__))


def save_npz_deterministic(path, **arrays):
    """Like np.savez, but with a fixed zip timestamp so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))


class ResBlock(nn.Module):
    """Two 3x3 Conv-BN, the second's output added to the input, then ReLU."""

    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c)

    def forward(self, x):
        y = F.relu(self.a(x))
        return F.relu(self.b(y) + x)


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 32)        # 32x32
        self.c2 = conv_bn(32, 64)         # 32x32 -> pool -> 16x16
        self.r2 = ResBlock(64)            # 16x16
        self.c3 = conv_bn(64, 128)        # 16x16 -> pool -> 8x8
        self.r3a = ResBlock(128)          # 8x8
        self.r3b = ResBlock(128)          # 8x8
        self.c4 = conv_bn(128, 192)       # 8x8 -> pool -> 4x4
        self.fc = nn.Linear(192, 10)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=4.0, mode="bilinear", align_corners=False)
        x = F.relu(self.stem(x))
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = self.r2(x)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = self.r3b(self.r3a(x))
        x = F.max_pool2d(F.relu(self.c4(x)), 2)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def load_split():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(SEED).permutation(len(y))
    held, train = perm[:N_HELDOUT], perm[N_HELDOUT:]
    return x[train], y[train], x[held], y[held]


def augment(xb, gen):
    """Random shift by -1..1 pixels in each direction (zero fill)."""
    n = xb.shape[0]
    padded = F.pad(xb, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), generator=gen)
    dx = torch.randint(0, 3, (n,), generator=gen)
    out = torch.empty_like(xb)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
    return out


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
    return float((logits.argmax(1).numpy() == y).mean()), logits.numpy()


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)

    xtr, ytr, xho, yho = load_split()
    print(f"digits: {len(ytr)} training, {len(yho)} held-out samples")

    model = DigitsNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters")

    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps_per_epoch = (len(ytr) + BATCH - 1) // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, epochs=EPOCHS,
                                                steps_per_epoch=steps_per_epoch)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(yt), generator=gen)
        total = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * BATCH:(s + 1) * BATCH]
            xb = augment(xt[idx], gen)
            loss = F.cross_entropy(model(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        acc, _ = accuracy(model, xho, yho)
        print(f"epoch {epoch + 1:2d}/{EPOCHS}: train loss {total / len(yt):.4f}, "
              f"held-out acc {acc * 100:.2f}%  ({time.time() - t0:.0f} s)")

    model.eval()
    acc, torch_logits = accuracy(model, xho, yho)
    print(f"PyTorch float held-out accuracy: {acc * 100:.2f}% ({int(round(acc * len(yho)))}/{len(yho)})")

    # ---- export -------------------------------------------------------------------------
    onnx_path = os.path.join(HERE, "digits.onnx")
    torch.onnx.export(model, torch.from_numpy(xho[:1]), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"wrote {os.path.relpath(onnx_path)} ({os.path.getsize(onnx_path)} bytes), ops: "
          + ", ".join(f"{k}x{v}" for k, v in sorted(ops.items())))

    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
        ref = ReferenceEvaluator(m)
        (out,) = ref.run(None, {"input": xho})
        racc = float((out.argmax(1) == yho).mean())
        print(f"onnx reference evaluator held-out accuracy: {racc * 100:.2f}%, "
              f"max |diff| vs PyTorch {np.abs(out - torch_logits).max():.3g}")
    except ImportError:
        print(f"onnx {onnx.__version__} has no onnx.reference; skipping the ONNX-side accuracy check")

    calib_dir = os.path.join(HERE, "calib")
    os.makedirs(calib_dir, exist_ok=True)
    for f in os.listdir(calib_dir):
        if f.startswith("calib_") and f.endswith(".npy"):
            os.remove(os.path.join(calib_dir, f))
    for i in range(N_CALIB):
        np.save(os.path.join(calib_dir, f"calib_{i:03d}.npy"), np.ascontiguousarray(xtr[i:i + 1]))
    print(f"wrote {os.path.relpath(calib_dir)}/calib_000.npy..calib_{N_CALIB - 1:03d}.npy "
          f"({N_CALIB} x float32 [1,1,8,8])")

    heldout_path = os.path.join(HERE, "heldout.npz")
    save_npz_deterministic(heldout_path, x=xho, y=yho)
    print(f"wrote {os.path.relpath(heldout_path)} (x float32 {list(xho.shape)}, y int64 {list(yho.shape)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
