// Add, Sub, Mul (static int8 and float) and Div (float) on every backend against the reference
// (OpTester): numpy broadcasting both ways, operand signedness and zero points, every fused
// activation.
#include <doctest/doctest.h>

#include "op_cases.h"

using namespace octet;
using namespace octet::test;

namespace {

const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> kShapes{
    {{2, 5, 7, 17}, {2, 5, 7, 17}}, {{3, 4, 4, 33}, {1, 1, 1, 33}}, {{3, 4, 4, 33}, {33}},
    {{2, 3, 3, 17}, {2, 1, 1, 17}}, {{17}, {3, 4, 4, 17}},          {{1, 3, 3, 1}, {2, 3, 3, 3}}};

// Which backends must run a binary case (the others are reported; refusal reasons are tested in
// tests/backends/test_*_behaviour.cc).
void require_binary_backends(OpTester& t, const BinaryCase& c, Precision p) {
  t.no_requirements();
  const bool int8 = p == Precision::Int8Static;
  // oneDNN: no int8 Mul with a zero point, no Sub whose B alone has the full shape; a
  // per-spatial broadcast ([1,H,W,1]) has only oneDNN's reference code.
  const bool b_only_full = broadcast(c.a, c.b) != c.a;
  if (!(int8 && c.op == "Mul" && (c.qa.zero_point || c.qb.zero_point)) && !(c.op == "Sub" && b_only_full))
    t.require("onednn", "", "has only its reference implementation");
  // XNNPACK: Add/Sub/Mul with an output clamp (no other fused activation).
  const bool clamp = c.act.empty() || c.act == "Relu" || c.act == "Relu6";
  if (c.op != "Div" && clamp) t.require("xnnpack");
}

void check_binary(const BinaryCase& c, uint32_t seed) {
  OpTester t = binary_tester(c, seed);
  for (Precision p : {Precision::Int8Static, Precision::Float}) {
    require_binary_backends(t, c, p);
    t.precision(p).check();
  }
}

}  // namespace

TEST_CASE("binary: Add/Sub/Mul int8 and float, broadcasting, operand swap, every activation") {
  const std::vector<std::string> acts{"", "Relu", "Relu6", "LeakyRelu", "Sigmoid", "HardSwish", "HardSigmoid", "Tanh", "Gelu"};
  int k = 0;
  uint32_t seed = 1300;
  for (const std::string op : {"Add", "Sub", "Mul"})
    for (const auto& [a, b] : kShapes) {
      BinaryCase c;
      c.op = op, c.a = a, c.b = b;
      c.act = acts[k % acts.size()];
      if (op != "Mul") {
        c.qa = Q8{k % 2 ? DataType::u8 : DataType::s8, k % 2 ? 128 : -7, 0.03f};
        c.qb = Q8{k % 3 ? DataType::u8 : DataType::s8, k % 3 ? 37 : 3, 0.05f};
      } else {
        c.qa = Q8{k % 2 ? DataType::u8 : DataType::s8, 0, 0.03f};
        c.qb = Q8{DataType::s8, 0, 0.05f};
      }
      c.yt = k % 4 == 3 ? DataType::s8 : DataType::u8;
      check_binary(c, seed += 3);
      ++k;
    }
  // Every activation with an offset (non-zero zero points), which takes oneDNN's pre-add path.
  for (const std::string& act : acts) {
    BinaryCase c;
    c.a = {2, 4, 4, 17}, c.b = {1, 1, 1, 17}, c.act = act;
    c.qa = Q8{DataType::u8, 100, 0.03f}, c.qb = Q8{DataType::u8, 30, 0.02f};
    check_binary(c, seed += 3);
  }
}

TEST_CASE("binary: Add/Sub/Mul with both signednesses and zero points on each operand, clamps") {
  const std::vector<std::string> acts{"", "Relu", "Relu6"};
  int k = 0;
  uint32_t seed = 2300;
  for (const std::string op : {"Add", "Sub", "Mul"})
    for (const auto& [a, b] : kShapes) {
      BinaryCase c;
      c.op = op, c.a = a, c.b = b, c.act = acts[k % acts.size()];
      c.qa = Q8{k % 2 ? DataType::u8 : DataType::s8, k % 2 ? 128 : -7, 0.03f};
      c.qb = Q8{k % 3 ? DataType::u8 : DataType::s8, k % 3 ? 37 : 3, 0.05f};
      c.yt = k % 4 == 3 ? DataType::s8 : DataType::u8;
      check_binary(c, seed += 3);
      ++k;
    }
}

TEST_CASE("binary: float Div with broadcasting") {
  for (const auto& [a, b] : {std::pair<std::vector<int64_t>, std::vector<int64_t>>{{2, 3, 3, 17}, {1, 1, 1, 17}}, {{2, 3}, {2, 3}}}) {
    OpTester t(OpKind::Div);
    // B away from 0, so that the quotient is O(1).
    t.precision(Precision::Float).seed(7).input(a, -3.f, 3.f).input(b, 0.5f, 3.f).output(DataType::f32);
    t.require("onednn").check();
  }
}
