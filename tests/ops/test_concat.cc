// Concat on every backend against the reference (OpTester) and against a copy made by hand:
// float and 8-bit inputs sharing the output's quantization, along every axis (negative too).
// (A requantizing Concat, inputs with other parameters than the output, stays on the reference
// kernel on both backends: tests/backends.)
#include <doctest/doctest.h>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;

namespace {
// The concatenation of `xs` along `axis`, as a plain copy of bytes.
NdArray concat(const std::vector<NdArray>& xs, int axis) {
  NdArray y{xs[0].dtype, xs[0].shape, {}};
  y.shape[axis] = 0;
  for (const auto& x : xs) y.shape[axis] += x.shape[axis];
  const size_t es = dtype_size(y.dtype);
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= y.shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (const auto& x : xs) {
      const size_t chunk = static_cast<size_t>(x.elements() / outer) * es;
      y.bytes.insert(y.bytes.end(), x.bytes.begin() + o * chunk, x.bytes.begin() + (o + 1) * chunk);
    }
  return y;
}
}  // namespace

TEST_CASE("concat: float and int8 with shared quantization, any axis") {
  for (DataType t : {DataType::f32, DataType::u8, DataType::s8})
    for (int axis : {3, 1, 0, -1}) {
      const int ax = axis < 0 ? axis + 4 : axis;
      const std::vector<std::vector<int64_t>> shapes = ax == 3   ? std::vector<std::vector<int64_t>>{{2, 3, 3, 5}, {2, 3, 3, 17}, {2, 3, 3, 1}}
                                                       : ax == 1 ? std::vector<std::vector<int64_t>>{{2, 1, 4, 3}, {2, 5, 4, 3}}
                                                                 : std::vector<std::vector<int64_t>>{{1, 2, 2, 3}, {3, 2, 2, 3}};
      const Q8 q = t == DataType::s8 ? Q8{DataType::s8, 0, 0.1f} : Q8{DataType::u8, 128, 0.1f};
      OpTester c(OpKind::Concat);
      c.precision(t == DataType::f32 ? Precision::Float : Precision::Int8Static).seed(40).attrs({{"axis", axis}});
      c.label(std::string(dtype_name(t)) + " axis " + std::to_string(axis));
      for (const auto& s : shapes) c.input(s, q);
      if (t == DataType::f32) c.output(DataType::f32);
      else c.output(t, per_tensor(q.scale, q.zero_point));   // shared: the codes are copied
      const OpResult r = c.require("onednn").require("xnnpack").check();
      std::vector<NdArray> xs;
      for (size_t i = 0; i < shapes.size(); ++i) xs.push_back(r.inputs.at("x" + std::to_string(i)));
      REQUIRE(!r.reference.empty());
      CHECK(r.reference[0].bytes == concat(xs, ax).bytes);
    }
}
