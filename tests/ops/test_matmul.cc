// MatMul on every backend against the reference (OpTester): batch broadcasting, K and N tails,
// zero points of both operands, activations; static int8, float, and int8_dynamic (both
// operands quantized at run time, NaN in B).
#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;

namespace {

struct MatMulCase {
  std::vector<int64_t> a, b;   // full shapes
  std::string act;
  Q8 qa = u8(0);
  int32_t zpb = 0;   // B is s8
  DataType yt = DataType::u8;
  std::string str() const {
    std::ostringstream s;
    s << "A [";
    for (auto d : a) s << d << ",";
    s << "] B [";
    for (auto d : b) s << d << ",";
    s << "] act '" << act << "' A " << dtype_name(qa.dtype) << " zp " << qa.zero_point << " B s8 zp " << zpb << " y "
      << dtype_name(yt);
    return s.str();
  }
};

}  // namespace

TEST_CASE("matmul: batch broadcasting, zero points, activations; static int8 and float") {
  std::vector<MatMulCase> cases;
  auto add = [&](auto f) { MatMulCase c; f(c); cases.push_back(c); };
  add([](MatMulCase& c) { c.a = {5, 7}, c.b = {7, 3}; });
  add([](MatMulCase& c) { c.a = {2, 3, 5, 17}, c.b = {17, 4}, c.qa = u8(37), c.act = "Relu"; });
  add([](MatMulCase& c) { c.a = {1, 5, 33}, c.b = {3, 33, 17}, c.qa = u8(128), c.zpb = 5, c.yt = DataType::s8; });
  add([](MatMulCase& c) { c.a = {3, 9, 16}, c.b = {3, 16, 9}, c.qa = s8(-3), c.act = "Sigmoid"; });
  add([](MatMulCase& c) { c.a = {4, 64}, c.b = {64, 33}, c.zpb = -2, c.act = "HardSwish"; });
  uint32_t seed = 700;
  for (const MatMulCase& c : cases) {
    OpTester t(OpKind::MatMul);
    t.seed(seed += 10).label(c.str()).input(c.a, c.qa).scaled_input(c.b, s8(c.zpb)).activation(c.act).output(c.yt);
#if defined(OCTET_WITH_ONEDNN)
    // Without VNNI a run-time int8 B may hold codes beyond [-64, 64]: refused (test_onednn_behaviour.cc).
    if (onednn_has_vnni()) t.require("onednn");
#endif
    t.precision(Precision::Int8Static).check();
    t.no_requirements().require("onednn").precision(Precision::Float).check();
  }
}

// The optimized int8_dynamic MatMul computes the reference's integers and float steps, with batch
// broadcasting, K and N tails, a fused Relu, 1 and 2 threads, and a NaN in B (code 0).
TEST_CASE("matmul: int8_dynamic of two activations, broadcasting, tails, NaN in B") {
  struct C {
    std::vector<int64_t> a, b;
    const char* act;
  };
  uint32_t seed = 3;
  for (const C& c : {C{{5, 7}, {7, 3}, ""}, C{{2, 3, 9, 17}, {2, 3, 17, 13}, "Relu"}, C{{2, 3, 9, 17}, {17, 40}, ""},
                     C{{12, 16, 64}, {12, 64, 16}, ""}, C{{1, 4, 8, 33}, {3, 1, 33, 9}, ""}})
    for (bool nan : {false, true}) {
      NdArray b = random_f32(c.b, -2, 2, seed + 1);
      if (nan) b.as<float>()[1] = std::numeric_limits<float>::quiet_NaN();
      OpTester t(OpKind::MatMul);
      t.precision(Precision::Int8Dynamic).seed(seed).input(random_f32(c.a, -1, 3, seed)).input(b).activation(c.act);
      t.output(DataType::f32).threads(2).require("onednn", "__x86");
      t.label("a " + std::to_string(c.a.size()) + "-d, K " + std::to_string(c.a.back()) + ", N " + std::to_string(c.b.back()) +
              (nan ? ", NaN in B" : ""));
      t.check();
      seed += 2;
    }
}
