// Elementwise unary ops on every backend against the reference (OpTester): every float unary op
// over a domain where it is defined and O(1). (Static int8 unary ops are 256-entry lookup tables
// that every backend leaves to the reference kernel: test_every_op.cc runs them.)
#include <doctest/doctest.h>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

TEST_CASE("unary: every float op on its domain; XNNPACK's operators where it has them") {
  struct U {
    OpKind op;
    json attrs;
    float lo, hi;
    bool xnnpack;   // in XNNPACK's implementation list (kernels/xnnpack/xnnpack_backend.cc)
  };
  const std::vector<U> ops{{OpKind::Relu, json::object(), -8, 8, true},
                           {OpKind::Clip, {{"min", -0.5}, {"max", 1.5}}, -8, 8, true},
                           {OpKind::LeakyRelu, {{"alpha", 0.2}}, -8, 8, true},
                           {OpKind::Sigmoid, json::object(), -8, 8, true},
                           {OpKind::Tanh, json::object(), -8, 8, false},
                           {OpKind::HardSwish, json::object(), -8, 8, true},
                           {OpKind::HardSigmoid, {{"alpha", 0.2}, {"beta", 0.5}}, -8, 8, false},
                           {OpKind::Gelu, json::object(), -8, 8, false},
                           {OpKind::Erf, json::object(), -3, 3, false},
                           {OpKind::Exp, json::object(), -4, 4, false},
                           {OpKind::Log, json::object(), 0.1f, 8, false},
                           {OpKind::Sqrt, json::object(), 0, 8, true},
                           {OpKind::Neg, json::object(), -8, 8, true},
                           {OpKind::Abs, json::object(), -8, 8, true},
                           {OpKind::Reciprocal, json::object(), 0.25f, 8, false}};
  for (const U& u : ops) {
    OpTester t(u.op);
    t.precision(Precision::Float).seed(7).input({2, 5, 7, 3}, u.lo, u.hi).attrs(u.attrs).output(DataType::f32);
    if (u.xnnpack) t.require("xnnpack");
    t.check();
  }
}
