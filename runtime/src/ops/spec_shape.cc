// Ops that make shapes and index ranges at run time (Shape, Size, ConstantOfShape, Range):
// validation and shape inference. Their operands (ops/operands.h) are attributes by then.
#include <cmath>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

void validate_shape(const NodeDef& n, const detail::ModelData& m) {
  expect_out_dtype(n, m, 0, {DT::i64}, "output");
  n.attrs.get_int("start", 0);
  n.attrs.get_int("end", 0);
}

void infer_shape(InferCtx& c) {
  auto [b, e] = shape_range(c.node, static_cast<int64_t>(c.input(0).size()));
  c.out = {{std::max<int64_t>(0, e - b)}};
}

void validate_size(const NodeDef& n, const detail::ModelData& m) { expect_out_dtype(n, m, 0, {DT::i64}, "output"); }
void infer_size(InferCtx& c) { c.out = {Shape{}}; }

void validate_constant_of_shape(const NodeDef& n, const detail::ModelData& m) {
  expect_dtype(n, m, 0, {DT::i64}, "shape");
  expect_out_dtype(n, m, 0, {DT::f32, DT::i64, DT::s32, DT::boolean}, "output");
  for (int64_t d : n.attrs.get_ints("shape"))
    if (d < 0) n.attrs.fail("shape", "has a negative dimension");
  n.attrs.get_float("value", 0.f);
}

void infer_constant_of_shape(InferCtx& c) { c.out = {c.node.attrs.get_ints("shape")}; }

// Range's element count, ONNX: max(ceil((limit - start) / delta), 0), in double (exact for the
// sizes a tensor can have) for both integer and float ranges.
int64_t range_count(const NodeDef& n) {
  const double start = n.attrs.json().at("start").get<double>(), limit = n.attrs.json().at("limit").get<double>(),
               delta = n.attrs.json().at("delta").get<double>();
  if (delta == 0) n.attrs.fail("delta", "must not be 0");
  const double count = std::ceil((limit - start) / delta);
  if (!(count < 1e12)) n.attrs.fail("limit", "gives a range too large to hold");
  return count > 0 ? static_cast<int64_t>(count) : 0;
}

void validate_range(const NodeDef& n, const detail::ModelData& m) {
  expect_out_dtype(n, m, 0, {DT::f32, DT::i64, DT::s32}, "output");
  for (const char* k : {"start", "limit", "delta"})
    if (!n.attrs.has(k) || !n.attrs.json().at(k).is_number()) n.attrs.fail(k, "must be a number");
  range_count(n);
}

void infer_range(InferCtx& c) { c.out = {{range_count(c.node)}}; }

}  // namespace

const OpSpec kShapeSpec{validate_shape, infer_shape};
const OpSpec kSizeSpec{validate_size, infer_size};
const OpSpec kConstantOfShapeSpec{validate_constant_of_shape, infer_constant_of_shape};
const OpSpec kRangeSpec{validate_range, infer_range};

}  // namespace octet
