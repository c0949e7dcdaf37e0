#!/usr/bin/python3
"""A small, independent NumPy evaluator for float ONNX graphs, used to check that the
committed ONNX files compute what PyTorch computed (onnx 1.12 has no onnx.reference).

Run from the repository root with Debian's interpreter:

    /usr/bin/python3 tests/models/onnx_numpy_eval.py              # every check below
    /usr/bin/python3 tests/models/onnx_numpy_eval.py tests/models/mlp

Checks:
  * tests/models/<name>/: runs model.onnx on input.npy and compares with expected.npy
    (max abs diff; fails above 1e-4 relative to the output's magnitude).
  * examples/digits/: runs digits.onnx on heldout.npz and prints the held-out accuracy.

Only the ops (and attribute forms, opsets 9..17) that these models use are implemented:
Add Sub Mul Div MatMul Gemm Conv ConvTranspose BatchNormalization Relu Clip LeakyRelu Sigmoid
Tanh HardSigmoid Erf MaxPool AveragePool GlobalAveragePool ReduceMean Softmax Flatten Reshape
Concat Slice Squeeze Unsqueeze Transpose Pad Resize Shape Gather Cast Constant
ConstantOfShape Identity. Prints what it checked; writes nothing.
"""
import glob
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover
    _erf = np.vectorize(math.erf)


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _im2col(x, kh, kw, sh, sw, dh, dw, oh, ow):
    n, c = x.shape[:2]
    cols = np.empty((n, c, kh, kw, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                 j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols


def conv(x, w, b, a):
    g = a.get("group", 1)
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    assert _s(a.get("auto_pad", "NOTSET")) == "NOTSET"
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    cols = _im2col(x, kh, kw, sh, sw, dh, dw, oh, ow)       # n, c, kh, kw, oh, ow
    cg, og = c // g, w.shape[0] // g
    out = np.empty((n, w.shape[0], oh, ow), np.float32)
    for gi in range(g):
        cg_cols = cols[:, gi * cg:(gi + 1) * cg].reshape(n, cg * kh * kw, oh * ow)
        wg = w[gi * og:(gi + 1) * og].reshape(og, -1)
        out[:, gi * og:(gi + 1) * og] = np.einsum("ok,nkp->nop", wg, cg_cols,
                                                  optimize=True).reshape(n, og, oh, ow)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def conv_transpose(x, w, b, a):
    g = a.get("group", 1)
    assert g == 1 and "output_shape" not in a
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    oph, opw = a.get("output_padding", [0, 0])
    n, c, h, wd = x.shape
    co = w.shape[1]
    fh = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    fw = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, co, fh, fw), np.float32)
    for i in range(kh):
        for j in range(kw):
            contrib = np.einsum("nchw,co->nohw", x, w[:, :, i, j])
            full[:, :, i * dh:i * dh + sh * (h - 1) + 1:sh, j * dw:j * dw + sw * (wd - 1) + 1:sw] += contrib
    out = full[:, :, pt:fh - pb, pl:fw - pr]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    assert a.get("ceil_mode", 0) == 0 and a.get("dilations", [1, 1]) == [1, 1]
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    n, c, h, wd = xp.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    cols = _im2col(xp, kh, kw, sh, sw, 1, 1, oh, ow)
    if kind == "max":
        return cols.max(axis=(2, 3))
    s = cols.sum(axis=(2, 3))
    if a.get("count_include_pad", 0):
        return s / (kh * kw)
    ones = np.pad(np.ones((1, 1) + x.shape[2:], np.float32), ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    cnt = _im2col(ones, kh, kw, sh, sw, 1, 1, oh, ow).sum(axis=(2, 3))
    return s / cnt


def resize(x, scales, sizes, a):
    mode = _s(a.get("mode", "nearest"))
    ctm = _s(a.get("coordinate_transformation_mode", "half_pixel"))
    nearest_mode = _s(a.get("nearest_mode", "round_prefer_floor"))
    if sizes is not None and sizes.size:
        out_shape = [int(v) for v in sizes]
        scales = np.array(out_shape, np.float64) / np.array(x.shape, np.float64)
    else:
        out_shape = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
    y = x
    for axis, (din, dout, sc) in enumerate(zip(x.shape, out_shape, scales)):
        if din == dout and sc == 1:
            continue
        o = np.arange(dout, dtype=np.float64)
        if ctm == "half_pixel":
            xo = (o + 0.5) / sc - 0.5
        elif ctm == "pytorch_half_pixel":
            xo = (o + 0.5) / sc - 0.5 if dout > 1 else np.zeros_like(o)
        elif ctm == "align_corners":
            xo = o * (din - 1) / max(dout - 1, 1)
        elif ctm == "asymmetric":
            xo = o / sc
        else:
            raise NotImplementedError(ctm)
        if mode == "nearest":
            if nearest_mode == "floor":
                idx = np.floor(xo)
            elif nearest_mode == "ceil":
                idx = np.ceil(xo)
            elif nearest_mode == "round_prefer_floor":
                idx = np.ceil(xo - 0.5)
            else:
                idx = np.floor(xo + 0.5)
            idx = np.clip(idx, 0, din - 1).astype(np.int64)
            y = np.take(y, idx, axis=axis)
        elif mode == "linear":
            xo = np.clip(xo, 0, din - 1)
            lo = np.floor(xo).astype(np.int64)
            hi = np.minimum(lo + 1, din - 1)
            f = (xo - lo).astype(np.float32)
            shp = [1] * y.ndim
            shp[axis] = dout
            f = f.reshape(shp)
            y = np.take(y, lo, axis=axis) * (1 - f) + np.take(y, hi, axis=axis) * f
        else:
            raise NotImplementedError(mode)
    return y.astype(np.float32)


def softmax(x, axis, opset):
    if opset < 13:      # coerce to 2-D [prod(dims[:axis]), prod(dims[axis:])]
        shp = x.shape
        x2 = x.reshape(int(np.prod(shp[:axis])), -1)
        e = np.exp(x2 - x2.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True)).reshape(shp)
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def run(model, feeds):
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        x = ins[0] if ins else None
        if op == "Constant":
            r = numpy_helper.to_array(a["value"])
        elif op in ("Add", "Sub", "Mul", "Div"):
            r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](x, ins[1])
            r = r.astype(np.result_type(x, ins[1]))
        elif op == "MatMul":
            r = np.matmul(x, ins[1])
        elif op == "Gemm":
            A = x.T if a.get("transA", 0) else x
            B = ins[1].T if a.get("transB", 0) else ins[1]
            r = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                r = r + a.get("beta", 1.0) * ins[2]
        elif op == "Conv":
            r = conv(x, ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "ConvTranspose":
            r = conv_transpose(x, ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            assert len(node.output) == 1 and not a.get("training_mode", 0)
            sc, bi, mean, var = [v.reshape(1, -1, 1, 1) for v in ins[1:5]]
            r = (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * sc + bi
        elif op == "Relu":
            r = np.maximum(x, 0)
        elif op == "Clip":
            lo = a.get("min", -np.inf) if opset < 11 else (ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf)
            hi = a.get("max", np.inf) if opset < 11 else (ins[2] if len(ins) > 2 and ins[2] is not None else np.inf)
            r = np.clip(x, lo, hi)
        elif op == "LeakyRelu":
            r = np.where(x >= 0, x, x * a.get("alpha", 0.01))
        elif op == "Sigmoid":
            r = 1 / (1 + np.exp(-x))
        elif op == "Tanh":
            r = np.tanh(x)
        elif op == "HardSigmoid":
            r = np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0, 1)
        elif op == "Erf":
            r = _erf(x)
        elif op == "MaxPool":
            assert len(node.output) == 1
            r = pool(x, a, "max")
        elif op == "AveragePool":
            r = pool(x, a, "avg")
        elif op == "GlobalAveragePool":
            r = x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)
        elif op == "ReduceMean":
            axes = a.get("axes") if opset < 18 else (ins[1] if len(ins) > 1 else None)
            r = x.mean(axis=tuple(axes) if axes is not None else None, keepdims=bool(a.get("keepdims", 1)))
        elif op == "Softmax":
            r = softmax(x, a.get("axis", 1 if opset < 13 else -1), opset)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            r = x.reshape(int(np.prod(x.shape[:ax])), -1)
        elif op == "Reshape":
            shp = [int(s) for s in ins[1]]
            shp = [x.shape[i] if s == 0 and not a.get("allowzero", 0) else s for i, s in enumerate(shp)]
            r = x.reshape(shp)
        elif op == "Concat":
            r = np.concatenate(ins, axis=a["axis"])
        elif op == "Slice":
            if opset < 10:
                starts, ends = a["starts"], a["ends"]
                axes = a.get("axes", list(range(len(starts))))
                steps = [1] * len(starts)
            else:
                starts, ends = ins[1].tolist(), ins[2].tolist()
                axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
                steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x.ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[ax] = slice(s, e, st)
            r = x[tuple(sl)]
        elif op in ("Squeeze", "Unsqueeze"):
            axes = a.get("axes") if opset < 13 else (ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None)
            if op == "Squeeze":
                r = np.squeeze(x, axis=tuple(axes) if axes is not None else None)
            else:
                r = x
                nd = x.ndim + len(axes)
                for ax in sorted(ax % nd for ax in axes):
                    r = np.expand_dims(r, ax)
        elif op == "Transpose":
            r = np.transpose(x, a.get("perm"))
        elif op == "Pad":
            mode = _s(a.get("mode", "constant"))
            if opset < 11:
                pads, value = a["pads"], a.get("value", 0.0)
            else:
                pads = ins[1].tolist()
                value = ins[2].item() if len(ins) > 2 and ins[2] is not None else 0.0
            nd = x.ndim
            pw = [(pads[i], pads[i + nd]) for i in range(nd)]
            assert min(pads) >= 0
            if mode == "constant":
                r = np.pad(x, pw, mode="constant", constant_values=value)
            else:
                r = np.pad(x, pw, mode={"reflect": "reflect", "edge": "edge"}[mode])
        elif op == "Resize":
            if opset < 11:
                r = resize(x, ins[1], None, a)
            else:
                r = resize(x, ins[2] if len(ins) > 2 and ins[2] is not None else None,
                           ins[3] if len(ins) > 3 else None, a)
        elif op == "Shape":
            r = np.array(x.shape, np.int64)
        elif op == "Gather":
            r = np.take(x, ins[1], axis=a.get("axis", 0))
        elif op == "Cast":
            r = x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full([int(d) for d in x], v.reshape(-1)[0], v.dtype)
        elif op == "Identity":
            r = x
        else:
            raise NotImplementedError(f"op {op}")
        if isinstance(r, np.ndarray) and r.dtype == np.float64 and op not in ("Constant", "Cast"):
            r = r.astype(np.float32)
        env[node.output[0]] = np.asarray(r)
    return [env[o.name] for o in model.graph.output]


def check_test_model(d):
    m = onnx.load(os.path.join(d, "model.onnx"))
    x = np.load(os.path.join(d, "input.npy"))
    exp = np.load(os.path.join(d, "expected.npy"))
    (y,) = run(m, {m.graph.input[0].name: x})
    diff = float(np.abs(y - exp).max())
    tol = 1e-4 * max(1.0, float(np.abs(exp).max()))
    ok = y.shape == exp.shape and diff <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {d}: output {list(y.shape)}, max |onnx - expected| = {diff:.3g}")
    return ok


def check_digits(d):
    m = onnx.load(os.path.join(d, "digits.onnx"))
    data = np.load(os.path.join(d, "heldout.npz"))
    (logits,) = run(m, {m.graph.input[0].name: data["x"]})
    acc = float((logits.argmax(1) == data["y"]).mean())
    print(f"ok   {d}: digits.onnx held-out accuracy (NumPy evaluator) {acc * 100:.2f}% "
          f"({int((logits.argmax(1) == data['y']).sum())}/{len(data['y'])})")
    return True


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    targets = argv or sorted(glob.glob(os.path.join(root, "tests", "models", "*", ""))) + \
        [os.path.join(root, "examples", "digits")]
    ok = True
    for t in targets:
        t = os.path.relpath(t.rstrip("/"))
        if os.path.exists(os.path.join(t, "digits.onnx")):
            ok &= check_digits(t)
        elif os.path.exists(os.path.join(t, "model.onnx")):
            ok &= check_test_model(t)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
