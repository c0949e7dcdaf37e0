// MaxPool, AveragePool (padding counted or not) and GlobalAveragePool on every backend against
// the reference (OpTester): u8, s8 and float, padding, strides, dilation, ceil mode, one-row and
// one-channel inputs.
#include <doctest/doctest.h>

#include "op_cases.h"

using namespace octet;
using namespace octet::test;

namespace {

// Which backends must run a pooling case (the others are reported): see the refusals in
// tests/backends/test_*_behaviour.cc.
void require_pool_backends(OpTester& t, const PoolCase& c, Precision p) {
  t.no_requirements();
  const bool int8 = p == Precision::Int8Static, average = c.op == "AveragePool";
  // oneDNN: no dilated pooling, no int8 average counting padding with a zero point, no ceil mode
  // counting padding; without VNNI some shapes (one-row global pooling) have only oneDNN's
  // reference code.
  const bool onednn_form = c.dil == 1 && !(int8 && average && c.include_pad && c.x.zero_point != 0) && !(c.ceil && c.include_pad);
#if defined(OCTET_WITH_ONEDNN)
  if (onednn_form) t.require("onednn", "", onednn_has_vnni() ? "" : "offers only ref");
#endif
  // XNNPACK: max pooling, float averages not counting padding, float global averages; int8
  // global averages on octet's simd kernel; int8 window averages stay on the reference (its
  // fixed-point mean rounds differently).
  if (c.op == "MaxPool" || (!int8 && !(average && c.include_pad))) t.require("xnnpack");
  if (int8 && c.op == "GlobalAveragePool") t.require("xnnpack", "qs8_global_average_pool__simd");
}

}  // namespace

TEST_CASE("pooling: max, average (padding counted or not), global, ceil mode, dilation; u8, s8, f32") {
  std::vector<PoolCase> cases;
  auto add = [&](auto f) { PoolCase c; f(c); cases.push_back(c); };
  for (const Q8& x : {Q8{DataType::u8, 37, 0.05f}, Q8{DataType::s8, -5, 0.05f}, Q8{DataType::u8, 0, 0.05f}}) {
    add([&](PoolCase& c) { c.x = x; });
    add([&](PoolCase& c) { c.x = x, c.N = 3, c.C = 3, c.ceil = true, c.H = 10, c.W = 8; });
    add([&](PoolCase& c) { c.x = x, c.KH = 2, c.KW = 2, c.pad(0), c.C = 33; });
    add([&](PoolCase& c) { c.x = x, c.dil = 2, c.H = c.W = 11, c.sh = 1; });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.C = 33, c.pt = 0, c.pr = 2; });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.C = 33, c.pad(0), c.N = 2; });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.KH = c.KW = 5, c.sh = c.sw = 1, c.pad(2), c.ceil = true; });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.C = 1, c.sh = 1, c.pad(0); });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.include_pad = true, c.C = 17; });
    add([&](PoolCase& c) { c.x = x, c.op = "AveragePool", c.include_pad = true, c.C = 17, c.N = 2, c.ceil = true, c.H = c.W = 10; });
    add([&](PoolCase& c) { c.x = x, c.op = "GlobalAveragePool", c.N = 3, c.H = 7, c.W = 7, c.C = 33; });
    add([&](PoolCase& c) { c.x = x, c.op = "GlobalAveragePool", c.H = 1, c.W = 5, c.C = 3; });
  }
  uint32_t seed = 900;
  for (const PoolCase& c : cases) {
    OpTester t = pool_tester(c, seed++);
    // Three channels of one pixel: three means, which may repeat.
    if (c.op == "GlobalAveragePool" && c.C < 4) t.narrow_output_ok();
    for (Precision p : {Precision::Int8Static, Precision::Float}) {
      require_pool_backends(t, c, p);
      t.precision(p).check();
    }
  }
}
