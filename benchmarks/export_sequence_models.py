#!/usr/bin/python3
"""Export octet's recurrent benchmark and test models with Debian's PyTorch 1.13 (opset 14).

    /usr/bin/python3 benchmarks/export_sequence_models.py [--small-only]

Full size into benchmarks/models/<name>/ (gitignored) and small versions into
tests/models/<name>_small/; each folder gets model.onnx, calib/calib_NNN.npy (16 samples),
input.npy (held out), expected.npy (PyTorch float output) and quantize_dynamic.json: cosine of
PyTorch's quantize_dynamic({nn.LSTM, nn.GRU, nn.Linear}) output vs float on input.npy, the
baseline octet's int8_dynamic must match or beat. Models (input [seq, batch, features],
output Y of the last layer, seq symbolic; batch is fixed at 1: these files predate the converter
dropping torch's zero initial state built from Shape/ConstantOfShape of a symbolic batch, which
tests/models/char_lstm exercises):
    lstm2     2-layer LSTM, input 256, hidden 512, seq 50   (small: 16 -> 32, seq 8)
    gru2      the same with GRU
    bilstm    1-layer bidirectional LSTM, input 256, hidden 512 (small: 16 -> 32)
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Net(torch.nn.Module):
    def __init__(self, kind, inp, hid, layers, bidir):
        super().__init__()
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = cls(inp, hid, num_layers=layers, bidirectional=bidir)

    def forward(self, x):
        return self.rnn(x)[0]


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def export(name, kind, inp, hid, layers, bidir, seq, out_dir):
    torch.manual_seed(0)
    net = Net(kind, inp, hid, layers, bidir).eval()
    os.makedirs(os.path.join(out_dir, "calib"), exist_ok=True)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(seq, 1, inp, generator=g)
    torch.onnx.export(net, x, os.path.join(out_dir, "model.onnx"), opset_version=14, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "seq"}, "output": {0: "seq"}})
    for i in range(16):
        np.save(os.path.join(out_dir, "calib", "calib_%03d.npy" % i), torch.randn(seq, 1, inp, generator=g).numpy())
    held = torch.randn(seq, 1, inp, generator=g)
    with torch.no_grad():
        y = net(held).numpy()
    np.save(os.path.join(out_dir, "input.npy"), held.numpy())
    np.save(os.path.join(out_dir, "expected.npy"), y)
    res = {}
    for engine in ("qnnpack", "onednn"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        q = torch.quantization.quantize_dynamic(net, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)
        with torch.no_grad():
            res[engine] = cosine(q(held).numpy(), y)
    with open(os.path.join(out_dir, "quantize_dynamic.json"), "w") as f:
        json.dump({"model": name, "pytorch": torch.__version__, "cosine_vs_float": res}, f, indent=1)
    print(name, out_dir, res)


def main():
    small_only = "--small-only" in sys.argv
    specs = [("lstm2", "lstm", 2, False), ("gru2", "gru", 2, False), ("bilstm", "lstm", 1, True)]
    for name, kind, layers, bidir in specs:
        export(name, kind, 16, 32, layers, bidir, 8, os.path.join(ROOT, "tests", "models", name + "_small"))
        if not small_only:
            export(name, kind, 256, 512, layers, bidir, 50, os.path.join(ROOT, "benchmarks", "models", name))


if __name__ == "__main__":
    main()
