// Conv on every backend against the reference (OpTester): hand-picked cases, blocked shapes with
// every activation, seeded random sweeps over geometry, groups, dtypes and zero points, int8 with
// 7-bit and full-range weights, fused residuals, 2 threads.
#include <doctest/doctest.h>

#include <random>
#include <sstream>
#include <tuple>

#include "op_cases.h"

using namespace octet;
using namespace octet::test;

namespace {

// Hand-picked cases: each exercises one feature the sweeps mix randomly.
std::vector<ConvCase> hand_picked() {
  std::vector<ConvCase> v;
  auto add = [&](auto f) { ConvCase c; f(c); v.push_back(c); };
  add([](ConvCase& c) { c.C = 1, c.O = 3, c.act = "Relu"; });
  add([](ConvCase& c) { c.C = 3, c.O = 17, c.KH = c.KW = 5, c.sh = c.sw = 2, c.pt = 2, c.pl = 1, c.pb = 1, c.pr = 2, c.x = u8(37); });
  add([](ConvCase& c) { c.C = 17, c.O = 33, c.dh = c.dw = 2, c.pad(2), c.act = "Relu6", c.x = u8(128); });
  add([](ConvCase& c) { c.C = 33, c.O = 17, c.KH = c.KW = 1, c.pad(0), c.act = "LeakyRelu", c.x = s8(0); });
  add([](ConvCase& c) { c.C = 33, c.O = 17, c.KH = c.KW = 1, c.pad(0), c.x = s8(-9); });
  add([](ConvCase& c) { c.C = 33, c.O = 33, c.group = 33, c.act = "HardSwish", c.x = u8(128); });   // depthwise
  add([](ConvCase& c) { c.C = 33, c.O = 33, c.group = 33, c.act = "Relu", c.x = u8(128); });
  add([](ConvCase& c) { c.C = 34, c.O = 34, c.group = 2, c.sh = c.sw = 2, c.act = "Sigmoid", c.x = u8(37); });
  add([](ConvCase& c) { c.C = 34, c.O = 34, c.group = 2, c.sh = c.sw = 2, c.x = u8(37), c.yt = DataType::s8; });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.group = 17, c.KH = c.KW = 5, c.sh = c.sw = 2, c.pad(2), c.act = "Relu6"; });
  add([](ConvCase& c) { c.C = 17, c.O = 34, c.group = 17, c.x = u8(37), c.act = "Relu"; });   // depthwise, multiplier 2
  add([](ConvCase& c) { c.C = 33, c.O = 3, c.KH = c.KW = 1, c.sh = c.sw = 2, c.pad(0), c.x = u8(37); });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.residual = true, c.act = "Relu", c.r = s8(-3, 0.03f), c.x = u8(128); });
  add([](ConvCase& c) { c.C = 17, c.O = 33, c.residual = true, c.r = u8(100, 0.03f), c.yt = DataType::s8; });
  add([](ConvCase& c) { c.C = 3, c.O = 17, c.residual = true, c.act = "Sigmoid", c.r = s8(5, 0.03f), c.bias = false; });
  add([](ConvCase& c) { c.N = 3, c.C = 17, c.O = 17, c.act = "Tanh", c.yt = DataType::s8, c.x = s8(-20); });
  add([](ConvCase& c) { c.N = 3, c.C = 17, c.O = 17, c.yt = DataType::s8, c.x = s8(-20), c.bias = false; });
  add([](ConvCase& c) { c.N = 3, c.C = 3, c.O = 33, c.act = "Gelu", c.w.per_channel = false; });
  add([](ConvCase& c) { c.N = 3, c.C = 3, c.O = 33, c.act = "Relu", c.w.per_channel = false; });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.act = "HardSigmoid", c.bias = false, c.x = u8(37); });
  add([](ConvCase& c) { c.C = 64, c.O = 64, c.H = c.W = 14, c.x = u8(128), c.act = "Relu"; });   // blocked-friendly sizes
  add([](ConvCase& c) { c.C = 64, c.O = 64, c.H = c.W = 14, c.act = "Relu", c.residual = true, c.r = s8(10, 0.03f); });
  add([](ConvCase& c) { c.C = 96, c.O = 96, c.group = 96, c.H = c.W = 14, c.sh = c.sw = 2, c.pt = c.pl = 0, c.x = u8(3), c.act = "Relu6"; });
  add([](ConvCase& c) { c.C = 256, c.O = 64, c.H = c.W = 7, c.KH = c.KW = 1, c.pad(0), c.x = u8(128); });
  // One row, dilated along W only.
  add([](ConvCase& c) { c.H = 1, c.W = 13, c.C = 5, c.O = 7, c.KH = 1, c.KW = 3, c.pt = c.pb = 0, c.dw = 3, c.pl = c.pr = 3; });
  return v;
}

}  // namespace

TEST_CASE("conv: hand-picked cases, int8 with 7-bit and full-range weights, and float") {
  uint32_t seed = 100;
  for (ConvCase c : hand_picked()) {
    for (const WeightSpec& w : {kSevenBit, kFullRange}) {
      c.w.max = w.max;
      OpTester t = conv_tester(c, seed);
      require_conv_backends(t, c, Precision::Int8Static);
      t.precision(Precision::Int8Static).check();
      if (w.max == kFullRange.max) {
        require_conv_backends(t, c, Precision::Float);
        t.precision(Precision::Float).check();
      }
    }
    seed += 10;
  }
}

TEST_CASE("conv: larger blocked shapes with zero points, residual and every activation") {
  // Sizes that take oneDNN's blocked (AMX/VNNI) kernels with several channel blocks and spatial
  // tails, where zero-point compensation and post-ops share registers.
  uint32_t seed = 3000;
  for (const std::string act : {"", "Relu", "Relu6", "LeakyRelu", "HardSwish", "Sigmoid", "Tanh", "Gelu", "HardSigmoid"}) {
    ConvCase c;
    c.N = 2, c.H = 19, c.W = 17, c.C = 64, c.O = 96, c.act = act, c.x = u8(128), c.w = kSevenBit;
    c.pt = 1, c.pl = 0, c.pb = 2, c.pr = 1;
    c.residual = true, c.r = u8(120, 0.03f);
    auto run = [&](const ConvCase& k) {
      OpTester t = conv_tester(k, seed += 10);
      for (Precision p : {Precision::Int8Static, Precision::Float}) {
        require_conv_backends(t, k, p);
        t.precision(p).check();
      }
    };
    run(c);
    c.KH = c.KW = 1, c.pad(0), c.sh = c.sw = 2, c.x = s8(11), c.yt = DataType::s8;
    run(c);
    c.KH = c.KW = 3, c.pad(1), c.sh = c.sw = 1, c.group = 64, c.O = 64, c.x = u8(3);
    run(c);
  }
}

TEST_CASE("conv: random sweep of shapes, strides, pads, dilation, groups, activations, types") {
  std::mt19937 rng(1234);
  auto pick = [&](auto const& v) { return v[rng() % v.size()]; };
  const std::vector<int64_t> chans{1, 3, 17, 33};
  const std::vector<std::string> acts{"", "Relu", "Relu6", "LeakyRelu", "HardSwish", "Sigmoid"};
  const std::vector<Q8> xq{u8(0), u8(128), u8(37), s8(0), s8(-7)};
  int ran = 0, on_onednn = 0, ref_only = 0;
  for (int i = 0; i < 48; ++i) {
    ConvCase c;
    c.N = pick(std::vector<int64_t>{1, 3});
    c.H = 5 + rng() % 8, c.W = 5 + rng() % 8;
    const int kind = rng() % 3;   // 0 regular, 1 grouped, 2 depthwise
    c.C = pick(chans);
    if (kind == 1) c.C = 2 * pick(chans), c.group = 2;
    if (kind == 2) c.group = c.C;
    c.O = kind == 2 ? c.C * pick(std::vector<int64_t>{1, 1, 2}) : c.group * pick(chans);
    c.KH = c.KW = pick(std::vector<int64_t>{1, 3, 5});
    if (rng() % 4 == 0) c.KW = pick(std::vector<int64_t>{1, 3});
    c.sh = c.sw = 1 + rng() % 2;
    c.dh = c.dw = (c.KH > 1 && rng() % 4 == 0) ? 2 : 1;
    const int64_t ext_h = c.dh * (c.KH - 1) + 1, ext_w = c.dw * (c.KW - 1) + 1;
    if (rng() % 2) {   // symmetric "same"
      c.pt = c.pb = ext_h / 2, c.pl = c.pr = ext_w / 2;
    } else {           // asymmetric
      c.pt = rng() % ext_h, c.pb = rng() % ext_h, c.pl = rng() % ext_w, c.pr = rng() % ext_w;
    }
    if (c.OH() < 1 || c.OW() < 1) continue;
    c.act = pick(acts);
    c.x = pick(xq);
    c.yt = rng() % 3 == 0 ? DataType::s8 : DataType::u8;
    c.bias = rng() % 4 != 0;
    c.w.per_channel = rng() % 4 != 0;
    c.w.max = kSevenBit.max;
    c.residual = rng() % 4 == 0;
    const DataType rt = rng() % 2 ? DataType::u8 : DataType::s8;
    c.r = Q8{rt, rt == DataType::u8 ? int32_t(rng() % 256) : int32_t(rng() % 256) - 128, 0.03f};
    OpTester t = conv_tester(c, 1000 + i * 7);
    for (Precision p : {Precision::Int8Static, Precision::Float}) {
      require_conv_backends(t, c, p, /*onednn=*/false);   // counted below instead
      const OpResult r = t.precision(p).check();
      ++ran;
      if (const BackendRun* d = r.on("onednn")) {
        on_onednn += d->ran;
        ref_only += !d->ran && d->note.find("has only its reference implementation") != std::string::npos;
      }
    }
  }
  CHECK(ran >= 80);
#if defined(OCTET_WITH_ONEDNN)
  MESSAGE(on_onednn << " of " << ran << " random conv nodes ran on the oneDNN backend; " << ref_only
                    << " have only oneDNN's reference implementation on this ISA");
  // With VNNI nearly every case has a jit kernel. Without it, oneDNN 2.6's AVX2 kernels lack
  // grouped convs with odd channels per group and depthwise multipliers (79 of 96 ran when
  // measured): there only cases oneDNN has more than its reference code for count, and three
  // quarters of all cases are still demanded, so "reference for everything" cannot pass as an
  // ISA gap.
  if (onednn_has_vnni()) {
    CHECK(on_onednn * 10 >= ran * 9);
  } else {
    CHECK(on_onednn * 10 >= (ran - ref_only) * 9);
    CHECK(on_onednn * 4 >= ran * 3);
  }
#endif
}

TEST_CASE("conv: random sweep of geometry, groups, types, zero points and weight ranges") {
  std::mt19937 rng(12345);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1))); };
  const std::vector<std::string> acts{"", "Relu", "Relu6"};
  for (int i = 0; i < 40; ++i) {
    ConvCase c;
    c.N = pick(1, 3);
    c.KH = pick(1, 5), c.KW = pick(1, 5);
    c.sh = pick(1, 3), c.sw = pick(1, 3);
    c.dh = pick(1, 2), c.dw = pick(1, 2);
    c.pt = pick(0, c.KH - 1), c.pb = pick(0, c.KH - 1), c.pl = pick(0, c.KW - 1), c.pr = pick(0, c.KW - 1);
    c.H = pick(static_cast<int>(c.dh * (c.KH - 1) + 1), 13), c.W = pick(static_cast<int>(c.dw * (c.KW - 1) + 1), 13);
    switch (rng() % 3) {
      case 0: c.group = 1, c.C = pick(1, 40), c.O = pick(1, 40); break;
      case 1: c.C = pick(1, 40), c.group = c.C, c.O = c.C * pick(1, 2); break;   // depthwise (+ multiplier)
      default: c.group = pick(2, 4), c.C = c.group * pick(1, 9), c.O = c.group * pick(1, 9);
    }
    c.act = acts[rng() % acts.size()];
    random_quant(c, rng);
    OpTester t = conv_tester(c, 5000 + i);
    for (Precision p : {Precision::Int8Static, Precision::Float}) {
      require_conv_backends(t, c, p);
      t.precision(p).check();
    }
  }
}

TEST_CASE("conv: int8 with a fused residual or an activation XNNPACK cannot clamp") {
  // XNNPACK's backend runs these on octet's simd kernel (bit for bit the reference), oneDNN's on
  // its own primitives.
  std::mt19937 rng(777);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1))); };
  const std::vector<std::string> acts{"", "Relu", "Relu6", "HardSwish", "LeakyRelu", "Sigmoid"};
  for (int i = 0; i < 30; ++i) {
    ConvCase c;
    c.N = pick(1, 3);
    c.KH = pick(1, 3), c.KW = pick(1, 3);
    c.sh = pick(1, 2), c.sw = pick(1, 2), c.dh = pick(1, 2), c.dw = 1;
    c.pt = pick(0, c.KH - 1), c.pb = pick(0, c.KH - 1), c.pl = pick(0, c.KW - 1), c.pr = pick(0, c.KW - 1);
    c.H = pick(static_cast<int>(c.dh * (c.KH - 1) + 1), 12), c.W = pick(static_cast<int>(c.KW), 12);
    c.C = pick(1, 70), c.O = pick(1, 40);
    c.act = acts[rng() % acts.size()];
    const bool clampable = c.act.empty() || c.act == "Relu" || c.act == "Relu6";   // else XNNPACK can't
    c.residual = clampable || i % 2 == 0;
    random_quant(c, rng);
    c.r = Q8{c.yt, 0, 0.03f};
    OpTester t = conv_tester(c, 3000 + i);
    require_conv_backends(t, c, Precision::Int8Static);
    t.require("xnnpack", "qs8_conv__simd").precision(Precision::Int8Static).check();
  }
  // MobileNetV2's projection with residual (1x1, 144 -> 24) and ResNet's 3x3 block end, 2 threads.
  for (auto [C, O, k] : {std::tuple<int64_t, int64_t, int64_t>{144, 24, 1}, {64, 64, 3}}) {
    ConvCase c;
    c.C = C, c.O = O, c.KH = c.KW = k, c.H = c.W = 14, c.residual = true, c.x = u8(128), c.N = 2, c.r = u8(0, 0.03f);
    c.pad(k / 2);
    c.act = k == 3 ? "Relu" : "";
    OpTester t = conv_tester(c, 41);
    require_conv_backends(t, c, Precision::Int8Static);
    t.require("xnnpack", "qs8_conv__simd").threads(2).precision(Precision::Int8Static).check();
  }
}

TEST_CASE("conv: float with a fused residual (XNNPACK: conv, then add with the clamp)") {
  for (const std::string act : {"", "Relu", "Relu6"}) {
    ConvCase c;
    c.C = 17, c.O = 17, c.residual = true, c.act = act, c.N = 2;
    OpTester t = conv_tester(c, 77);
    require_conv_backends(t, c, Precision::Float);
    t.precision(Precision::Float).check();
  }
}

TEST_CASE("conv: 2 threads give the same results as 1") {
  ConvCase a;
  a.N = 3, a.H = a.W = 14, a.C = 33, a.O = 64, a.act = "HardSwish", a.x = u8(37), a.residual = true, a.r = s8(-4, 0.03f);
  a.w = kSevenBit;
  ConvCase b;
  b.N = 2, b.C = 32, b.O = 48, b.H = b.W = 14, b.x = u8(128), b.act = "Relu";
  for (const ConvCase& c : {a, b}) {
    OpTester t = conv_tester(c, 9);
    t.threads(2);
    for (Precision p : {Precision::Int8Static, Precision::Float}) {
      require_conv_backends(t, c, p);
      t.precision(p).check();
    }
  }
}

TEST_CASE("conv: int8 weights beyond 7 bits: oneDNN with VNNI, octet's exact simd kernel without it") {
  // Full-range weights [-127, 127] (--weight-bits 8, the default) saturate vpmaddubsw on AVX2
  // (observed: up to 75 LSB off). With VNNI oneDNN must agree exactly; without, the backend must
  // run the node on octet's simd kernel (bit-identical to the reference) and say so in the
  // dispatch log. Depthwise convolutions stay on oneDNN either way (exact on AVX2).
#if defined(OCTET_WITH_ONEDNN)
  const bool vnni = onednn_has_vnni();
  MESSAGE("oneDNN ISA " << std::string(vnni ? "with" : "without") << " VNNI");
  const char* exact = vnni ? "qs8_conv__onednn" : "qs8_conv__simd";
#else
  const char* exact = "";
#endif
  for (const Q8& x : {u8(128), s8(0)}) {
    ConvCase c;
    c.C = c.O = c.group = 48, c.H = c.W = 14, c.x = x, c.act = "Relu6", c.w = kFullRange;
    conv_tester(c, 45).require("onednn", "qs8_conv__onednn").precision(Precision::Int8Static).check();
  }
  for (const Q8& x : {u8(128), s8(0)}) {
    ConvCase c;
    c.C = 64, c.O = 64, c.H = c.W = 14, c.x = x, c.act = "Relu", c.w = kFullRange;
    conv_tester(c, 41).require("onednn", exact).precision(Precision::Int8Static).check();
  }
  // The boundary: codes up to |64| run on oneDNN everywhere (with and without a sign flip of X),
  // a single 65 moves the node to octet's simd kernel without VNNI.
  for (int top : {64, 65})
    for (const Q8& x : {u8(37), s8(-5)}) {
      ConvCase c;
      c.C = 64, c.O = 64, c.H = c.W = 14, c.x = x, c.w = kSevenBit, c.w.poke = top;
      conv_tester(c, 47).require("onednn", top == 64 ? "qs8_conv__onednn" : exact).precision(Precision::Int8Static).check();
    }
}
