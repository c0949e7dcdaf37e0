// Ops that pick or accumulate elements by position (GatherElements, Trilu, CumSum,
// DepthToSpace/SpaceToDepth, TopK, OneHot): validation and shape inference. Trilu's k, CumSum's
// axis, TopK's k and OneHot's depth may be operands computed at run time (ops/operands.h); they
// are attributes by then.
#include "ops/einsum.h"
#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

// Ops that move input 0's elements (8-bit: its codes) into the output, which therefore has input
// 0's dtype and quantization; `indices`: input 1 holds s32/i64 positions.
void expect_element_move(const NodeDef& n, const detail::ModelData& m, bool indices) {
  if (n.precision == Precision::Int8Dynamic) node_error(n, "has no dynamic int8 form");
  if (indices) expect_dtype(n, m, 1, {DT::s32, DT::i64}, "indices");
  expect_same_dtype(n, m, 0, 0);
  expect_same_quant(n, m, 0, 0);
}

void validate_gather_elements(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", 0);
  expect_element_move(n, m, true);
}

// Y has the shape of the indices; data and indices have the same rank.
void infer_gather_elements(InferCtx& c) {
  const Shape &x = c.input(0), &idx = c.input(1);
  if (x.size() != idx.size()) c.fail("data " + shape_str(x) + " and indices " + shape_str(idx) + " have different ranks");
  const int64_t ax = normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(x.size()), c.node);
  for (size_t d = 0; d < x.size(); ++d)
    if (static_cast<int64_t>(d) != ax && idx[d] > x[d])
      c.fail("indices " + shape_str(idx) + " exceed data " + shape_str(x) + " outside axis " + std::to_string(ax));
  c.out = {idx};
}

void validate_trilu(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("upper", 1);
  n.attrs.get_int("k", 0);
  expect_element_move(n, m, false);
  if (is_quantized(m.tensor(n.inputs[0]).dtype)) expect_per_tensor(n, m.tensor(n.inputs[0]));
}

void infer_trilu(InferCtx& c) {
  if (c.input(0).size() < 2) c.fail("input " + shape_str(c.input(0)) + " has rank below 2");
  c.out = {c.input(0)};
}

void validate_cumsum(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis");
  n.attrs.get_int("exclusive", 0);
  n.attrs.get_int("reverse", 0);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input");
  expect_same_dtype(n, m, 0, 0);
}

void infer_cumsum(InferCtx& c) {
  normalize_axis(c.node.attrs.get_int("axis"), static_cast<int64_t>(c.input(0).size()), c.node);
  c.out = {c.input(0)};
}
// DepthToSpace, SpaceToDepth: NCHW (ONNX's layout), rank 4.
void validate_depth_space(const NodeDef& n, const detail::ModelData& m) {
  if (n.attrs.get_int("blocksize") < 1) n.attrs.fail("blocksize", "must be positive");
  const std::string mode = n.attrs.get_string("mode", "DCR");
  if (n.op == OpKind::DepthToSpace && mode != "DCR" && mode != "CRD") n.attrs.fail("mode", "must be DCR or CRD");
  expect_element_move(n, m, false);
}

void infer_depth_space(InferCtx& c) {
  const Shape& x = c.input(0);
  if (x.size() != 4) c.fail("input " + shape_str(x) + " is not [N, C, H, W]");
  const int64_t b = c.node.attrs.get_int("blocksize");
  if (c.node.op == OpKind::DepthToSpace) {
    if (x[1] % (b * b) != 0) c.fail("channels " + std::to_string(x[1]) + " are not a multiple of blocksize^2 = " + std::to_string(b * b));
    c.out = {{x[0], x[1] / (b * b), x[2] * b, x[3] * b}};
  } else {
    if (x[2] % b != 0 || x[3] % b != 0) c.fail("height and width of " + shape_str(x) + " are not multiples of blocksize " + std::to_string(b));
    c.out = {{x[0], x[1] * b * b, x[2] / b, x[3] / b}};
  }
}

void validate_topk(const NodeDef& n, const detail::ModelData& m) {
  if (n.attrs.get_int("k") < 0) n.attrs.fail("k", "must not be negative");
  n.attrs.get_int("axis", -1);
  n.attrs.get_int("largest", 1);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "input");
  expect_same_dtype(n, m, 0, 0);
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) expect_out_dtype(n, m, 1, {DT::i64}, "indices");
}

void infer_topk(InferCtx& c) {
  Shape y = c.input(0);
  const int64_t ax = normalize_axis(c.node.attrs.get_int("axis", -1), static_cast<int64_t>(y.size()), c.node);
  const int64_t k = c.node.attrs.get_int("k");
  if (k > y[ax]) c.fail("k = " + std::to_string(k) + " exceeds the axis' " + std::to_string(y[ax]) + " elements");
  y[ax] = k;
  c.out = {y, y};
  c.out.resize(c.node.outputs.size());
}

void validate_onehot(const NodeDef& n, const detail::ModelData& m) {
  if (n.attrs.get_int("depth") < 1) n.attrs.fail("depth", "must be positive");
  n.attrs.get_int("axis", -1);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64}, "indices");
  if (n.inputs.size() < 3 || n.inputs[2] < 0) node_error(n, "needs its values input (input 2: [off, on])");
  expect_dtype(n, m, 2, {DT::f32, DT::s32, DT::i64}, "values");
  if (m.tensor(n.outputs[0]).dtype != m.tensor(n.inputs[2]).dtype) node_error(n, "output dtype must match values");
}

// Y: the indices' shape with `depth` inserted at `axis` (counted in Y's rank).
void infer_onehot(InferCtx& c) {
  Shape y = c.input(0);
  if (c.input(2).size() > 1 || shape_elements(c.input(2)) != 2) c.fail("values must hold [off, on], has shape " + shape_str(c.input(2)));
  const int64_t ax = normalize_axis(c.node.attrs.get_int("axis", -1), static_cast<int64_t>(y.size()) + 1, c.node);
  y.insert(y.begin() + ax, c.node.attrs.get_int("depth"));
  c.out = {y};
}
void validate_einsum(const NodeDef& n, const detail::ModelData& m) {
  if (n.attrs.get_string("equation", "").empty()) n.attrs.fail("equation", "is missing");
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    expect_dtype(n, m, i, {DT::f32, DT::s32, DT::i64}, "operand");
    if (m.tensor(n.inputs[i]).dtype != m.tensor(n.inputs[0]).dtype) node_error(n, "operands must have the same dtype");
  }
  expect_same_dtype(n, m, 0, 0);
}

void infer_einsum(InferCtx& c) {
  std::vector<Shape> in;
  for (size_t i = 0; i < c.in.size(); ++i) in.push_back(c.input(i));
  const EinsumPlan p = parse_einsum(c.node, in);
  Shape y;
  for (int l : p.output) y.push_back(p.sizes.at(l));
  c.out = {y};
}
void validate_gather_nd(const NodeDef& n, const detail::ModelData& m) {
  if (n.attrs.get_int("batch_dims", 0) < 0) n.attrs.fail("batch_dims", "must not be negative");
  expect_element_move(n, m, true);
}

// data [B..., D...], indices [B..., I..., k]: Y [B..., I..., D[k:]...] (b = batch_dims).
void infer_gather_nd(InferCtx& c) {
  const Shape &x = c.input(0), &idx = c.input(1);
  const size_t b = static_cast<size_t>(c.node.attrs.get_int("batch_dims", 0));
  if (idx.empty()) c.fail("indices must have rank >= 1");
  const int64_t k = idx.back();
  if (b >= idx.size() || b > x.size() || k < 0 || b + static_cast<size_t>(k) > x.size())
    c.fail("indices " + shape_str(idx) + " do not index data " + shape_str(x) + " with batch_dims " + std::to_string(b));
  for (size_t d = 0; d < b; ++d)
    if (x[d] != idx[d]) c.fail("batch dims of data " + shape_str(x) + " and indices " + shape_str(idx) + " differ");
  Shape y(idx.begin(), idx.end() - 1);
  y.insert(y.end(), x.begin() + static_cast<std::ptrdiff_t>(b + static_cast<size_t>(k)), x.end());
  c.out = {y};
}

void validate_scatter(const NodeDef& n, const detail::ModelData& m) {
  const std::string r = n.attrs.get_string("reduction", "none");
  if (r != "none" && r != "add" && r != "mul") n.attrs.fail("reduction", "must be none, add or mul");
  n.attrs.get_int("axis", 0);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64, DT::boolean}, "data");
  expect_dtype(n, m, 1, {DT::s32, DT::i64}, "indices");
  if (m.tensor(n.inputs[2]).dtype != m.tensor(n.inputs[0]).dtype) node_error(n, "updates must have data's dtype");
  expect_same_dtype(n, m, 0, 0);
}

// ScatterND: updates = indices.shape[:-1] + data.shape[k:]; ScatterElements: updates = indices.
void infer_scatter(InferCtx& c) {
  const Shape &x = c.input(0), &idx = c.input(1), &u = c.input(2);
  if (c.node.op == OpKind::ScatterND) {
    if (idx.empty() || idx.back() > static_cast<int64_t>(x.size())) c.fail("indices " + shape_str(idx) + " do not index data " + shape_str(x));
    Shape want(idx.begin(), idx.end() - 1);
    want.insert(want.end(), x.begin() + idx.back(), x.end());
    if (u != want) c.fail("updates " + shape_str(u) + " must be " + shape_str(want));
  } else {
    if (idx.size() != x.size() || u != idx) c.fail("data " + shape_str(x) + ", indices " + shape_str(idx) + " and updates " + shape_str(u) + " do not match");
    normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(x.size()), c.node);
  }
  c.out = {x};
}
void validate_eyelike(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("k", 0);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_out_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64, DT::boolean}, "output");
}

void infer_eyelike(InferCtx& c) {
  if (c.input(0).size() != 2) c.fail("input " + shape_str(c.input(0)) + " is not 2-D");
  c.out = {c.input(0)};
}
}  // namespace

const OpSpec kEyeLikeSpec{validate_eyelike, infer_eyelike};
const OpSpec kGatherNDSpec{validate_gather_nd, infer_gather_nd};
const OpSpec kScatterSpec{validate_scatter, infer_scatter};
const OpSpec kEinsumSpec{validate_einsum, infer_einsum};
const OpSpec kDepthSpaceSpec{validate_depth_space, infer_depth_space};
const OpSpec kTopKSpec{validate_topk, infer_topk};
const OpSpec kOneHotSpec{validate_onehot, infer_onehot};
const OpSpec kGatherElementsSpec{validate_gather_elements, infer_gather_elements};
const OpSpec kTriluSpec{validate_trilu, infer_trilu};
const OpSpec kCumSumSpec{validate_cumsum, infer_cumsum};

}  // namespace octet
