// Reductions, Softmax, LayerNormalization, QuantizeLinear/DequantizeLinear: validation and
// shape inference. (Recurrent ops: spec_rnn.cc.)
#include <set>

#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

void validate_reduce(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_ints("axes", {});
  n.attrs.get_int("noop_with_empty_axes", 0);
  n.attrs.get_int("keepdims", 1);
  switch (n.precision) {
    case Precision::Float:
      expect_dtype(n, m, 0, {DT::f32}, "input");
      expect_same_dtype(n, m, 0, 0);
      break;
    case Precision::Int8Static:
      if (n.op != OpKind::ReduceMean && n.op != OpKind::ReduceMax && n.op != OpKind::ReduceMin) node_error(n, "has no int8 form");
      expect_dtype(n, m, 0, {DT::u8, DT::s8}, "input");
      expect_same_dtype(n, m, 0, 0);
      expect_per_tensor(n, m.tensor(n.inputs[0]));
      expect_per_tensor(n, m.tensor(n.outputs[0]));
      if (n.op == OpKind::ReduceMax || n.op == OpKind::ReduceMin) expect_same_quant(n, m, 0, 0);
      break;
    case Precision::Int8Dynamic:
      node_error(n, "has no dynamic int8 form");
  }
}

void infer_reduce(InferCtx& c) {
  const Shape& x = c.input(0);
  auto axes = c.node.attrs.get_ints("axes", {});
  bool keep = c.node.attrs.get_int("keepdims", 1) != 0;
  std::set<int64_t> red;
  for (int64_t a : axes) red.insert(normalize_axis(a, static_cast<int64_t>(x.size()), c.node));
  const bool all = axes.empty() && c.node.attrs.get_int("noop_with_empty_axes", 0) == 0;   // else: no axis
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    bool r = all || red.count(i);
    if (!r) out.push_back(x[i]);
    else if (keep) out.push_back(1);
  }
  c.out = {out};
}

// ArgMax, ArgMin: one axis, i64 indices out.
void validate_arg_reduce(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", 0);
  n.attrs.get_int("keepdims", 1);
  n.attrs.get_int("select_last_index", 0);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input");
  expect_out_dtype(n, m, 0, {DT::i64}, "output");
}

void infer_arg_reduce(InferCtx& c) {
  Shape y = c.input(0);
  const int64_t ax = normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(y.size()), c.node);
  if (y[ax] == 0) c.fail("axis " + std::to_string(ax) + " is empty: there is no index to return");
  if (c.node.attrs.get_int("keepdims", 1) != 0) y[ax] = 1;
  else y.erase(y.begin() + ax);
  c.out = {y};
}

void validate_softmax(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", -1);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32}, "input");
  expect_same_dtype(n, m, 0, 0);
}

void validate_layernorm(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", -1);
  if (!(n.attrs.get_float("epsilon", 1e-5f) > 0)) n.attrs.fail("epsilon", "must be positive");
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32}, "input");
  expect_dtype(n, m, 1, {DT::f32}, "scale");
  expect_dtype(n, m, 2, {DT::f32}, "bias");
  expect_same_dtype(n, m, 0, 0);
  for (size_t o = 1; o < n.outputs.size(); ++o)
    if (n.outputs[o] >= 0) expect_out_dtype(n, m, o, {DT::f32}, o == 1 ? "Mean" : "InvStdDev");
}

void infer_layernorm(InferCtx& c) {
  const Shape& x = c.input(0);
  int64_t ax = normalize_axis(c.node.attrs.get_int("axis", -1), static_cast<int64_t>(x.size()), c.node);
  Shape norm(x.begin() + ax, x.end());
  for (size_t i = 1; i < 3; ++i) {
    if (!c.has_input(i)) continue;
    Shape b;
    if (!broadcast_shapes(norm, c.input(i), &b) || b != norm)
      c.fail(std::string(i == 1 ? "scale" : "bias") + " shape " + shape_str(c.input(i)) + " does not match normalized shape " + shape_str(norm));
  }
  Shape stat = x;   // Mean and InvStdDev: one per normalized row, the normalized dims kept as 1
  for (size_t d = static_cast<size_t>(ax); d < stat.size(); ++d) stat[d] = 1;
  c.out = {x, stat, stat};
  c.out.resize(c.node.outputs.size());
}

// InstanceNormalization: X [N, C, spatial...] (ONNX's layout), scale and B [C].
void validate_instance_norm(const NodeDef& n, const detail::ModelData& m) {
  if (!(n.attrs.get_float("epsilon", 1e-5f) > 0)) n.attrs.fail("epsilon", "must be positive");
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  for (size_t i = 0; i < 3; ++i) expect_dtype(n, m, i, {DT::f32}, i == 0 ? "input" : i == 1 ? "scale" : "B");
  expect_same_dtype(n, m, 0, 0);
}

void infer_instance_norm(InferCtx& c) {
  const Shape& x = c.input(0);
  if (x.size() < 3) c.fail("input " + shape_str(x) + " is not [N, C, spatial...]");
  for (size_t i = 1; i < 3; ++i)
    if (c.input(i) != Shape{x[1]}) c.fail(std::string(i == 1 ? "scale" : "B") + " shape " + shape_str(c.input(i)) + " is not [C] = [" + std::to_string(x[1]) + "]");
  c.out = {x};
}

void validate_quantize(const NodeDef& n, const detail::ModelData& m) {
  expect_dtype(n, m, 0, {DT::f32}, "input");
  expect_out_dtype(n, m, 0, {DT::u8, DT::s8}, "output");
  expect_per_tensor(n, m.tensor(n.outputs[0]));
}

void validate_dequantize(const NodeDef& n, const detail::ModelData& m) {
  expect_dtype(n, m, 0, {DT::u8, DT::s8, DT::s32}, "input");
  expect_out_dtype(n, m, 0, {DT::f32}, "output");
  const TensorDef& x = m.tensor(n.inputs[0]);
  if (x.quant.empty()) node_error(n, "input '" + x.name + "' has no quantization parameters");
}

void infer_same(InferCtx& c) { c.out = {c.input(0)}; }
}  // namespace

const OpSpec kReduceSpec{validate_reduce, infer_reduce};
const OpSpec kArgReduceSpec{validate_arg_reduce, infer_arg_reduce};
const OpSpec kSoftmaxSpec{validate_softmax, infer_same};
const OpSpec kLayerNormSpec{validate_layernorm, infer_layernorm};
const OpSpec kInstanceNormSpec{validate_instance_norm, infer_instance_norm};
const OpSpec kQuantizeSpec{validate_quantize, infer_same};
const OpSpec kDequantizeSpec{validate_dequantize, infer_same};

}  // namespace octet
