#!/usr/bin/python3
"""Export a BERT-like encoder (torch.nn.TransformerEncoder, post-norm, GELU FFN) with Debian's
PyTorch 1.13 at opset 14, where LayerNorm and GELU come out decomposed (the converter fuses them).

    /usr/bin/python3 benchmarks/export_encoder.py [--small-only]

Full size into benchmarks/models/encoder/ (4 layers, d_model 768, 12 heads, FFN 3072, seq 128)
and a small version into tests/models/encoder_small/ (2 layers, d_model 32, 4 heads, FFN 64,
seq 8). Input [seq, 1, d_model] float (embeddings already looked up), output the same shape.
Each folder gets model.onnx, calib/ (16 samples), input.npy (held out), expected.npy (PyTorch
float) and quantize_dynamic.json (cosine of PyTorch's quantize_dynamic({nn.Linear}) vs float).
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Encoder(torch.nn.Module):
    def __init__(self, d, heads, ffn, layers):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu")
        self.enc = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        # The layers are deep copies of one: give each its own weights (as training would), or
        # the export stores one set of identical initializers for all of them.
        for p in self.enc.parameters():
            if p.dim() > 1:
                torch.nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.enc(x)


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def export(d, heads, ffn, layers, seq, out_dir):
    torch.manual_seed(0)
    net = Encoder(d, heads, ffn, layers).eval()
    os.makedirs(os.path.join(out_dir, "calib"), exist_ok=True)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(seq, 1, d, generator=g)
    with torch.no_grad():
        torch.onnx.export(net, x, os.path.join(out_dir, "model.onnx"), opset_version=14, input_names=["input"],
                          output_names=["output"])
    for i in range(16):
        np.save(os.path.join(out_dir, "calib", "calib_%03d.npy" % i), torch.randn(seq, 1, d, generator=g).numpy())
    held = torch.randn(seq, 1, d, generator=g)
    with torch.no_grad():
        y = net(held).numpy()
    np.save(os.path.join(out_dir, "input.npy"), held.numpy())
    np.save(os.path.join(out_dir, "expected.npy"), y)
    res = {}
    for engine in ("qnnpack", "onednn"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        q = torch.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
        with torch.no_grad():
            res[engine] = cosine(q(held).numpy(), y)
    with open(os.path.join(out_dir, "quantize_dynamic.json"), "w") as f:
        json.dump({"model": "encoder", "pytorch": torch.__version__, "cosine_vs_float": res}, f, indent=1)
    print(out_dir, res)


def main():
    export(32, 4, 64, 2, 8, os.path.join(ROOT, "tests", "models", "encoder_small"))
    if "--small-only" not in sys.argv:
        export(768, 12, 3072, 4, 128, os.path.join(ROOT, "benchmarks", "models", "encoder"))


if __name__ == "__main__":
    main()
