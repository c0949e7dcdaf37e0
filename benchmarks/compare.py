#!/usr/bin/python3
"""Side-by-side latency of octet and its peers on this machine (run through benchmarks/compare.sh).

For each model (batch 1) and thread count, six runtimes are timed in rounds: in round k each
runtime runs a short batch of iterations (the order rotates between rounds), so slow drifts of a
shared machine hit every runtime alike. Reported: median over rounds of each batch's median (p50)
and p90, octet int8's speedup against each peer, model size, and output fidelity (cosine vs the
PyTorch float output on held-out inputs).

Runtimes:
  octet int8      octet bench on the converted int8 model (one process per round, ~150 ms of warm-up runs)
  octet float     octet bench on the --precision float conversion
  ORT float       onnxruntime-node 1.30 on the original .onnx           (ort_run.mjs --serve)
  ORT int8        onnxruntime-node 1.30 on `octet export-qdq` of the int8 model (same calibration)
  PyTorch float   torch 1.13 eager                                        (drivers/torch_driver.py)
  PyTorch int8    FX static quantization, onednn engine (CNNs); quantize_dynamic (sequence models)
A peer that cannot start says "not installed" (or its error) and the rest runs.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CNN = ["resnet18", "resnet50", "mobilenet_v2"]
SEQ = ["lstm2", "gru2", "encoder"]
DEMO = ["digits"]   # the README demo model (examples/digits); it exists only as ONNX, so no PyTorch columns
RUNTIMES = ["octet int8", "octet float", "ORT float", "ORT int8", "PyTorch float", "PyTorch int8"]


def log(msg):
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown-cpu"


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                f = set(line.split(":", 1)[1].split())
                return [x for x in ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"] if x in f]
    except OSError:
        pass
    return []


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def isa_tag():
    """The int8 instruction class, for file names: cloud CPUs often report only "AMD EPYC"."""
    f = set(cpu_flags())
    for flag, tag in (("amx_int8", "amx"), ("avx512_vnni", "avx512vnni"), ("avx_vnni", "avxvnni"), ("avx2", "avx2")):
        if flag in f:
            return tag
    return platform.machine()


def cosine(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ---- model preparation --------------------------------------------------------------------------
class Model:
    def __init__(self, name, mdir, work):
        self.name = name
        self.kind = "cnn" if name in CNN else "demo" if name in DEMO else "corpus" if name.startswith("corpus:") else "seq"
        if self.kind == "corpus":
            # benchmarks/corpus/corpus.py fetched it and made its samples (prepare() runs it).
            base = name[len("corpus:"):]
            cache = os.path.join(ROOT, "build", "corpus")
            tv = os.path.join(cache, "torchvision", base[3:] + ".onnx") if base.startswith("tv_") else None
            self.onnx = tv or os.path.join(cache, "models", base + ".onnx")
            self.calib = os.path.join(cache, "data", base, "calib")
            self.inputs = sorted(glob.glob(os.path.join(cache, "data", base, "eval", "*", "*.npy")))[:2]
            self.refs = []
        elif self.kind == "demo":
            d = os.path.join(ROOT, "examples", "digits")
            self.onnx = os.path.join(d, "digits.onnx")
            self.calib = os.path.join(d, "calib")
            # Held-out digits as one .npy per sample; the float reference comes from ORT float.
            x = np.load(os.path.join(d, "heldout.npz"))["x"]
            hd = os.path.join(work, "digits_heldout")
            os.makedirs(hd, exist_ok=True)
            self.inputs = []
            for i in range(8):
                f = os.path.join(hd, f"sample_{i}.npy")
                np.save(f, x[i:i + 1])
                self.inputs.append(f)
            self.refs = []
        elif self.kind == "cnn":
            self.onnx = os.path.join(mdir, name + ".onnx")
            self.calib = os.path.join(mdir, name, "calib")
            self.inputs = sorted(glob.glob(os.path.join(mdir, name, "heldout", "*.npy")))
            ref = os.path.join(mdir, name, "heldout_float.npz")
            self.refs = list(np.load(ref)["logits"]) if os.path.exists(ref) else []
        else:
            self.onnx = os.path.join(mdir, name, "model.onnx")
            self.calib = os.path.join(mdir, name, "calib")
            self.inputs = [os.path.join(mdir, name, "input.npy")]
            self.refs = [np.load(os.path.join(mdir, name, "expected.npy"))]
        self.int8 = os.path.join(work, name + ".int8.json")
        self.float = os.path.join(work, name + ".float.json")
        self.qdq = os.path.join(work, name + ".qdq.onnx")
        self.qdq_notes = []


def prepare(args, names):
    mdir = args.models_dir
    need_cnn = [n for n in names if n in CNN and not os.path.exists(os.path.join(mdir, n + ".onnx"))]
    if need_cnn:
        log(f"exporting {need_cnn} with benchmarks/export_zoo.py")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "export_zoo.py"), "--out", mdir, "--models", ",".join(need_cnn)],
                       check=True)
    need_seq = [n for n in names if n in SEQ and not os.path.exists(os.path.join(mdir, n, "model.onnx"))]
    if "encoder" in need_seq:
        log("exporting the encoder with benchmarks/export_encoder.py")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "export_encoder.py")], check=True)
    if [n for n in need_seq if n != "encoder"]:
        script = os.path.join(HERE, "export_sequence_models.py")
        if os.path.exists(script):
            log("exporting the sequence models with benchmarks/export_sequence_models.py")
            subprocess.run(["/usr/bin/python3", script], check=True)
        for n in need_seq:
            if not os.path.exists(os.path.join(mdir, n, "model.onnx")):
                log(f"{n}: no exported model, skipped")
                names = [x for x in names if x != n]
    need_corpus = [n[len("corpus:"):] for n in names if n.startswith("corpus:") and
                   not os.path.exists(os.path.join(ROOT, "build", "corpus", "data", n[len("corpus:"):], "done"))]
    if need_corpus:
        log(f"fetching {need_corpus} and making their samples with benchmarks/corpus/corpus.py")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "corpus", "corpus.py"), "--no-int8", "--models", ",".join(need_corpus)])
    work = os.path.join(mdir, "compare")
    os.makedirs(work, exist_ok=True)
    models = []
    octet = args.octet
    for n in names:
        m = Model(n, mdir, work)
        fresh = lambda p: os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(m.onnx) and not args.reconvert
        if not fresh(m.int8):
            log(f"{n}: octet convert (int8)")
            subprocess.run([octet, "convert", m.onnx, "-o", m.int8, "--calib", m.calib, "-q"], check=True)
        if not fresh(m.float):
            log(f"{n}: octet convert --precision float")
            subprocess.run([octet, "convert", m.onnx, "-o", m.float, "--precision", "float", "-q"], check=True)
        r = subprocess.run([octet, "export-qdq", m.int8, "-o", m.qdq], capture_output=True, text=True)
        if r.returncode != 0:
            log(f"{n}: export-qdq failed: {r.stderr.strip()}")
            m.qdq = None
        else:
            m.qdq_notes = [l[6:] for l in r.stdout.splitlines() if l.startswith("note: ")]
        models.append(m)
    return models


# ---- runtimes -----------------------------------------------------------------------------------
class OctetPeer:
    """octet bench, one process per batch of iterations."""

    def __init__(self, args, model_json, threads, inp):
        self.cmd = [args.octet, "bench", model_json, "--threads", str(threads), "--json", "--no-peak",
                    "-i", f"{input_name(model_json)}={inp}"]
        self.p50 = None   # the last batch's median: sets the next batch's warm-up
        self.model_json = model_json
        self.octet = args.octet
        self.error = None
        self.threads = threads

    def batch(self, n):
        # A fresh process per batch (the other runtimes are persistent servers, already warm): warm
        # up for ~150 ms of runs, at least 3. Two warm-up runs were not enough for a 1 ms model at
        # 2 threads, whose next ~10 runs were often 2x slower (thread wake-up, caches).
        warmup = 3 if self.p50 is None else max(3, min(300, int(150 / max(self.p50, 0.01))))
        r = subprocess.run(self.cmd + ["--warmup", str(warmup), "--iterations", str(n)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip())
        j = json.loads(r.stdout)
        self.p50 = j["latency_ms"]["p50"]
        return j["latency_ms"]["p50"], j["latency_ms"]["p90"]

    def output(self, inp, out):
        d = out + ".dir"
        subprocess.run([self.octet, "run", self.model_json, "-i", inp, "-o", d, "-q", "--threads", str(self.threads)], check=True)
        f = sorted(glob.glob(os.path.join(d, "*.npy")))[0]
        shutil.move(f, out)
        shutil.rmtree(d, ignore_errors=True)

    def close(self):
        pass


def input_name(model_json):
    with open(model_json) as f:
        return json.load(f)["inputs"][0]


class ServedPeer:
    """A persistent driver speaking the run/out/quit protocol (ort_run.mjs --serve, torch_driver.py)."""

    def __init__(self, cmd, env=None):
        self.error = None
        self.info = {}
        try:
            # stderr to a file: a chatty driver must never block on a full pipe.
            self.errf = tempfile.TemporaryFile(mode="w+")
            self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errf, text=True, env=env)
        except FileNotFoundError:
            self.p = None
            self.error = "not installed"
            return
        self.info = None
        for line in self.p.stdout:   # skip anything a library printed before the first JSON line
            try:
                self.info = json.loads(line)
                break
            except ValueError:
                continue
        if self.info is None:
            self.p.wait()
            self.errf.seek(0)
            err = self.errf.read().strip().splitlines()
            self.error = "not installed" if any("not installed" in e for e in err) else (err[-1] if err else "failed to start")
            self.p = None
            return
        if "error" in self.info:
            self.error = self.info["error"]
            self.close()

    def ask(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            self.errf.seek(0)
            raise RuntimeError("driver died: " + self.errf.read().strip()[-300:])
        return json.loads(line)

    def batch(self, n):
        t = self.ask(f"run {n + 1}")["times_ms"][1:]   # the first run of a batch is a warm-up
        return pct(t, 50), pct(t, 90)

    def output(self, inp, out):
        self.ask(f"out {inp} {out}")

    def close(self):
        if self.p:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(timeout=20)
            except Exception:
                self.p.kill()
            self.p = None


def start_peers(args, m, threads):
    inp = m.inputs[0]
    peers = {}
    peers["octet int8"] = OctetPeer(args, m.int8, threads, inp)
    peers["octet float"] = OctetPeer(args, m.float, threads, inp)
    node = shutil.which("node")
    ort_script = os.path.join(HERE, "ort_run.mjs")
    for label, path in (("ORT float", m.onnx), ("ORT int8", m.qdq)):
        if not node:
            peers[label] = dead("not installed")
        elif path is None:
            peers[label] = dead("export-qdq failed")
        else:
            peers[label] = ServedPeer([node, ort_script, path, "-i", inp, "--serve", "--threads", str(threads)])
    env = dict(os.environ)
    if args.blas_dir:
        env["LD_LIBRARY_PATH"] = args.blas_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    for label, mode in (("PyTorch float", "float"), ("PyTorch int8", "int8")):
        if args.no_torch:
            peers[label] = dead("skipped (--no-torch)")
            continue
        if m.kind in ("demo", "corpus"):
            peers[label] = dead("n/a (ONNX only)")
            continue
        log(f"{m.name}: starting {label} ({threads} thread(s))")
        peers[label] = ServedPeer(["/usr/bin/python3", os.path.join(HERE, "drivers", "torch_driver.py"), "--model", m.name,
                                   "--mode", mode, "--threads", str(threads), "--models-dir", args.models_dir, "--input", inp],
                                  env=env)
        if peers[label].error and "No module named 'torch'" in peers[label].error:
            peers[label].error = "not installed"
    return peers


class dead:
    def __init__(self, why):
        self.error = why

    def close(self):
        pass


# ---- measuring ---------------------------------------------------------------------------------
def measure(args, m, threads):
    load_before = os.getloadavg()[0]
    peers = start_peers(args, m, threads)
    live = [r for r in RUNTIMES if not peers[r].error]
    res = {r: {"error": peers[r].error} if peers[r].error else {"p50": [], "p90": []} for r in RUNTIMES}
    # Iterations per batch: ~args.batch_ms of work per runtime (from one short probe batch).
    iters = {}
    for r in list(live):
        try:
            p50, _ = peers[r].batch(2)
            iters[r] = max(args.min_iters, min(args.max_iters, int(args.batch_ms / max(p50, 1e-3))))
        except Exception as e:
            res[r] = {"error": str(e)[:200]}
            live.remove(r)
    log(f"{m.name} threads={threads}: {args.rounds} rounds of " + ", ".join(f"{r} x{iters[r]}" for r in live))
    for k in range(args.rounds):
        order = live[k % len(live):] + live[:k % len(live)] if live else []
        for r in order:
            try:
                p50, p90 = peers[r].batch(iters[r])
                res[r]["p50"].append(p50)
                res[r]["p90"].append(p90)
            except Exception as e:
                res[r] = {"error": str(e)[:200]}
                live.remove(r)
    res["_load"] = (load_before, os.getloadavg()[0])
    for r in RUNTIMES:
        if "p50" in res[r] and res[r]["p50"]:
            res[r]["median_ms"] = statistics.median(res[r]["p50"])
            res[r]["p90_ms"] = statistics.median(res[r]["p90"])
            res[r]["iterations"] = iters[r] * len(res[r]["p50"])
    # Fidelity vs float on the held-out inputs (once per model, at the first thread count).
    if threads == args.threads[0]:
        m.fidelity = {}
        m.outputs = {}
        tmp = os.path.join(args.models_dir, "compare", "out")
        os.makedirs(tmp, exist_ok=True)
        if not m.refs:   # no PyTorch reference (the demo model): the float ONNX model in ORT, else octet float
            for r in ("ORT float", "octet float"):
                if peers[r].error:
                    continue
                try:
                    for i, x in enumerate(m.inputs[:args.fidelity_samples]):
                        f = os.path.join(tmp, f"{m.name}.ref.{i}.npy")
                        peers[r].output(x, f)
                        m.refs.append(np.load(f))
                    m.ref_label = r
                    break
                except Exception as e:
                    log(f"{m.name}: {r} reference output failed: {e}")
                    m.refs = []
        for r in RUNTIMES:
            if peers[r].error or not m.refs:
                continue
            cos, outs = [], []
            try:
                for i, (x, ref) in enumerate(zip(m.inputs[:args.fidelity_samples], m.refs)):
                    f = os.path.join(tmp, f"{m.name}.{slug(r)}.{i}.npy")
                    peers[r].output(x, f)
                    y = np.load(f)
                    outs.append(y)
                    cos.append(cosine(y, ref))
                m.fidelity[r] = (statistics.mean(cos), min(cos))
                m.outputs[r] = outs
            except Exception as e:
                log(f"{m.name}: {r} output failed: {e}")
    for r in RUNTIMES:
        if r.startswith("PyTorch") and not peers[r].error:
            res[r]["how"] = peers[r].info.get("how")
            res[r]["version"] = peers[r].info.get("version")
            res[r]["size_bytes"] = peers[r].info.get("size_bytes")
        if r.startswith("ORT") and not peers[r].error:
            res[r]["version"] = peers[r].info.get("version")
        peers[r].close()
    return res


def sizes(m):
    def size(*paths):
        return sum(os.path.getsize(p) for p in paths if p and os.path.exists(p))
    s = {"octet int8": size(m.int8, m.int8[:-5] + ".bin"), "octet float": size(m.float, m.float[:-5] + ".bin"),
         "ORT float": size(m.onnx), "ORT int8": size(m.qdq)}
    return s


# ---- report ------------------------------------------------------------------------------------
def write_report(args, models, results, path_md, path_svg, started, versions):
    lines = []
    now = datetime.datetime.now()
    lines.append(f"# octet vs ONNX Runtime vs PyTorch: {cpu_model()}, {now:%Y-%m-%d}")
    lines.append("")
    lines.append(f"- Machine: {cpu_model()}, {os.cpu_count()} logical CPUs, flags: {' '.join(cpu_flags())}; "
                 f"{platform.system()} {platform.release()}")
    lines.append(f"- Versions: {versions}")
    env = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS") if k in os.environ)
    lines.append(f"- Command: `{env + ' ' if env else ''}benchmarks/compare.sh {' '.join(args.argv)}` ({(time.time() - started) / 60:.1f} min)")
    lines.append(f"- Method: batch 1; per model and thread count, {args.rounds} rounds; in each round every runtime runs a "
                 "short batch (~%d ms of work, %d-%d iterations), runtimes alternating in rotating order. "
                 "\"median\" = median over rounds of each batch's median, \"p90\" = median over rounds of each batch's "
                 "90th percentile. Speedup = peer median / octet int8 median (> 1: octet int8 is faster). octet runs "
                 "`octet bench` as a fresh process per batch after ~150 ms of warm-up runs; ONNX Runtime and PyTorch are "
                 "persistent servers that drop each batch's first run." %
                 (args.batch_ms, args.min_iters, args.max_iters))
    lines.append("- ORT int8 runs `octet export-qdq` of the same octet int8 model (octet's calibration, scales and int8 "
                 "weights). PyTorch int8: FX static quantization, onednn engine, calibrated on the same samples (CNNs); "
                 "quantize_dynamic qint8 (sequence models). Fidelity: cosine vs the PyTorch float output, mean (min) over "
                 f"up to {args.fidelity_samples} held-out inputs.")
    if args.blas_dir:
        lines.append(f"- PyTorch float uses OpenBLAS ({args.blas_dir}) instead of Debian's reference BLAS.")
    lines.append("- Shared 2-core machine: other jobs may have been running; numbers are noisy, ratios measured side by "
                 "side are more trustworthy than absolute times.")
    lines.append("")
    for m in models:
        for t in args.threads:
            res = results.get((m.name, t))
            if not res:
                continue
            lines.append(f"## {m.name}, {t} thread{'s' if t > 1 else ''}")
            lines.append("")
            if "_load" in res:
                lines.append(f"Load average (1 min) before / after: {res['_load'][0]:.1f} / {res['_load'][1]:.1f} on "
                             f"{os.cpu_count()} CPUs" + (" (oversubscribed: OpenMP runtimes suffer most)"
                                                         if max(res["_load"]) > os.cpu_count() + 0.5 else "") + ".")
                lines.append("")
            if getattr(m, "ref_label", None):
                lines.append(f"No PyTorch model for {m.name}: fidelity is cosine vs {m.ref_label} on the float ONNX model.")
                lines.append("")
            lines.append("| runtime | median ms | p90 ms | octet int8 speedup | size MB | cosine vs float |")
            lines.append("| --- | ---: | ---: | ---: | ---: | --- |")
            base = res["octet int8"].get("median_ms")
            sz = sizes(m)
            for r in ("PyTorch float", "PyTorch int8"):
                if res[r].get("size_bytes"):
                    sz[r] = res[r]["size_bytes"]
            for r in RUNTIMES:
                x = res[r]
                fid = getattr(m, "fidelity", {}).get(r)
                fid_s = f"{fid[0]:.4f} ({fid[1]:.4f})" if fid else "-"
                size_s = f"{sz[r] / 1e6:.1f}" if r in sz else "-"
                if "median_ms" not in x:
                    lines.append(f"| {r} | {x.get('error', 'failed')} | | | {size_s} | |")
                    continue
                sp = f"{x['median_ms'] / base:.2f}x" if base and r != "octet int8" else "1"
                lines.append(f"| {r} | {x['median_ms']:.2f} | {x['p90_ms']:.2f} | {sp} | {size_s} | {fid_s} |")
            lines.append("")
        outs = getattr(m, "outputs", {})
        if "octet int8" in outs and "ORT int8" in outs:
            diffs = [float(np.abs(a.astype(np.float64) - b).max()) for a, b in zip(outs["octet int8"], outs["ORT int8"])]
            lsb = output_lsb(m.int8)
            cos = [cosine(a, b) for a, b in zip(outs["octet int8"], outs["ORT int8"])]
            unit = f" = {max(diffs) / lsb:.0f} LSB of octet's output (step {lsb:.3g})" if lsb else ""
            lines.append(f"ORT int8 (export-qdq) vs octet int8 on the same inputs: max |diff| {max(diffs):.4g}{unit}; "
                         f"cosine {min(cos):.4f} (min over {len(cos)} inputs).")
        for n in m.qdq_notes:
            lines.append(f"export-qdq note: {n}.")
        lines.append("")
    with open(path_md, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    chart(models, results, args, path_svg)


def output_lsb(model_json):
    m = json.load(open(model_json))
    out = m["outputs"][0]
    tensors = {t["name"]: t for t in m["tensors"]}
    for n in m["nodes"]:
        if out in n["outputs"] and n["op"] == "DequantizeLinear":
            s = tensors[n["inputs"][0]].get("quant", {}).get("scale")
            return s if isinstance(s, float) else None
    return None


def chart(models, results, args, path_svg):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed: no chart")
        return
    peers = RUNTIMES[1:]
    groups = [(m.name, t) for m in models for t in args.threads if (m.name, t) in results]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(groups) + 2), 4.2))
    w = 0.8 / len(peers)
    for i, p in enumerate(peers):
        ys = []
        for g in groups:
            r = results[g]
            b = r["octet int8"].get("median_ms")
            ys.append(r[p]["median_ms"] / b if b and "median_ms" in r[p] else 0)
        xs = [k + (i - (len(peers) - 1) / 2) * w for k in range(len(groups))]
        ax.bar(xs, ys, w, label=f"vs {p}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{n}\n{t} thr" for n, t in groups])
    ax.set_ylabel("octet int8 speedup (peer median / octet median)")
    ax.set_title(f"octet int8 speedup, batch 1 — {cpu_model()}, {datetime.date.today()}")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(path_svg)
    log(f"wrote {path_svg}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(CNN + SEQ + DEMO))
    ap.add_argument("--corpus", help="the real-world corpus instead of the zoo: 'all' or comma-separated names "
                    "(benchmarks/corpus/corpus.py --list); ORT float runs the original file")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batch-ms", type=int, default=400, help="work per runtime per round (sets the iteration count)")
    ap.add_argument("--min-iters", type=int, default=3)
    ap.add_argument("--max-iters", type=int, default=15)
    ap.add_argument("--fidelity-samples", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="3 rounds of ~150 ms, 2 fidelity samples")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--reconvert", action="store_true")
    ap.add_argument("--octet", default=os.environ.get("OCTET", "octet"))
    ap.add_argument("--models-dir", default=os.path.join(HERE, "models"))
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--blas-dir", default=os.environ.get("OCTET_BENCH_BLAS_DIR", ""))
    ap.add_argument("--tag", default="", help="suffix of the results file name")
    args = ap.parse_args()
    args.argv = sys.argv[1:]
    if args.quick:
        args.rounds, args.batch_ms, args.min_iters, args.max_iters, args.fidelity_samples = 3, 150, 2, 6, 2
    args.threads = [int(t) for t in args.threads.split(",") if t]
    names = [n for n in args.models.split(",") if n]
    if args.corpus:
        args.tag = args.tag or "corpus"
        corpus = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "corpus", "corpus.py"), "--list"], capture_output=True, text=True).stdout.split()
        names = ["corpus:" + c for c in (corpus if args.corpus == "all" else args.corpus.split(","))]
    for n in names:
        if n not in CNN + SEQ + DEMO and not n.startswith("corpus:"):
            ap.error(f"unknown model {n}; known: {CNN + SEQ + DEMO} and corpus:NAME (benchmarks/corpus/corpus.py --list)")
    started = time.time()
    models = prepare(args, names)
    results = {}
    for m in models:
        for t in args.threads:
            results[(m.name, t)] = measure(args, m, t)
            r = results[(m.name, t)]
            log(f"{m.name} threads={t}: " + ", ".join(
                f"{k} {r[k]['median_ms']:.2f}" if "median_ms" in r[k] else f"{k} -" for k in RUNTIMES))
    versions = [subprocess.run([args.octet, "--version"], capture_output=True, text=True).stdout.strip()]
    for k in ("ORT float", "PyTorch float", "PyTorch int8"):
        for res in results.values():
            if res[k].get("version"):
                versions.append(("onnxruntime-node " if k.startswith("ORT") else "torch ") + res[k]["version"])
                break
    versions = ", ".join(dict.fromkeys(versions))
    os.makedirs(args.results_dir, exist_ok=True)
    stem = f"{slug(cpu_model())}-{isa_tag()}-{datetime.date.today():%Y-%m-%d}{('-' + args.tag) if args.tag else ''}"
    md = os.path.join(args.results_dir, stem + ".md")
    svg = os.path.join(args.results_dir, stem + ".svg")
    write_report(args, models, results, md, svg, started, versions)
    with open(os.path.join(args.results_dir, stem + ".json"), "w") as f:
        json.dump({f"{k[0]}/{k[1]}": v for k, v in results.items()}, f, indent=1)
    log(f"wrote {md}")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
