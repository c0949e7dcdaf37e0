// Data movement on every backend against the reference (OpTester): Transpose (every dtype it
// copies, ranks 2-5, the default reversed permutation) and Slice (offsets, steps, negative
// indices, ends past the dimension, negative steps). Both are byte copies: exact.
#include <doctest/doctest.h>

#include <algorithm>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

namespace {
// Input data of dtype t: f32 values, 8-bit codes (with their quantization), s32 values that are
// not codes (widened codes x 1000 - 7).
void add_input(OpTester& o, DataType t, const std::vector<int64_t>& shape) {
  if (t == DataType::f32) {
    o.input(shape, -3.f, 3.f);
  } else if (t == DataType::s32) {
    NdArray codes = random_q8(DataType::u8, shape, 6), x{DataType::s32, shape, std::vector<uint8_t>(codes.bytes.size() * 4)};
    for (size_t i = 0; i < codes.bytes.size(); ++i) x.as<int32_t>()[i] = codes.bytes[i] * 1000 - 7;
    o.input(x);
  } else {
    o.input(shape, Q8{t, t == DataType::u8 ? 100 : 0, 0.05f});
  }
}
Precision precision_of(DataType t) { return t == DataType::u8 || t == DataType::s8 ? Precision::Int8Static : Precision::Float; }
}  // namespace

TEST_CASE("reorder: Transpose of every dtype, ranks 2 to 5, default and explicit permutations") {
  struct T {
    std::vector<int64_t> shape, perm;
  };
  for (const T& c : {T{{3, 5}, {}}, T{{1, 3, 16, 17}, {0, 2, 3, 1}}, T{{2, 7, 4, 8}, {0, 2, 1, 3}}, T{{2, 3, 4, 5, 6}, {4, 0, 3, 1, 2}}})
    for (DataType t : {DataType::f32, DataType::u8, DataType::s8, DataType::s32}) {
      OpTester o(OpKind::Transpose);
      o.precision(precision_of(t)).seed(5).label("rank " + std::to_string(c.shape.size()) + " " + dtype_name(t));
      add_input(o, t, c.shape);
      o.attrs(c.perm.empty() ? json::object() : json{{"perm", c.perm}}).output(t);
      o.require("onednn").check();
    }
}

TEST_CASE("reorder: Slice with offsets, steps, negative indices and ends past the dimension") {
  struct S {
    std::vector<int64_t> shape, starts, ends, axes, steps;
  };
  for (const S& c : {S{{128, 1, 96}, {32}, {64}, {2}, {1}}, S{{2, 9, 10, 7}, {1, 2}, {100, -1}, {1, 3}, {2, 1}},
                     S{{4, 6, 5}, {0, 1, 4}, {4, 6, 0}, {0, 1, 2}, {3, 2, -1}}})
    for (DataType t : {DataType::f32, DataType::u8, DataType::s32}) {
      OpTester o(OpKind::Slice);
      o.precision(precision_of(t)).seed(6).label("rank " + std::to_string(c.shape.size()) + " " + dtype_name(t));
      add_input(o, t, c.shape);
      o.attrs({{"starts", c.starts}, {"ends", c.ends}, {"axes", c.axes}, {"steps", c.steps}}).output(t);
      // oneDNN has no negative strides: it declines a negative step (the reference runs it).
      const bool negative = std::any_of(c.steps.begin(), c.steps.end(), [](int64_t v) { return v < 0; });
      if (!negative) o.require("onednn");
      const OpResult r = o.check();
#if defined(OCTET_WITH_ONEDNN)
      CHECK(r.ran_on("onednn") == !negative);
#endif
    }
}
