#!/usr/bin/python3
"""PyTorch 1.13 peer for compare.py: one persistent process per (model, mode, threads).

    /usr/bin/python3 benchmarks/drivers/torch_driver.py --model resnet18 --mode float|int8 --threads 1 \
        --models-dir benchmarks/models --input FILE.npy

CNNs (export_zoo.py models): the same seeded torchvision model export_zoo.py exported (its state
is cached as <models-dir>/<name>/torch_state.pt after the first build); int8 = FX static
quantization (prepare_fx/convert_fx, get_default_qconfig_mapping("onednn"), engine onednn)
calibrated on <name>/calib. Sequence models (export_sequence_models.py): the seeded Net;
int8 = quantize_dynamic({LSTM, GRU, Linear}, qint8). The encoder (export_encoder.py): the seeded
Encoder; int8 = quantize_dynamic({Linear}, qint8), which quantizes the FFN and attention input
projections (PyTorch keeps MultiheadAttention's out_proj in float).

Protocol on stdin, one command a line, one JSON line answered on stdout:
    run N            -> {"times_ms": [...]}
    out IN.npy OUT.npy -> {"ok": true}   (runs IN, saves the output)
    quit
The first line printed is {"ready": true, ...} or {"error": "..."}.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SEQ = {"lstm2": ("lstm", 256, 512, 2, False), "gru2": ("gru", 256, 512, 2, False), "bilstm": ("lstm", 256, 512, 1, True)}


# The protocol owns the real stdout; anything else printing (export_zoo's log) goes to stderr.
PROTO = sys.stdout
sys.stdout = sys.stderr


def say(obj):
    PROTO.write(json.dumps(obj) + "\n")
    PROTO.flush()


def build(args, torch):
    name = args.model
    if name == "encoder":
        import export_encoder as ee
        torch.manual_seed(0)   # as export_encoder.export() does before building the full-size model
        net = ee.Encoder(768, 12, 3072, 4).eval()
        if args.mode == "float":
            return net, "float"
        torch.backends.quantized.engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else "qnnpack"
        net = torch.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
        return net, "quantize_dynamic qint8 (engine %s)" % torch.backends.quantized.engine
    if name in SEQ:
        import export_sequence_models as esm
        kind, inp, hid, layers, bidir = SEQ[name]
        torch.manual_seed(0)
        net = esm.Net(kind, inp, hid, layers, bidir).eval()
        if args.mode == "int8":
            torch.backends.quantized.engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else "qnnpack"
            net = torch.quantization.quantize_dynamic(net, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)
        return net, "quantize_dynamic qint8 (engine %s)" % torch.backends.quantized.engine if args.mode == "int8" else "float"
    import export_zoo as ez
    state = os.path.join(args.models_dir, name, "torch_state.pt")
    import torchvision
    if os.path.exists(state):
        model = getattr(torchvision.models, name)(weights=None)
        model.load_state_dict(torch.load(state))
        model.eval()
    else:
        model = ez.build_model(name, ez.MODELS[name])
        torch.save(model.state_dict(), state)
    if args.mode == "float":
        return model, "float"
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    calib = np.concatenate([np.load(f) for f in sorted(glob.glob(os.path.join(args.models_dir, name, "calib", "*.npy")))])
    prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), (torch.from_numpy(calib[:1]),))
    with torch.no_grad():
        for i in range(0, len(calib), 8):
            prepared(torch.from_numpy(calib[i:i + 8]))
    return convert_fx(prepared), "FX static (onednn), %d calibration samples" % len(calib)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--mode", choices=["float", "int8"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--input", required=True)
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(args.threads)
        t0 = time.time()
        net, how = build(args, torch)
        x = torch.from_numpy(np.load(args.input))
        with torch.no_grad():
            for _ in range(3):   # warm up (and fixes onednn's thread count)
                net(x)
    except Exception as e:   # a missing peer: the column says so
        say({"error": "%s: %s" % (type(e).__name__, e)})
        return 0
    import io
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    say({"ready": True, "runtime": "pytorch", "version": torch.__version__, "how": how, "setup_s": round(time.time() - t0, 1),
         "size_bytes": buf.getbuffer().nbytes})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        with torch.no_grad():
            if cmd[0] == "run":
                times = []
                for _ in range(int(cmd[1])):
                    s = time.perf_counter()
                    net(x)
                    times.append((time.perf_counter() - s) * 1e3)
                say({"times_ms": times})
            elif cmd[0] == "out":
                y = net(torch.from_numpy(np.load(cmd[1])))
                if isinstance(y, tuple):
                    y = y[0]
                np.save(cmd[2], y.numpy())
                say({"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
