// The oneDNN backend's behaviour beyond comparisons with the reference (those are in tests/ops,
// for every backend): its place in the backend order, what it refuses and why, sessions whose
// batch changes (per-shape primitives, recreated and reused), a convolution run in place, the
// names and details in the dispatch log. (What every backend shares: test_every_backend.cc.)
#include <doctest/doctest.h>

#include "ops/op_cases.h"
#include "session_checks.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

#if defined(OCTET_WITH_ONEDNN)

TEST_SUITE("onednn") {

TEST_CASE("onednn is the preferred backend on x86") {
#if defined(__x86_64__) || defined(_M_X64)
  REQUIRE(!available_backends().empty());
  CHECK(available_backends().front() == "onednn");
#else
  MESSAGE("SKIPPED: not an x86 build, where XNNPACK comes first");
#endif
}

TEST_CASE("conv: the batch changes between runs of one session; a returning shape reuses its primitives") {
  ConvCase c;
  c.C = 17, c.O = 33, c.act = "Relu", c.x = u8(37), c.residual = true, c.r = s8(9, 0.03f), c.w = kSevenBit;
  const auto model = conv_tester(c, 77).precision(Precision::Int8Static).build().model;
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t n : {1, 3, 1, 2, 3})
    feeds.push_back({{"x0", random_q8(c.x.dtype, {n, c.H, c.W, c.C}, 5 + n)},
                     {"x3", random_q8(c.r.dtype, {n, c.OH(), c.OW(), c.O}, 6 + n)}});
  check_runs_over_feeds(model, "onednn", feeds);
  CHECK(dispatch_of(model, "onednn").impl == "qs8_conv__onednn");
}

TEST_CASE("conv: in-place residual (the planner gives R and Y one buffer)") {
  // t = Conv1x1(x) is the residual of the second conv and dies there: the planner runs the
  // second conv in place (t and y share memory), so the kernel must not copy R over itself.
  for (bool is_float : {false, true}) {
    INFO((is_float ? "float" : "int8"));
    const int64_t H = 8, W = 8, C = 16;
    GraphBuilder g;
    std::map<std::string, NdArray> in;
    if (is_float) {
      g.input("x", DataType::f32, {"batch", H, W, C});
      g.constant("w1", random_f32({C, 1, 1, C}, -0.4f, 0.4f, 1));
      g.constant("w2", random_f32({C, 3, 3, C}, -0.15f, 0.15f, 2));
      g.tensor("t", DataType::f32, {"batch", H, W, C});
      g.tensor("y", DataType::f32, {"batch", H, W, C});
      g.node("Conv", {"x", "w1"}, {"t"}, json::object(), "float", nullptr, "c1");
      g.node("Conv", {"x", "w2", "", "t"}, {"y"}, {{"pads", {1, 1, 1, 1}}}, "float", {{"op", "Relu"}}, "c2");
      in["x"] = random_f32({2, H, W, C}, -1, 1, 3);
    } else {
      g.input("x", DataType::u8, {"batch", H, W, C}, per_tensor(0.02f, 37));
      NdArray w1 = random_q8(DataType::s8, {C, 1, 1, C}, 1), w2 = random_q8(DataType::s8, {C, 3, 3, C}, 2);
      for (NdArray* w : {&w1, &w2})   // 7-bit codes: oneDNN itself on any ISA
        for (auto& b : w->bytes) b = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(b) % 129 - 64));
      g.constant("w1", w1, per_channel(std::vector<float>(C, 0.0015f)));
      g.constant("w2", w2, per_channel(std::vector<float>(C, 0.0005f)));
      g.tensor("t", DataType::u8, {"batch", H, W, C}, per_tensor(0.04f, 128));
      g.tensor("y", DataType::u8, {"batch", H, W, C}, per_tensor(0.05f, 10));
      g.node("Conv", {"x", "w1"}, {"t"}, json::object(), "int8_static", nullptr, "c1");
      g.node("Conv", {"x", "w2", "", "t"}, {"y"}, {{"pads", {1, 1, 1, 1}}}, "int8_static", {{"op", "Relu"}}, "c2");
      in["x"] = random_q8(DataType::u8, {2, H, W, C}, 3);
    }
    g.output("y");
    check_in_place(g.build(), "onednn", in, "t", "y");
  }
}

TEST_CASE("conv: a float convolution runs on f32_conv__onednn with nothing declined") {
  GraphBuilder g;
  g.input("x", DataType::f32, {"batch", 5, 5, 3});
  g.constant("w", random_f32({4, 3, 3, 3}, -1, 1, 1));
  g.tensor("y", DataType::f32, {"batch", 3, 3, 4});
  g.output("y");
  g.node("Conv", {"x", "w"}, {"y"}, json::object(), "float");
  const DispatchEntry d = dispatch_of(g.build(), "onednn");
  CHECK(d.backend == "onednn");
  CHECK(d.impl == "f32_conv__onednn");
  CHECK(d.note.empty());
}

TEST_CASE("conv: the dispatch log names oneDNN's own implementation in detail") {
  ConvCase c;
  c.C = 64, c.O = 64, c.H = c.W = 14, c.w = kSevenBit;
  const DispatchEntry d = dispatch_of(conv_tester(c, 3).precision(Precision::Int8Static).build().model, "onednn");
  CHECK(d.impl == "qs8_conv__onednn");
  CHECK(!d.detail.empty());
  CHECK(d.detail.rfind("ref", 0) != 0);   // a jit/brgemm kernel, not oneDNN's reference loop
}

TEST_CASE("fully connected: the batch changes between runs of one session") {
  FcCase c;
  c.xshape = {1, 33}, c.N = 17, c.x = u8(37), c.act = "Relu", c.w = kSevenBit;
  const auto model = fc_tester(c, 3).precision(Precision::Int8Static).build().model;
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t n : {1, 4, 1, 7, 4, 20}) feeds.push_back({{"x0", random_q8(DataType::u8, {n, 33}, 10 + n)}});
  check_runs_over_feeds(model, "onednn", feeds);
}

TEST_CASE("matmul: int8 with a run-time B needs VNNI; a u8 B operand is refused") {
  OpTester t(OpKind::MatMul);
  t.precision(Precision::Int8Static).input({4, 64}, u8(0)).scaled_input({64, 33}, s8(-2)).output(DataType::u8);
  const DispatchEntry d = dispatch_of(t.build().model, "onednn");
  if (onednn_has_vnni()) {
    CHECK(d.impl == "qs8_matmul__onednn");
  } else {
    // A run-time B may hold codes beyond [-64, 64], which oneDNN's AVX2 kernels saturate.
    CHECK(d.backend == "reference");
    CHECK(d.note.find("7-bit range that oneDNN's AVX2 (non-VNNI) kernels compute exactly") != std::string::npos);
  }
  GraphBuilder g;
  g.input("a", DataType::u8, {2, 3}, per_tensor(0.1f, 3));
  g.input("b", DataType::u8, {3, 4}, per_tensor(0.1f, 3));
  g.tensor("y", DataType::u8, {2, 4}, per_tensor(0.2f, 10));
  g.output("y");
  g.node("MatMul", {"a", "b"}, {"y"}, json::object(), "int8_static");
  const DispatchEntry u = dispatch_of(g.build(), "onednn");
  CHECK(u.backend == "reference");
  CHECK(u.note.find("s8 B operand") != std::string::npos);
}

TEST_CASE("pooling: oneDNN's gaps fall back to the reference, with the reason") {
  struct Refused {
    PoolCase c;
    const char* why;
  };
  std::vector<Refused> cases;
  PoolCase c;
  c.dil = 2, c.H = c.W = 11;
  cases.push_back({c, "dilated pooling"});
  c = PoolCase();
  c.op = "AveragePool", c.include_pad = true, c.x.zero_point = 37;
  cases.push_back({c, "non-zero zero point"});
  c = PoolCase();
  // Refused by the kernel for these shapes (reshape), not by supports().
  c.op = "AveragePool", c.include_pad = true, c.ceil = true, c.H = 10, c.W = 10;
  cases.push_back({c, "ceil_mode with count_include_pad"});
  for (const auto& r : cases) {
    INFO(r.c.str());
    const OpResult res = pool_tester(r.c, 3).precision(Precision::Int8Static).check();
    REQUIRE(res.on("onednn"));
    CHECK(!res.on("onednn")->ran);
    CHECK(res.on("onednn")->note.find(r.why) != std::string::npos);
  }
}

TEST_CASE("binary: refusals carry a reason") {
  BinaryCase mul;
  mul.op = "Mul", mul.a = {2, 3, 3, 4}, mul.b = {2, 3, 3, 4}, mul.qa.zero_point = 10;
  CHECK(dispatch_of(binary_tester(mul, 1).precision(Precision::Int8Static).build().model, "onednn").note.find("zero point") !=
        std::string::npos);
  BinaryCase sub;
  sub.op = "Sub", sub.a = {4}, sub.b = {2, 3, 3, 4}, sub.qa.zero_point = 10;
  const DispatchEntry d = dispatch_of(binary_tester(sub, 1).precision(Precision::Int8Static).build().model, "onednn");
  CHECK(d.backend == "reference");
  CHECK(d.note.find("broadcast") != std::string::npos);
}

}  // TEST_SUITE

#endif  // OCTET_WITH_ONEDNN
