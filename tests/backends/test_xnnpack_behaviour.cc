// The XNNPACK backend's behaviour beyond comparisons with the reference (those are in tests/ops,
// for every backend): what it refuses and why (also in strict sessions), sessions whose batch or
// spatial size changes (operators kept or recreated), a convolution run in place, and which of
// its implementations (XNNPACK's operators or octet's simd kernels) takes what. (What every
// backend shares: test_every_backend.cc.)
#include <doctest/doctest.h>

#include "ops/op_cases.h"
#include "session_checks.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

#if defined(OCTET_WITH_XNNPACK)

TEST_SUITE("xnnpack") {

TEST_CASE("conv: the batch changes between runs of one session (operators kept)") {
  ConvCase c;
  c.C = 17, c.O = 17, c.group = 17, c.x = u8(37), c.act = "Relu6";
  for (Precision p : {Precision::Int8Static, Precision::Float}) {
    const auto model = conv_tester(c, 3).precision(p).build().model;
    std::vector<std::map<std::string, NdArray>> feeds;
    for (int64_t n : {1, 4, 1, 3, 4})
      feeds.push_back({{"x0", p == Precision::Float ? random_f32({n, c.H, c.W, c.C}, -1, 1, 10 + n)
                                                    : random_q8(DataType::u8, {n, c.H, c.W, c.C}, 10 + n)}});
    check_runs_over_feeds(model, "xnnpack", feeds);
    CHECK(dispatch_of(model, "xnnpack").impl.find("conv__xnnpack") != std::string::npos);
  }
}

TEST_CASE("conv: nodes XNNPACK cannot run fall back to the reference with a reason; strict sessions refuse them") {
  struct Refused {
    ConvCase c;
    Precision p;
    const char* why;
  };
  // Int8 convolutions with one group go to octet's simd kernel instead, so the int8 refusals here
  // are depthwise.
  std::vector<Refused> cases;
  ConvCase c;
  c.C = 5, c.O = 7, c.act = "HardSwish";
  cases.push_back({c, Precision::Float, "fused HardSwish"});
  c.act = "Sigmoid";
  cases.push_back({c, Precision::Float, "fused Sigmoid"});
  ConvCase dw;
  dw.C = dw.O = dw.group = 5, dw.act = "HardSwish";
  cases.push_back({dw, Precision::Int8Static, "fused HardSwish"});
  dw.act = "LeakyRelu";
  cases.push_back({dw, Precision::Int8Static, "fused LeakyRelu"});
  dw.act = "", dw.residual = true;
  cases.push_back({dw, Precision::Int8Static, "int8 residual"});
  for (const auto& r : cases) {
    INFO(r.c.str() << " " << std::string(precision_name(r.p)));
    const auto model = conv_tester(r.c, 5).precision(r.p).build().model;
    const DispatchEntry d = dispatch_of(model, "xnnpack");
    CHECK(d.backend == "reference");
    CHECK(d.note.find("__xnnpack: ") != std::string::npos);
    CHECK(d.note.find(r.why) != std::string::npos);
    SessionOptions strict;
    strict.backend = "xnnpack";
    strict.allow_fallback = false;
    CHECK_THROWS_WITH_AS(Session(model, strict), doctest::Contains(r.why), Error);
  }
}

TEST_CASE("simd conv: the batch changes between runs; the residual may share the output's memory") {
  ConvCase c;
  c.C = 24, c.O = 24, c.KH = c.KW = 1, c.pad(0), c.residual = true, c.x = u8(3), c.r = u8(0, 0.03f);
  const auto model = conv_tester(c, 5).precision(Precision::Int8Static).build().model;
  CHECK(dispatch_of(model, "xnnpack").impl == "qs8_conv__simd");
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t n : {1, 3, 1, 2})
    feeds.push_back({{"x0", random_q8(DataType::u8, {n, c.H, c.W, c.C}, 20 + n)},
                     {"x3", random_q8(DataType::u8, {n, c.OH(), c.OW(), c.O}, 30 + n)}});
  check_runs_over_feeds(model, "xnnpack", feeds);
  // In place: the residual h is dead after the last conv (the planner gives h and y one buffer).
  GraphBuilder g;
  const QuantInfo q = per_tensor(0.05f, 128);
  g.input("x", DataType::u8, {"batch", 6, 6, 8}, q);
  NdArray w1 = random_q8(DataType::s8, {8, 1, 1, 8}, 7), w2 = random_q8(DataType::s8, {8, 3, 3, 8}, 8);
  for (NdArray* w : {&w1, &w2})
    for (auto& b : w->bytes) b = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(b) % 129 - 64));
  g.constant("w1", w1, per_channel(std::vector<float>(8, 0.01f)));
  g.constant("w2", w2, per_channel(std::vector<float>(8, 0.004f)));
  g.tensor("h", DataType::u8, {"batch", 6, 6, 8}, q);
  g.tensor("g", DataType::u8, {"batch", 6, 6, 8}, q);
  g.tensor("y", DataType::u8, {"batch", 6, 6, 8}, q);
  g.output("y");
  // LeakyRelu and HardSwish keep the first convs on octet's kernel too (XNNPACK cannot fuse them).
  g.node("Conv", {"x", "w1"}, {"h"}, json::object(), "int8_static", {{"op", "LeakyRelu"}, {"alpha", 0.1}});
  g.node("Conv", {"x", "w1"}, {"g"}, json::object(), "int8_static", {{"op", "HardSwish"}});
  g.node("Conv", {"g", "w2", "", "h"}, {"y"}, {{"pads", {1, 1, 1, 1}}}, "int8_static", {{"op", "Relu"}});
  check_in_place(g.build(), "xnnpack", {{"x", random_q8(DataType::u8, {2, 6, 6, 8}, 9)}}, "h", "y");
}

TEST_CASE("fully connected: the batch changes between runs; a fused Sigmoid: float refused, int8 on octet's simd kernel") {
  FcCase c;
  c.xshape = {1, 33}, c.N = 17, c.x = u8(37), c.act = "Relu";
  const auto model = fc_tester(c, 3).precision(Precision::Int8Static).build().model;
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t n : {1, 4, 1, 7, 4}) feeds.push_back({{"x0", random_q8(DataType::u8, {n, 33}, 10 + n)}});
  check_runs_over_feeds(model, "xnnpack", feeds);
  c.act = "Sigmoid";
  OpTester sigmoid = fc_tester(c, 3);
  const DispatchEntry f = dispatch_of(sigmoid.precision(Precision::Float).build().model, "xnnpack");
  CHECK(f.backend == "reference");
  CHECK(f.note.find("fused Sigmoid") != std::string::npos);
  sigmoid.require("xnnpack", "qs8_fully_connected__simd").precision(Precision::Int8Static).check();
}

TEST_CASE("pooling: averages XNNPACK counts differently fall back with a reason") {
  std::vector<std::pair<PoolCase, Precision>> cases;
  PoolCase c;
  c.op = "AveragePool", c.include_pad = true;
  cases.push_back({c, Precision::Float});   // f32 average counting padding
  c.include_pad = false, c.x.zero_point = 37;
  cases.push_back({c, Precision::Int8Static});   // int8 average pooling: no entry (fixed-point mean)
  for (const auto& [pc, p] : cases) {
    INFO(pc.str());
    const DispatchEntry d = dispatch_of(pool_tester(pc, 3).precision(p).build().model, "xnnpack");
    CHECK(d.backend == "reference");
    CHECK(d.note.find(p == Precision::Float ? "f32 average counting padding" : "no int8_static implementation of AveragePool") !=
          std::string::npos);
  }
  // The int8 global average is exact on octet's simd kernel.
  PoolCase g;
  g.op = "GlobalAveragePool", g.H = g.W = 7, g.x.zero_point = 37;
  CHECK(dispatch_of(pool_tester(g, 3).precision(Precision::Int8Static).build().model, "xnnpack").impl == "qs8_global_average_pool__simd");
}

TEST_CASE("pooling: ceil-mode max pooling follows spatial changes (operator recreated)") {
  GraphBuilder g;
  const QuantInfo q = per_tensor(0.05f, 10);
  // Symbols are taken as 1 when the model loads: padding 1 keeps a 1x1 input valid.
  g.input("x0", DataType::u8, {"batch", "h", "w", 5}, q);
  g.tensor("y0", DataType::u8, {"batch", "oh", "ow", 5}, q);
  g.output("y0");
  g.node("MaxPool", {"x0"}, {"y0"}, {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"ceil_mode", 1}},
         "int8_static");
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t hw : {9, 10, 7, 10}) feeds.push_back({{"x0", random_q8(DataType::u8, {2, hw, hw + 1, 5}, 50 + hw)}});
  check_runs_over_feeds(g.build(), "xnnpack", feeds);
}

TEST_CASE("binary: refusals with reasons") {
  // Refused: Div (no implementation here), a fused HardSwish, a scale ratio outside XNNPACK's range.
  OpTester div(OpKind::Div);
  div.precision(Precision::Float).input({2, 3}, -3.f, 3.f).input({2, 3}, 0.5f, 3.f).output(DataType::f32);
  CHECK(dispatch_of(div.build().model, "xnnpack").note.find("xnnpack has no float implementation of Div") != std::string::npos);
  BinaryCase hs;
  hs.a = hs.b = {2, 3, 3, 4}, hs.act = "HardSwish";
  CHECK(dispatch_of(binary_tester(hs, 1).precision(Precision::Int8Static).build().model, "xnnpack").note.find("fused HardSwish") !=
        std::string::npos);
  BinaryCase tiny;
  tiny.a = tiny.b = {2, 3, 3, 4}, tiny.qa.scale = 1e-6f;   // s_a / s_y < 2^-10
  CHECK(dispatch_of(binary_tester(tiny, 1).precision(Precision::Int8Static).build().model, "xnnpack").note.find(
            "XNNPACK refuses these scales") != std::string::npos);
}

TEST_CASE("unary: float Tanh has no XNNPACK operator here and is refused with that reason") {
  OpTester t(OpKind::Tanh);
  t.precision(Precision::Float).input({2, 3}, -3.f, 3.f).output(DataType::f32);
  const DispatchEntry d = dispatch_of(t.build().model, "xnnpack");
  CHECK(d.backend == "reference");
  CHECK(d.note.find("xnnpack has no float implementation of Tanh") != std::string::npos);
}

}  // TEST_SUITE

#endif  // OCTET_WITH_XNNPACK
