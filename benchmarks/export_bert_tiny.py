#!/usr/bin/python3
"""Export a tiny BERT-style classifier the way real transformer exports look, for the tests:
token and position embeddings (Gather on int64 ids), a padding mask turned into -inf scores with
masked_fill (Equal/Where), an attention written out by hand (MatMul, Transpose, Softmax), the
tanh form of GELU, post-norm LayerNorm, a [CLS] pooler with Tanh and a 2-class head. The batch is
symbolic (Shape-derived reshape targets); the sequence length is fixed at 12 by the export, so the
position ids (Range of a Shape) fold to a constant.

    /usr/bin/python3 benchmarks/export_bert_tiny.py

Writes tests/models/bert_tiny/: model.onnx (inputs input_ids [batch, 12] int64 and
attention_mask [batch, 12] int64; output logits [batch, 2]), calib/ (16 .npz samples with both
inputs, random padding in half of them), input.npz (held out: batch 2, the second row padded)
and expected.npy (PyTorch float logits for it), quantize_dynamic.json (cosine of PyTorch's
quantize_dynamic({nn.Linear}) logits vs float). Deterministic (seeded).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB, D, HEADS, FFN, LAYERS, MAXLEN = 120, 32, 4, 64, 2, 32


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(D, 3 * D)
        self.out = torch.nn.Linear(D, D)
        self.ln1 = torch.nn.LayerNorm(D)
        self.ff1 = torch.nn.Linear(D, FFN)
        self.ff2 = torch.nn.Linear(FFN, D)
        self.ln2 = torch.nn.LayerNorm(D)

    def forward(self, x, pad):   # x [B, S, D]; pad [B, 1, 1, S] bool, True = padding
        b, s, _ = x.shape
        q, k, v = self.qkv(x).split(D, dim=-1)
        heads = lambda t: t.reshape(b, s, HEADS, D // HEADS).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // HEADS)
        scores = scores.masked_fill(pad, float("-inf"))
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, D)
        x = self.ln1(x + self.out(ctx))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x), approximate="tanh")))


class TinyBert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = torch.nn.Embedding(VOCAB, D)
        self.pos = torch.nn.Embedding(MAXLEN, D)
        self.ln = torch.nn.LayerNorm(D)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.pool = torch.nn.Linear(D, D)
        self.head = torch.nn.Linear(D, 2)

    def forward(self, input_ids, attention_mask):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.ln(self.tok(input_ids) + self.pos(pos))
        pad = (attention_mask == 0).unsqueeze(1).unsqueeze(2)
        for layer in self.layers:
            x = layer(x, pad)
        return self.head(torch.tanh(self.pool(x[:, 0])))


def sample(g, batch, seq, padded_rows=()):
    ids = torch.randint(1, VOCAB, (batch, seq), generator=g)
    mask = torch.ones(batch, seq, dtype=torch.int64)
    for r in padded_rows:
        n = int(torch.randint(seq // 2, seq, (1,), generator=g))
        ids[r, n:] = 0
        mask[r, n:] = 0
    return ids, mask


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    torch.manual_seed(0)
    net = TinyBert().eval()
    out = os.path.join(ROOT, "tests", "models", "bert_tiny")
    os.makedirs(os.path.join(out, "calib"), exist_ok=True)
    g = torch.Generator().manual_seed(1)
    ids, mask = sample(g, 1, 12)
    with torch.no_grad():
        torch.onnx.export(net, (ids, mask), os.path.join(out, "model.onnx"), opset_version=14,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}, "logits": {0: "batch"}})
    for i in range(16):
        ids, mask = sample(g, 1, 12, padded_rows=(0,) if i % 2 else ())
        np.savez(os.path.join(out, "calib", "calib_%03d.npz" % i), input_ids=ids.numpy(), attention_mask=mask.numpy())
    ids, mask = sample(g, 2, 12, padded_rows=(1,))
    with torch.no_grad():
        y = net(ids, mask).numpy()
    np.savez(os.path.join(out, "input.npz"), input_ids=ids.numpy(), attention_mask=mask.numpy())
    np.save(os.path.join(out, "expected.npy"), y)
    res = {}
    for engine in ("qnnpack", "onednn"):
        if engine in torch.backends.quantized.supported_engines:
            torch.backends.quantized.engine = engine
            q = torch.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
            with torch.no_grad():
                res[engine] = cosine(q(ids, mask).numpy(), y)
    with open(os.path.join(out, "quantize_dynamic.json"), "w") as f:
        json.dump({"model": "bert_tiny", "pytorch": torch.__version__, "cosine_vs_float": res}, f, indent=1)
    print(out, y.tolist(), res)


if __name__ == "__main__":
    main()
