// Ops that pick or accumulate elements by position (GatherElements, Trilu, CumSum): validation
// and shape inference. Trilu's k and CumSum's axis may be operands computed at run time
// (ops/operands.h); they are attributes by then.
#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

void validate_gather_elements(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", 0);
  if (n.precision == Precision::Int8Dynamic) node_error(n, "has no dynamic int8 form");
  expect_dtype(n, m, 1, {DT::s32, DT::i64}, "indices");
  expect_same_dtype(n, m, 0, 0);
  expect_same_quant(n, m, 0, 0);
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
  if (n.precision == Precision::Int8Dynamic) node_error(n, "has no dynamic int8 form");
  expect_same_dtype(n, m, 0, 0);
  expect_same_quant(n, m, 0, 0);
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
}  // namespace

const OpSpec kGatherElementsSpec{validate_gather_elements, infer_gather_elements};
const OpSpec kTriluSpec{validate_trilu, infer_trilu};
const OpSpec kCumSumSpec{validate_cumsum, infer_cumsum};

}  // namespace octet
