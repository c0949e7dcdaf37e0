// FullyConnected on every backend against the reference (OpTester): static int8 with 7-bit and
// full-range weights and float over shapes, zero points and activations; int8_dynamic per tensor
// and per row, with NaN and Inf in X, on 1 and 2 threads.
#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "op_cases.h"

using namespace octet;
using namespace octet::test;

namespace {

// Every backend has an implementation for every static int8 and dynamic FullyConnected (oneDNN's,
// octet's x86 kernels for small M or 8-bit weights, XNNPACK's qc8 or octet's simd kernel); float
// ones on XNNPACK only with an output clamp.
void require_fc_backends(OpTester& t, const FcCase& c, Precision p) {
  t.no_requirements().require("onednn");
  const bool clamp = c.act.empty() || c.act == "Relu" || c.act == "Relu6";
  if (p != Precision::Float || clamp) t.require("xnnpack");
}

std::vector<FcCase> hand_picked() {
  std::vector<FcCase> v;
  auto add = [&](auto f) { FcCase c; f(c); v.push_back(c); };
  add([](FcCase& c) { c.xshape = {1, 1}, c.N = 3; });
  add([](FcCase& c) { c.xshape = {5, 1}, c.N = 3; });
  add([](FcCase& c) { c.xshape = {3, 17}, c.N = 33, c.x = u8(37), c.act = "Relu"; });
  add([](FcCase& c) { c.xshape = {3, 33}, c.N = 17, c.x = u8(128), c.act = "Sigmoid", c.yt = DataType::s8; });
  add([](FcCase& c) { c.xshape = {3, 33}, c.N = 17, c.x = u8(128), c.yt = DataType::s8; });
  add([](FcCase& c) { c.xshape = {1, 256}, c.N = 1000, c.x = u8(128), c.act = "Relu6"; });
  add([](FcCase& c) { c.xshape = {3, 5, 17}, c.N = 3, c.x = s8(-9), c.act = "LeakyRelu", c.bias = false; });
  add([](FcCase& c) { c.xshape = {3, 5, 17}, c.N = 3, c.x = s8(-9), c.bias = false; });
  add([](FcCase& c) { c.xshape = {2, 64}, c.N = 64, c.act = "HardSwish", c.w.per_channel = false; });
  add([](FcCase& c) { c.xshape = {2, 64}, c.N = 64, c.w.per_channel = false; });
  add([](FcCase& c) { c.xshape = {2, 3}, c.N = 17, c.act = "HardSigmoid", c.x = u8(200); });
  add([](FcCase& c) { c.xshape = {2, 3}, c.N = 17, c.act = "Relu", c.x = u8(200); });
  add([](FcCase& c) { c.xshape = {3, 33}, c.N = 33, c.act = "Tanh", c.x = s8(0), c.yt = DataType::s8; });
  add([](FcCase& c) { c.xshape = {4, 2, 33}, c.N = 33, c.x = s8(0), c.yt = DataType::s8, c.act = "Relu6"; });
  add([](FcCase& c) { c.xshape = {1, 17}, c.N = 17, c.act = "Gelu", c.x = u8(37), c.bias = false; });
  // Zero points at the extremes.
  add([](FcCase& c) { c.xshape = {3, 40}, c.N = 24, c.x = u8(255), c.act = "Relu"; });
  add([](FcCase& c) { c.xshape = {3, 40}, c.N = 24, c.x = s8(127), c.act = "Relu6", c.yt = DataType::s8; });
  add([](FcCase& c) { c.xshape = {20, 40}, c.N = 24, c.x = s8(-128); });
  // More than 16 rows: static int8 leaves octet's small-M kernel for oneDNN's matmul.
  add([](FcCase& c) { c.xshape = {4, 9, 40}, c.N = 24, c.x = u8(50), c.act = "Relu"; });
  add([](FcCase& c) { c.xshape = {17, 64}, c.N = 9, c.x = s8(3); });
  return v;
}

// int8_dynamic: X f32, weights s8 per row, f32 bias and output.
OpTester dynamic_fc(const std::vector<int64_t>& xshape, int64_t N, bool bias, const std::string& act, uint32_t seed) {
  OpTester t(OpKind::FullyConnected);
  std::ostringstream label;
  label << "x [" << xshape.front() << ",...," << xshape.back() << "] rank " << xshape.size() << " N " << N << " act '" << act
        << "' bias " << bias;
  t.precision(Precision::Int8Dynamic).seed(seed).label(label.str()).input(xshape, -2.f, 3.f).weights({N, xshape.back()});
  if (bias) t.bias();
  t.activation(act).output(DataType::f32);
  return t;
}

}  // namespace

TEST_CASE("fully connected: hand-picked shapes, zero points, activations; int8 with 7-bit and full-range weights, and float") {
  uint32_t seed = 500;
  for (FcCase c : hand_picked()) {
    for (const WeightSpec& w : {kSevenBit, kFullRange}) {
      c.w.max = w.max;
      OpTester t = fc_tester(c, seed);
      require_fc_backends(t, c, Precision::Int8Static);
      t.precision(Precision::Int8Static).check();
      if (w.max == kFullRange.max) {
        require_fc_backends(t, c, Precision::Float);
        t.precision(Precision::Float).check();
      }
    }
    seed += 10;
  }
}

TEST_CASE("fully connected: int8_dynamic over shapes, bias and activations, 1 and 2 threads") {
  // XNNPACK's backend runs these on octet's simd kernel (bit for bit), oneDNN's on octet's x86
  // kernels.
  uint32_t seed = 9000;
  for (auto xshape : std::vector<std::vector<int64_t>>{{1, 1}, {1, 7}, {3, 16}, {2, 33}, {1, 256}, {50, 300}, {2, 5, 64}, {128, 96}})
    for (int64_t N : {1, 5, 64, 67})
      for (const std::string act : {"", "Relu", "Gelu"}) {
        OpTester t = dynamic_fc(xshape, N, seed % 3 != 0, act, seed);
        t.require("onednn").require("xnnpack", "qd8_fully_connected__simd").threads(seed % 2 ? 1 : 2);
        // Fewer than 8 outputs (one column of a few rows) may legitimately hold 2 distinct values.
        int64_t outputs = N;
        for (size_t d = 0; d + 1 < xshape.size(); ++d) outputs *= xshape[d];
        if (outputs < 8) t.narrow_output_ok();
        t.check();
        ++seed;
      }
}

TEST_CASE("fully connected: int8_dynamic with X quantized per tensor and per row; NaN and Inf in X") {
  // NaN in X: the scale comes from the finite values (docs/format.md int8_dynamic), identically.
  struct C {
    std::vector<int64_t> x;
    int64_t N;
    bool bias;
    const char* act;
  };
  uint32_t seed = 11;
  for (bool per_row : {false, true})
    for (const C& c : {C{{1, 64}, 40, true, ""}, C{{3, 7, 33}, 13, false, "Relu"}, C{{2, 128}, 96, true, "Gelu"},
                       C{{1, 5, 256}, 300, true, ""},
                       // 128 rows: oneDNN's own GEMM on VNNI CPUs (FcDynamic::kLargeRows)
                       C{{2, 64, 96}, 40, true, "Gelu"}, C{{1, 130, 33}, 17, false, ""},
                       // more than 32768 outputs: the epilogue on two threads, by rows, and by
                       // column ranges when there are fewer rows than threads
                       C{{40, 64}, 1000, true, "Gelu"}, C{{1, 64}, 33000, true, "Gelu"}}) {
      for (bool non_finite : {false, true}) {
        NdArray x = random_f32(c.x, -2, 3, seed);
        if (non_finite) x.as<float>()[1] = std::numeric_limits<float>::quiet_NaN(), x.as<float>()[7] = INFINITY;
        OpTester t(OpKind::FullyConnected);
        t.precision(Precision::Int8Dynamic).seed(seed).input(x).weights({c.N, c.x.back()});
        if (c.bias) t.bias();
        t.activation(c.act).output(DataType::f32).threads(2);
        if (per_row) t.attrs({{"input_quant", "per_row"}});
        t.label("N " + std::to_string(c.N) + " K " + std::to_string(c.x.back()) + (per_row ? " per row" : " per tensor") +
                (non_finite ? " NaN/Inf in X" : ""));
        t.require("onednn").require("xnnpack", "qd8_fully_connected__simd").check();
      }
      ++seed;
    }
}
