#!/usr/bin/python3
"""Tests of the opset 18-21 forms in ONNX's backend-test layout, with ONNX Runtime's outputs.

Debian's libonnx-testdata (onnx 1.12) stops at opset 17, so these are made here: one small model
per new form octet reads (converter/onnx_new_opsets.cc), in the folder layout of ONNX's backend
tests (test_NAME/model.onnx, test_data_set_0/input_K.pb, output_K.pb), so octet_conformance runs
them as the suite `opset18-21`:

    build/bin/octet_conformance --data tests/conformance/data --suites opset18-21

Expected outputs are ONNX Runtime 1.30's (benchmarks/ort_run.mjs; `cd benchmarks && npm install
--ignore-scripts` first), which implements these opsets. Inputs are seeded random data.

    /usr/bin/python3 tests/conformance/make_new_opset_tests.py [--out tests/conformance/data/opset18-21]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
F = T.FLOAT


def model(nodes, inputs, outputs, opset, inits=()):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                     [h.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                     initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in inits])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="octet make_new_opset_tests.py")
    m.ir_version = 8 if opset < 21 else 10
    return m


def i64(*v):
    return np.array(v, np.int64)


def f32(*v):
    return np.array(v, np.float32)


def cases(rng):
    x234 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    img = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    small = rng.standard_normal((1, 2, 4, 6)).astype(np.float32)
    gn = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    c = []
    # Reduce*-18: axes as an input.
    for op, axes, keep in [("ReduceMean", [1], 1), ("ReduceMax", [-1], 0), ("ReduceL2", [0, 2], 1), ("ReduceLogSumExp", [2], 0),
                           ("ReduceProd", [1], 1), ("ReduceSumSquare", [-2], 1)]:
        n = h.make_node(op, ["x", "axes"], ["y"], keepdims=keep)
        c.append((f"{op.lower()}_axes_input", model([n], [("x", F, [2, 3, 4])], [("y", F, None)], 18, [("axes", i64(*axes))]), [x234]))
    n = h.make_node("ReduceMax", ["x"], ["y"], noop_with_empty_axes=1)
    c.append(("reducemax_noop_empty_axes", model([n], [("x", F, [2, 3, 4])], [("y", F, None)], 18), [x234]))
    n = h.make_node("ReduceMin", ["x"], ["y"], keepdims=0)
    c.append(("reducemin_all_axes", model([n], [("x", F, [2, 3, 4])], [("y", F, None)], 18), [x234]))
    # Pad-18: axes.
    n = h.make_node("Pad", ["x", "pads", "value", "axes"], ["y"], mode="constant")
    c.append(("pad_axes", model([n], [("x", F, [1, 2, 4, 6])], [("y", F, None)], 18,
                                [("pads", i64(1, 2, 0, 3)), ("value", f32(0.5)), ("axes", i64(2, -1))]), [small]))
    n = h.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="reflect")
    c.append(("pad_axes_reflect", model([n], [("x", F, [1, 2, 4, 6])], [("y", F, None)], 18, [("pads", i64(2, 1)), ("axes", i64(3))]), [small]))
    # Split-18: num_outputs.
    n = h.make_node("Split", ["x"], ["a", "b", "c"], axis=2, num_outputs=3)
    x26 = rng.standard_normal((2, 3, 6)).astype(np.float32)
    c.append(("split_num_outputs", model([n], [("x", F, [2, 3, 6])], [("a", F, None), ("b", F, None), ("c", F, None)], 18), [x26]))
    n = h.make_node("Split", ["x"], ["a", "b", "c"], axis=0, num_outputs=3)
    x72 = rng.standard_normal((7, 2)).astype(np.float32)
    c.append(("split_num_outputs_uneven", model([n], [("x", F, [7, 2])], [("a", F, None), ("b", F, None), ("c", F, None)], 18), [x72]))
    # Resize-18/19.
    n = h.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear", axes=[2, 3])
    c.append(("resize_axes_scales_linear", model([n], [("x", F, [1, 2, 8, 8])], [("y", F, None)], 18, [("scales", f32(2.0, 1.5))]), [img]))
    n = h.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest", axes=[3, 2])
    c.append(("resize_axes_sizes_nearest", model([n], [("x", F, [1, 2, 4, 6])], [("y", F, None)], 18, [("sizes", i64(9, 7))]), [small]))
    for pol, sizes in (("not_larger", (7, 9)), ("not_smaller", (7, 9)), ("not_smaller", (8, 9))):
        n = h.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", keep_aspect_ratio_policy=pol, axes=[2, 3])
        c.append((f"resize_keep_aspect_{pol}_{sizes[0]}x{sizes[1]}", model([n], [("x", F, [1, 2, 4, 6])], [("y", F, None)], 18, [("sizes", i64(*sizes))]), [small]))
    for mode, sc in (("linear", (0.5, 0.5)), ("linear", (0.6, 0.3)), ("cubic", (0.5, 0.75))):
        n = h.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode, antialias=1)
        name = f"resize_antialias_{mode}_{int(sc[0] * 100)}_{int(sc[1] * 100)}"
        c.append((name, model([n], [("x", F, [1, 2, 8, 8])], [("y", F, None)], 18, [("scales", f32(1, 1, *sc))]), [img]))
    n = h.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", antialias=1)
    c.append(("resize_antialias_linear_sizes", model([n], [("x", F, [1, 2, 8, 8])], [("y", F, None)], 18, [("sizes", i64(1, 2, 3, 5))]), [img]))
    n = h.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear", coordinate_transformation_mode="half_pixel_symmetric")
    c.append(("resize_half_pixel_symmetric", model([n], [("x", F, [1, 2, 4, 6])], [("y", F, None)], 19, [("scales", f32(1, 1, 1.7, 0.8))]), [small]))
    # New ops with function bodies.
    for opset, per in ((18, 2), (21, 4)):
        n = h.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], num_groups=2, epsilon=1e-4)
        sc, bi = rng.uniform(0.5, 1.5, per).astype(np.float32), rng.standard_normal(per).astype(np.float32)
        c.append((f"groupnormalization_opset{opset}", model([n], [("x", F, [2, 4, 3, 3])], [("y", F, None)], opset,
                                                           [("scale", sc), ("bias", bi)]), [gn]))
    n = h.make_node("Mish", ["x"], ["y"])
    c.append(("mish", model([n], [("x", F, [2, 3, 4])], [("y", F, None)], 18), [x234 * 3]))
    for ap in ("none", "tanh"):
        n = h.make_node("Gelu", ["x"], ["y"], approximate=ap)
        c.append((f"gelu_{ap}_opset20", model([n], [("x", F, [2, 3, 4])], [("y", F, None)], 20), [x234 * 3]))
    # Attribute additions.
    n = h.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[1, 1], strides=[1, 1])
    c.append(("averagepool_dilations_one_opset19", model([n], [("x", F, [1, 2, 8, 8])], [("y", F, None)], 19), [img]))
    n = h.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2], strides=[1, 1])
    c.append(("averagepool_dilations_opset19", model([n], [("x", F, [1, 2, 8, 8])], [("y", F, None)], 19), [img]))
    n = h.make_node("Cast", ["x"], ["y"], to=T.INT32, saturate=1)
    c.append(("cast_saturate_opset19", model([n], [("x", F, [2, 3, 4])], [("y", T.INT32, None)], 19), [x234 * 10]))
    # A small network at opset 21 (Conv, Relu, ReduceMean with axes input, Flatten, Gemm).
    w = (rng.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
    fc = (rng.standard_normal((5, 4)) * 0.3).astype(np.float32)
    nodes = [h.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), h.make_node("Relu", ["c"], ["r"]),
             h.make_node("ReduceMean", ["r", "axes"], ["m"], keepdims=0), h.make_node("Gemm", ["m", "fc"], ["y"], transB=1)]
    c.append(("small_cnn_opset21", model(nodes, [("x", F, ["batch", 2, 8, 8])], [("y", F, None)], 21,
                                         [("w", w), ("fc", fc), ("axes", i64(2, 3))]), [img]))
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data", "opset18-21"))
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    rng = np.random.default_rng(1821)
    for name, m, inputs in cases(rng):
        d = os.path.join(a.out, "test_" + name)
        ds = os.path.join(d, "test_data_set_0")
        os.makedirs(ds)
        onnx.save(m, os.path.join(d, "model.onnx"))
        with tempfile.TemporaryDirectory() as tmp:
            args = ["node", os.path.join(ROOT, "benchmarks", "ort_run.mjs"), os.path.join(d, "model.onnx"), "-o", tmp]
            for k, (vi, x) in enumerate(zip(m.graph.input, inputs)):
                np.save(os.path.join(tmp, f"in{k}.npy"), x)
                args += ["-i", f"{vi.name}={os.path.join(tmp, f'in{k}.npy')}"]
                with open(os.path.join(ds, f"input_{k}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(x, vi.name).SerializeToString())
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{name}: ONNX Runtime failed: {r.stderr.strip()}")
            for k, vo in enumerate(m.graph.output):
                y = np.load(os.path.join(tmp, "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in vo.name) + ".npy"))
                with open(os.path.join(ds, f"output_{k}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(y, vo.name).SerializeToString())
                # Graph outputs declare their shape, as exporters write them (ONNX Runtime's here).
                if not vo.type.tensor_type.HasField("shape"):
                    vo.type.tensor_type.shape.SetInParent()   # a scalar has a shape without dims
                    for dim in y.shape:
                        vo.type.tensor_type.shape.dim.add().dim_value = dim
        onnx.save(m, os.path.join(d, "model.onnx"))
        print(f"{name}: opset {m.opset_import[0].version}")


if __name__ == "__main__":
    main()
