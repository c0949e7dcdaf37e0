#!/usr/bin/python3
"""Train a character-level LSTM language model on a text that Debian ships, export it to ONNX.

    /usr/bin/python3 benchmarks/train_char_lstm.py [--out DIR] [--steps N]

The text is perldiag.pod, Perl's list of diagnostic messages with their explanations (English
prose with some POD markup and code), shipped by the perl-modules-5.36 package:
/usr/share/perl/5.36.0/pod/perldiag.pod, 300 KB. It is split by position: the first 90% trains,
the last 10% is held out. The vocabulary is every character seen at least 10 times in the
training part, plus id 0 for all other characters (unknown).

Model (seq-first): tokens int64 [seq, batch] -> nn.Embedding(vocab, 32) -> nn.LSTM(32, 128,
1 layer) -> nn.Linear(128, vocab) -> logits float [seq, batch, vocab], 98k parameters, 386 KB of
ONNX; seq and batch are symbolic in the ONNX file (torch builds the zero initial state from
Shape/ConstantOfShape of the batch). Trained with truncated BPTT (32 parallel streams over the
training text, 64 steps, hidden state carried between chunks), Adam, gradient clipping, 1
thread, seeded, for a fixed number of steps (1000: about 10 minutes of CPU with Debian's
PyTorch, whose BLAS is the reference one): the output is the same on every run on a given
machine. Held-out perplexity then is about 5.9, against 28.5 for the unigram distribution.

Written to DIR (default tests/models/char_lstm, the committed copy the unit test uses):
    model.onnx           opset 14, input "tokens", output "logits"
    calib/calib_NNN.npy  16 windows of the training part, int64 [128, 1]
    heldout.npy          64 windows evenly spread over the held-out part, int64 [64, 129]:
                         the model reads [:, :128] (as [128, 64] after a transpose), each
                         position predicts the next character, [:, 1:]
    vocab.json           the characters of ids 1.. (id 0 = unknown)
    metrics.json         perplexity on heldout.npy (each window from a zero state) of the float
                         model, of PyTorch quantize_dynamic({nn.LSTM, nn.Linear}, qint8) per
                         quantized engine, and of the training-set unigram distribution; the
                         text's path, package and sha256
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "/usr/share/perl/5.36.0/pod/perldiag.pod"
EMBED, HIDDEN, LAYERS = 32, 128, 1
BATCH, BPTT = 32, 64
WINDOW, N_HELDOUT, N_CALIB = 128, 64, 16
MIN_COUNT = 10


class CharLSTM(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, EMBED)
        self.lstm = torch.nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS)
        self.head = torch.nn.Linear(HIDDEN, vocab)

    def forward(self, tokens, state=None):
        y, state = self.lstm(self.embed(tokens), state)
        return self.head(y), state


class Exported(torch.nn.Module):
    """The exported graph: tokens -> logits from a zero initial state."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, tokens):
        return self.net(tokens)[0]


def perplexity(model, windows):
    """exp(mean next-character cross-entropy) over windows [n, WINDOW + 1], run as one batch."""
    x = torch.from_numpy(windows[:, :-1].T.copy())
    t = torch.from_numpy(windows[:, 1:].T.copy())
    with torch.no_grad():
        logits = model(x)
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), t.reshape(-1))
    return math.exp(float(ce))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "models", "char_lstm"))
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)

    raw = open(TEXT, "rb").read()
    text = raw.decode("utf-8")
    try:
        package = subprocess.run(["dpkg", "-S", TEXT], capture_output=True, text=True).stdout.split(":")[0]
    except OSError:
        package = "?"
    split = len(text) * 9 // 10
    train_text, held_text = text[:split], text[split:]
    counts = {}
    for ch in train_text:
        counts[ch] = counts.get(ch, 0) + 1
    chars = sorted(c for c, n in counts.items() if n >= MIN_COUNT)
    index = {c: i + 1 for i, c in enumerate(chars)}
    vocab = len(chars) + 1

    def encode(s):
        return np.array([index.get(c, 0) for c in s], dtype=np.int64)

    train, held = encode(train_text), encode(held_text)
    print("text %s (%s): %d chars, train %d, held out %d, vocab %d (%d train / %d held-out chars unknown)"
          % (TEXT, package, len(text), len(train), len(held), vocab, int((train == 0).sum()), int((held == 0).sum())))

    # Held-out windows, evenly spread over the held-out part; calibration windows from the training part.
    starts = np.linspace(0, len(held) - WINDOW - 1, N_HELDOUT).astype(np.int64)
    held_windows = np.stack([held[s:s + WINDOW + 1] for s in starts])
    calib_starts = np.linspace(0, len(train) - WINDOW, N_CALIB + 2).astype(np.int64)[1:-1]

    # Unigram baseline: training-part character frequencies (add-one smoothed) on the same targets.
    uni = np.bincount(train, minlength=vocab).astype(np.float64) + 1.0
    uni /= uni.sum()
    unigram_ppl = math.exp(-float(np.log(uni[held_windows[:, 1:]]).mean()))

    net = CharLSTM(vocab)
    opt = torch.optim.Adam(net.parameters(), lr=4e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=2e-4)
    stream = len(train) // BATCH
    data = torch.from_numpy(train[:stream * BATCH].reshape(BATCH, stream).T.copy())  # [stream, BATCH]
    state, pos, t0 = None, 0, time.time()
    for step in range(1, args.steps + 1):
        if pos + BPTT + 1 > stream:
            state, pos = None, 0
        x, t = data[pos:pos + BPTT], data[pos + 1:pos + BPTT + 1]
        pos += BPTT
        net.train()
        logits, state = net(x, state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), t.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 200 == 0 or step == args.steps:
            net.eval()
            print("step %5d  train loss %.3f  held-out ppl %.3f  (%.0f s)"
                  % (step, float(loss), perplexity(Exported(net).eval(), held_windows), time.time() - t0), flush=True)
    train_seconds = time.time() - t0

    model = Exported(net).eval()
    float_ppl = perplexity(model, held_windows)
    quant = {}
    for engine in ("onednn", "qnnpack"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        q = torch.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)
        quant[engine] = perplexity(q, held_windows)

    out = args.out
    os.makedirs(os.path.join(out, "calib"), exist_ok=True)
    onnx_path = os.path.join(out, "model.onnx")
    torch.onnx.export(model, torch.from_numpy(held_windows[:2, :-1].T.copy()), onnx_path, opset_version=14,
                      input_names=["tokens"], output_names=["logits"],
                      dynamic_axes={"tokens": {0: "seq", 1: "batch"}, "logits": {0: "seq", 1: "batch"}})
    for i, s in enumerate(calib_starts):
        np.save(os.path.join(out, "calib", "calib_%03d.npy" % i), train[s:s + WINDOW].reshape(WINDOW, 1))
    np.save(os.path.join(out, "heldout.npy"), held_windows)
    with open(os.path.join(out, "vocab.json"), "w") as f:
        json.dump({"unknown_id": 0, "chars": "".join(chars)}, f, indent=1, ensure_ascii=False)
    metrics = {
        "text": TEXT, "package": package, "sha256": hashlib.sha256(raw).hexdigest(), "chars": len(text),
        "train_chars": len(train), "heldout_chars": len(held), "vocab": vocab,
        "model": {"embed": EMBED, "hidden": HIDDEN, "layers": LAYERS,
                  "params": sum(p.numel() for p in net.parameters()), "onnx_bytes": os.path.getsize(onnx_path)},
        "training": {"steps": args.steps, "batch": BATCH, "bptt": BPTT, "optimizer": "Adam 4e-3, cosine to 2e-4",
                     "pytorch": torch.__version__, "threads": 1},
        "heldout_windows": {"count": N_HELDOUT, "length": WINDOW,
                            "note": "heldout.npy [count, length + 1]; each window runs from a zero state"},
        "perplexity": {"float": float_ppl, "pytorch_quantize_dynamic": quant, "unigram": unigram_ppl},
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print("perplexity on %d held-out windows of %d: float %.4f, quantize_dynamic %s, unigram %.4f"
          % (N_HELDOUT, WINDOW, float_ppl, ", ".join("%s %.4f" % kv for kv in quant.items()), unigram_ppl))
    print("trained in %.0f s; wrote %s" % (train_seconds, out))


if __name__ == "__main__":
    main()
