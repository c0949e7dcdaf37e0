// Ops whose outputs are sized by the input values (OpSpec::value_shaped): NonZero,
// NonMaxSuppression and Compress. infer() gives the largest output the inputs allow; the kernel
// (kernels/reference/select_ref.cc) sets the shape it filled.
#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

void validate_nonzero(const NodeDef& n, const detail::ModelData& m) {
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32, DT::s32, DT::i64, DT::boolean}, "input");
  expect_out_dtype(n, m, 0, {DT::i64}, "output");
}

// [rank, count] with count <= elements (a scalar counts as rank 1, as numpy and ORT do).
void infer_nonzero(InferCtx& c) {
  const Shape& x = c.input(0);
  c.out = {Shape{std::max<int64_t>(1, static_cast<int64_t>(x.size())), shape_elements(x)}};
}

// boxes [batches, boxes, 4], scores [batches, classes, boxes], then optional scalars
// max_output_boxes_per_class (i64), iou_threshold and score_threshold (f32), read when it runs.
void validate_nms(const NodeDef& n, const detail::ModelData& m) {
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  const int64_t cpb = n.attrs.get_int("center_point_box", 0);
  if (cpb != 0 && cpb != 1) n.attrs.fail("center_point_box", "must be 0 or 1");
  expect_dtype(n, m, 0, {DT::f32}, "boxes");
  expect_dtype(n, m, 1, {DT::f32}, "scores");
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) expect_dtype(n, m, 2, {DT::i64, DT::s32}, "max_output_boxes_per_class");
  if (n.inputs.size() > 3 && n.inputs[3] >= 0) expect_dtype(n, m, 3, {DT::f32}, "iou_threshold");
  if (n.inputs.size() > 4 && n.inputs[4] >= 0) expect_dtype(n, m, 4, {DT::f32}, "score_threshold");
  expect_out_dtype(n, m, 0, {DT::i64}, "selected_indices");
}

void infer_nms(InferCtx& c) {
  const Shape &b = c.input(0), &s = c.input(1);
  if (b.size() != 3 || b[2] != 4) c.fail("boxes " + shape_str(b) + " are not [batches, boxes, 4]");
  if (s.size() != 3 || s[0] != b[0] || s[2] != b[1])
    c.fail("scores " + shape_str(s) + " are not [batches, classes, boxes] for boxes " + shape_str(b));
  for (size_t i = 2; i < 5; ++i)
    if (c.has_input(i) && shape_elements(c.input(i)) != 1) c.fail("input " + std::to_string(i) + " " + shape_str(c.input(i)) + " is not a scalar");
  c.out = {Shape{s[0] * s[1] * s[2], 3}};
}
// Compress: input 0's slices along `axis` (or its flattened elements, without `axis`) where the
// 1-D bool condition is true; at most all of them.
void validate_compress(const NodeDef& n, const detail::ModelData& m) {
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  n.attrs.get_int("axis", 0);
  expect_dtype(n, m, 1, {DT::boolean}, "condition");
  expect_same_dtype(n, m, 0, 0);
}

void infer_compress(InferCtx& c) {
  const Shape &x = c.input(0), &cond = c.input(1);
  if (cond.size() != 1) c.fail("condition " + shape_str(cond) + " is not 1-D");
  if (!c.node.attrs.has("axis")) return void(c.out = {Shape{shape_elements(x)}});
  const int64_t ax = normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(x.size()), c.node);
  if (cond[0] > x[ax]) c.fail("condition " + shape_str(cond) + " is longer than axis " + std::to_string(ax) + " of " + shape_str(x));
  c.out = {x};
}
}  // namespace

const OpSpec kCompressSpec{validate_compress, infer_compress, nullptr, true};
const OpSpec kNonZeroSpec{validate_nonzero, infer_nonzero, nullptr, true};
const OpSpec kNonMaxSuppressionSpec{validate_nms, infer_nms, nullptr, true};

}  // namespace octet
