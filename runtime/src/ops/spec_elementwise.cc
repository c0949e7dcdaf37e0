// Elementwise binary (numpy broadcasting) and unary ops: validation and shape inference.
#include <cmath>

#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

bool int8_binary(OpKind op) { return op == OpKind::Add || op == OpKind::Sub || op == OpKind::Mul; }

void validate_binary(const NodeDef& n, const detail::ModelData& m) {
  if (n.activation.kind != ActKind::None && !int8_binary(n.op)) node_error(n, "cannot carry a fused activation");
  if (n.op == OpKind::Mod) {
    const int64_t fmod = n.attrs.get_int("fmod", 0);
    if (fmod != 0 && fmod != 1) n.attrs.fail("fmod", "must be 0 or 1");
    if (fmod == 0 && m.tensor(n.inputs[0]).dtype == DT::f32) node_error(n, "float inputs need fmod=1 (C's fmod), as in ONNX");
  }
  switch (n.precision) {
    case Precision::Float: {
      expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input A");
      const DT t = m.tensor(n.inputs[0]).dtype;
      if (m.tensor(n.inputs[1]).dtype != t) node_error(n, "inputs must have the same dtype");
      if (m.tensor(n.outputs[0]).dtype != t) node_error(n, "output dtype must match the inputs");
      if (t != DT::f32 && n.activation.kind != ActKind::None) node_error(n, "integer arithmetic cannot carry an activation");
      break;
    }
    case Precision::Int8Static:
      if (!int8_binary(n.op)) node_error(n, "has no int8 form (only Add, Sub, Mul)");
      expect_dtype(n, m, 0, {DT::u8, DT::s8}, "input A");
      expect_dtype(n, m, 1, {DT::u8, DT::s8}, "input B");
      expect_out_dtype(n, m, 0, {DT::u8, DT::s8}, "output");
      for (int t : {n.inputs[0], n.inputs[1], n.outputs[0]}) expect_per_tensor(n, m.tensor(t));
      break;
    case Precision::Int8Dynamic:
      node_error(n, "has no dynamic int8 form");
  }
}

void infer_binary(InferCtx& c) {
  Shape out;
  if (!broadcast_shapes(c.input(0), c.input(1), &out))
    c.fail("shapes " + shape_str(c.input(0)) + " and " + shape_str(c.input(1)) + " do not broadcast");
  c.out = {out};
}

bool logic_op(OpKind op) { return op == OpKind::And || op == OpKind::Or || op == OpKind::Xor; }

// Comparisons (Equal, Greater, ...) and logic (And, Or, Xor) elementwise, boolean output; float
// precision only (masks are built from ids, positions or 0/1 masks).
void validate_compare(const NodeDef& n, const detail::ModelData& m) {
  if (n.activation.kind != ActKind::None) node_error(n, "cannot carry a fused activation");
  if (n.precision != Precision::Float) node_error(n, "has no int8 form");
  if (logic_op(n.op)) expect_dtype(n, m, 0, {DT::boolean}, "input A");
  else if (n.op == OpKind::Equal) expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64, DT::boolean}, "input A");
  else expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input A");
  if (m.tensor(n.inputs[1]).dtype != m.tensor(n.inputs[0]).dtype) node_error(n, "inputs must have the same dtype");
  expect_out_dtype(n, m, 0, {DT::boolean}, "output");
}

void validate_unary(const NodeDef& n, const detail::ModelData& m) {
  if (n.activation.kind != ActKind::None) node_error(n, "cannot carry a fused activation");
  if (n.op == OpKind::Clip) {
    float lo = n.attrs.get_float("min", -INFINITY), hi = n.attrs.get_float("max", INFINITY);
    if (lo > hi) node_error(n, "min is greater than max");
  }
  if (n.op == OpKind::Celu && n.attrs.get_float("alpha", 1.f) == 0) n.attrs.fail("alpha", "must not be 0");
  if (n.op == OpKind::Gelu) {
    auto a = n.attrs.get_string("approximate", "none");
    if (a != "none" && a != "tanh") n.attrs.fail("approximate", "must be 'none' or 'tanh'");
  }
  switch (n.precision) {
    case Precision::Float:
      if (n.op == OpKind::Neg || n.op == OpKind::Abs || n.op == OpKind::Relu || n.op == OpKind::Sign)
        expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input");
      else if (n.op == OpKind::Not)
        expect_dtype(n, m, 0, {DT::boolean}, "input");
      else
        expect_dtype(n, m, 0, {DT::f32}, "input");
      if (n.op == OpKind::IsNaN || n.op == OpKind::IsInf) expect_out_dtype(n, m, 0, {DT::boolean}, "output");
      else expect_same_dtype(n, m, 0, 0);
      break;
    case Precision::Int8Static:
      // Any unary op runs in int8 through a 256-entry table built from its float definition.
      expect_dtype(n, m, 0, {DT::u8, DT::s8}, "input");
      expect_out_dtype(n, m, 0, {DT::u8, DT::s8}, "output");
      expect_per_tensor(n, m.tensor(n.inputs[0]));
      expect_per_tensor(n, m.tensor(n.outputs[0]));
      break;
    case Precision::Int8Dynamic:
      node_error(n, "has no dynamic int8 form");
  }
}

void infer_unary(InferCtx& c) { c.out = {c.input(0)}; }
}  // namespace

const OpSpec kBinarySpec{validate_binary, infer_binary};
const OpSpec kCompareSpec{validate_compare, infer_binary};
const OpSpec kUnarySpec{validate_unary, infer_unary};

}  // namespace octet
