// Conv, ConvTranspose, FullyConnected, MatMul and pooling: validation and shape inference.
#include "ops/op_spec.h"
#include "ops/params.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

// Checks the dtypes of a weight-carrying op (Conv, ConvTranspose, FullyConnected):
// inputs X, W, B (optional), R (optional residual, Conv only).
void validate_weighted(const NodeDef& n, const detail::ModelData& m) {
  const TensorDef& w = m.tensor(n.inputs[1]);
  // Float Conv / ConvTranspose may read weights and bias computed at run time (ONNX allows graph
  // inputs there; the reference kernel reads them per run); everything else needs constants.
  const bool runtime_ok = n.precision == Precision::Float && (n.op == OpKind::Conv || n.op == OpKind::ConvTranspose);
  if (!w.is_constant() && !runtime_ok) node_error(n, "weight '" + w.name + "' must be a constant");
  if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !m.tensor(n.inputs[2]).is_constant() && !runtime_ok)
    node_error(n, "bias '" + m.tensor(n.inputs[2]).name + "' must be a constant");
  switch (n.precision) {
    case Precision::Float:
      expect_dtype(n, m, 0, {DT::f32}, "input");
      expect_dtype(n, m, 1, {DT::f32}, "weight");
      expect_dtype(n, m, 2, {DT::f32}, "bias");
      expect_dtype(n, m, 3, {DT::f32}, "residual");
      expect_out_dtype(n, m, 0, {DT::f32}, "output");
      break;
    case Precision::Int8Static:
      expect_dtype(n, m, 0, {DT::u8, DT::s8}, "input");
      expect_dtype(n, m, 1, {DT::s8}, "weight");
      expect_dtype(n, m, 2, {DT::s32}, "bias");
      expect_dtype(n, m, 3, {DT::u8, DT::s8}, "residual");
      expect_out_dtype(n, m, 0, {DT::u8, DT::s8}, "output");
      expect_per_tensor(n, m.tensor(n.inputs[0]));
      expect_per_tensor(n, m.tensor(n.outputs[0]));
      if (n.inputs.size() > 3 && n.inputs[3] >= 0) expect_per_tensor(n, m.tensor(n.inputs[3]));
      break;
    case Precision::Int8Dynamic:   // FullyConnected only (op_table.def)
      expect_dtype(n, m, 0, {DT::f32}, "input");
      expect_dtype(n, m, 1, {DT::s8}, "weight");
      expect_dtype(n, m, 2, {DT::f32}, "bias");
      expect_out_dtype(n, m, 0, {DT::f32}, "output");
      break;
  }
  if (w.dtype == DT::s8) {
    if (w.quant.axis != -1 && w.quant.axis != 0) node_error(n, "weight '" + w.name + "' must be quantized per tensor or per output channel (axis 0)");
    for (int32_t z : w.quant.zero_point)
      if (z != 0) node_error(n, "weight '" + w.name + "' must be quantized symmetrically (zero point 0)");
  }
}

void validate_conv(const NodeDef& n, const detail::ModelData& m) {
  parse_conv(n);
  if (n.op == OpKind::ConvTranspose && n.inputs.size() > 3) node_error(n, "ConvTranspose takes no residual input");
  validate_weighted(n, m);
}

void infer_conv(InferCtx& c) {
  const Shape& x = c.input(0);
  const Shape& w = c.input(1);
  if (x.size() != 4) c.fail("input must be rank 4 [N,H,W,C], got " + shape_str(x));
  if (w.size() != 4) c.fail("weight must be rank 4 [O,KH,KW,C/group], got " + shape_str(w));
  ConvParams p = parse_conv(c.node);
  if (x[3] != w[3] * p.group)
    c.fail("input has " + std::to_string(x[3]) + " channels but weight expects " + std::to_string(w[3]) + " x group " +
           std::to_string(p.group));
  if (w[0] % p.group != 0) c.fail("output channels " + std::to_string(w[0]) + " are not divisible by group");
  if (c.has_input(2) && c.input(2) != Shape{w[0]})
    c.fail("bias shape " + shape_str(c.input(2)) + " does not match " + std::to_string(w[0]) + " output channels");
  int64_t oh, ow;
  if (c.node.op == OpKind::Conv) {
    oh = conv_out_dim(x[1], w[1], p.stride_h, p.pad_t, p.pad_b, p.dil_h);
    ow = conv_out_dim(x[2], w[2], p.stride_w, p.pad_l, p.pad_r, p.dil_w);
  } else {
    oh = deconv_out_dim(x[1], w[1], p.stride_h, p.pad_t, p.pad_b, p.dil_h, p.out_pad_h);
    ow = deconv_out_dim(x[2], w[2], p.stride_w, p.pad_l, p.pad_r, p.dil_w, p.out_pad_w);
  }
  if (oh <= 0 || ow <= 0) c.fail("input " + shape_str(x) + " is too small for the kernel and padding");
  Shape y{x[0], oh, ow, w[0]};
  if (c.has_input(3) && c.input(3) != y)
    c.fail("residual shape " + shape_str(c.input(3)) + " does not match output shape " + shape_str(y));
  c.out = {y};
}

void validate_fc(const NodeDef& n, const detail::ModelData& m) {
  validate_weighted(n, m);
  if (dynamic_input_per_row(n) && n.precision != Precision::Int8Dynamic)
    n.attrs.fail("input_quant", "per_row applies to int8_dynamic nodes only");
}

void infer_fc(InferCtx& c) {
  const Shape& x = c.input(0);
  const Shape& w = c.input(1);
  if (w.size() != 2) c.fail("weight must be rank 2 [N,K], got " + shape_str(w));
  if (x.empty() || x.back() != w[1])
    c.fail("input " + shape_str(x) + " does not end in K=" + std::to_string(w[1]) + " of weight " + shape_str(w));
  if (c.has_input(2) && c.input(2) != Shape{w[0]}) c.fail("bias shape " + shape_str(c.input(2)) + " does not match N=" + std::to_string(w[0]));
  if (c.has_input(3)) c.fail("FullyConnected takes no residual input");
  Shape y = x;
  y.back() = w[0];
  c.out = {y};
}

void validate_matmul(const NodeDef& n, const detail::ModelData& m) {
  switch (n.precision) {
    case Precision::Float:
    case Precision::Int8Dynamic:
      expect_dtype(n, m, 0, {DT::f32}, "input A");
      expect_dtype(n, m, 1, {DT::f32}, "input B");
      expect_out_dtype(n, m, 0, {DT::f32}, "output");
      break;
    case Precision::Int8Static:
      expect_dtype(n, m, 0, {DT::u8, DT::s8}, "input A");
      expect_dtype(n, m, 1, {DT::u8, DT::s8}, "input B");
      expect_out_dtype(n, m, 0, {DT::u8, DT::s8}, "output");
      expect_per_tensor(n, m.tensor(n.inputs[0]));
      expect_per_tensor(n, m.tensor(n.inputs[1]));
      expect_per_tensor(n, m.tensor(n.outputs[0]));
      break;
  }
}

void infer_matmul(InferCtx& c) {
  const Shape& a = c.input(0);
  const Shape& b = c.input(1);
  if (a.size() < 2 || b.size() < 2) c.fail("inputs must have rank >= 2, got " + shape_str(a) + " and " + shape_str(b));
  if (a.back() != b[b.size() - 2]) c.fail("inner dimensions differ: " + shape_str(a) + " x " + shape_str(b));
  Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), batch;
  if (!broadcast_shapes(ab, bb, &batch)) c.fail("batch dimensions do not broadcast: " + shape_str(a) + " x " + shape_str(b));
  batch.push_back(a[a.size() - 2]);
  batch.push_back(b.back());
  c.out = {batch};
}

void validate_pool(const NodeDef& n, const detail::ModelData& m) {
  if (n.op != OpKind::GlobalAveragePool) parse_pool(n);
  expect_dtype(n, m, 0, {DT::f32, DT::u8, DT::s8}, "input");
  expect_same_dtype(n, m, 0, 0);
  expect_same_quant(n, m, 0, 0);
}

void infer_pool(InferCtx& c) {
  const Shape& x = c.input(0);
  if (x.size() != 4) c.fail("input must be rank 4 [N,H,W,C], got " + shape_str(x));
  if (c.node.op == OpKind::GlobalAveragePool) {
    c.out = {{x[0], 1, 1, x[3]}};
    return;
  }
  PoolParams p = parse_pool(c.node);
  int64_t oh = pool_out_dim(x[1], p.kernel_h, p.stride_h, p.pad_t, p.pad_b, p.dil_h, p.ceil_mode);
  int64_t ow = pool_out_dim(x[2], p.kernel_w, p.stride_w, p.pad_l, p.pad_r, p.dil_w, p.ceil_mode);
  if (oh <= 0 || ow <= 0) c.fail("input " + shape_str(x) + " is smaller than the pooling window");
  c.out = {{x[0], oh, ow, x[3]}};
}


double conv_ops(const NodeDef&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  const Shape &y = out[0], &w = in[1];   // w: [O, KH, KW, C/group]
  return 2.0 * shape_elements(y) * w[1] * w[2] * w[3];
}
double conv_transpose_ops(const NodeDef&, const std::vector<Shape>& in, const std::vector<Shape>&) {
  const Shape &x = in[0], &w = in[1];   // every input pixel's C/group channels reach KH x KW x O outputs
  return 2.0 * shape_elements(x) / x[3] * w[0] * w[1] * w[2] * w[3];
}
double fc_ops(const NodeDef&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  return 2.0 * shape_elements(out[0]) * in[1][1];
}
double matmul_ops(const NodeDef&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  return 2.0 * shape_elements(out[0]) * in[0].back();
}
}  // namespace

const OpSpec kConvSpec{validate_conv, infer_conv, conv_ops};
const OpSpec kConvTransposeSpec{validate_conv, infer_conv, conv_transpose_ops};
const OpSpec kFullyConnectedSpec{validate_fc, infer_fc, fc_ops};
const OpSpec kMatMulSpec{validate_matmul, infer_matmul, matmul_ops};
const OpSpec kPoolSpec{validate_pool, infer_pool};

}  // namespace octet
