// ConvTranspose on every backend against the reference (OpTester): hand-picked cases, a seeded
// random sweep over kernel sizes 1..5, strides 1..3, asymmetric pads, output padding, dilation,
// groups (1, 2, depthwise, depthwise x2), u8/s8 in and out, zero points (0, 128, odd, -128),
// per-channel and per-tensor weights, 7-bit and full-range weights, activations; 2 threads.
// Static int8 must equal the reference code for code on every implementation (tolerances.h:
// oneDNN's deconvolution and octet's simd kernel sum exactly and requantize as the reference);
// every case names the implementation that must run it (conv_transpose_case.h), so a silent
// fall back to the reference kernel fails.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include "conv_transpose_case.h"

using namespace octet;
using namespace octet::test;

namespace {

// Which implementations ran, over this file's cases (the coverage check at the end).
std::map<std::string, int>& impl_counts() {
  static std::map<std::string, int> m;
  return m;
}

// c at both precisions; on a backend without an implementation of its own, its refusal must say why.
void check_both(const ConvTransposeCase& c, uint32_t seed, int threads = 1) {
  OpTester t = conv_transpose_tester(c, seed);
  t.threads(threads);
  for (Precision p : {Precision::Int8Static, Precision::Float}) {
    require_conv_transpose_backends(t, c, p);
    const OpResult r = t.precision(p).check();
    for (const BackendRun& run : r.runs) {
      std::string why;
      if (expected_conv_transpose_impl(c, p, run.backend, &why).empty())
        CHECK_MESSAGE(run.note.find(why) != std::string::npos, c.str() << " on " << run.backend << ": " << run.note);
      if (run.ran) ++impl_counts()[run.impl];
    }
  }
}

std::vector<ConvTransposeCase> hand_picked() {
  std::vector<ConvTransposeCase> v;
  auto add = [&](auto f) { ConvTransposeCase c; f(c); v.push_back(c); };
  add([](ConvTransposeCase&) {});                                                                 // 3x3 s2 p1
  add([](ConvTransposeCase& c) { c.oph = c.opw = 1, c.act = "Relu"; });                          // U-Net / FCN style
  add([](ConvTransposeCase& c) { c.KH = c.KW = 4, c.C = 16, c.x = u8(128), c.act = "Relu6"; });   // 2x upsampling
  add([](ConvTransposeCase& c) { c.KH = c.KW = 2, c.pad(0), c.C = 16, c.O = 24, c.x = u8(37); });
  add([](ConvTransposeCase& c) { c.KH = c.KW = 1, c.sh = c.sw = 1, c.pad(0), c.x = u8(37); });
  add([](ConvTransposeCase& c) { c.KH = c.KW = 1, c.pad(0), c.oph = 1, c.x = u8(37); });         // gaps between taps
  add([](ConvTransposeCase& c) { c.KH = 5, c.KW = 2, c.sh = 3, c.sw = 1, c.pt = 2, c.pl = 0, c.pb = 0, c.pr = 1, c.oph = 2, c.x = u8(1); });
  add([](ConvTransposeCase& c) { c.sh = c.sw = 1, c.dh = c.dw = 2, c.pt = 0, c.pl = 2, c.pb = 3, c.pr = 1, c.x = u8(200); });
  add([](ConvTransposeCase& c) { c.dh = 2, c.oph = 1, c.x = u8(5); });                            // dilated and strided
  add([](ConvTransposeCase& c) { c.C = 16, c.O = 24, c.group = 2, c.x = s8(-128), c.yt = DataType::s8; });
  add([](ConvTransposeCase& c) { c.C = c.O = c.group = 16, c.x = u8(37), c.act = "Relu"; });      // depthwise
  add([](ConvTransposeCase& c) { c.C = c.O = c.group = 16, c.x = u8(0), c.act = "Relu"; });
  add([](ConvTransposeCase& c) { c.C = 16, c.O = 32, c.group = 16, c.x = s8(5); });               // depthwise x2
  add([](ConvTransposeCase& c) { c.w.per_channel = false, c.bias = false, c.x = s8(0), c.yt = DataType::s8; });
  add([](ConvTransposeCase& c) { c.act = "LeakyRelu", c.x = u8(99); });                           // not a clamp
  add([](ConvTransposeCase& c) { c.act = "Sigmoid", c.x = s8(-3), c.oph = 1; });
  add([](ConvTransposeCase& c) { c.act = "HardSwish", c.x = u8(128), c.w = kFullRange; });
  add([](ConvTransposeCase& c) { c.C = 64, c.O = 32, c.KH = c.KW = 4, c.H = c.W = 12, c.x = u8(128), c.act = "Relu"; });
  add([](ConvTransposeCase& c) { c.N = 3, c.C = 33, c.O = 17, c.x = s8(11), c.w = kFullRange; });
  return v;
}

}  // namespace

TEST_SUITE("conv_transpose") {

TEST_CASE("conv_transpose: hand-picked cases, int8 with 7-bit and full-range weights, and float") {
  uint32_t seed = 500;
  for (ConvTransposeCase c : hand_picked()) {
    check_both(c, seed += 10);
    if (c.w.max != kFullRange.max) {
      c.w = kFullRange;   // oneDNN without VNNI: octet's simd kernel
      check_both(c, seed += 10);
    }
  }
}

TEST_CASE("conv_transpose: random sweep of kernels, strides, pads, output padding, dilation, groups, types") {
  std::mt19937 rng(4321);
  auto pick = [&](auto const& v) { return v[rng() % v.size()]; };
  const std::vector<Q8> xq{u8(0), u8(128), u8(37), s8(0), s8(-128), s8(11)};
  const std::vector<std::string> acts{"", "Relu", "Relu6", "", "LeakyRelu"};
  int cases = 0;
  for (int i = 0; i < 48; ++i) {
    ConvTransposeCase c;
    c.N = pick(std::vector<int64_t>{1, 2});
    c.H = 3 + rng() % 6, c.W = 3 + rng() % 6;
    const int kind = rng() % 4;   // 0, 1 regular, 2 grouped, 3 depthwise
    c.C = pick(std::vector<int64_t>{1, 3, 8, 17});
    c.O = pick(std::vector<int64_t>{1, 5, 8, 16});
    if (kind == 2) c.group = 2, c.C *= 2, c.O *= 2;
    if (kind == 3) c.C = std::max<int64_t>(c.C, 2), c.group = c.C, c.O = c.C * pick(std::vector<int64_t>{1, 1, 2});
    c.KH = 1 + rng() % 5, c.KW = rng() % 3 == 0 ? 1 + rng() % 5 : c.KH;
    c.sh = 1 + rng() % 3, c.sw = rng() % 3 == 0 ? 1 + rng() % 3 : c.sh;
    c.dh = c.KH > 1 && rng() % 4 == 0 ? 2 : 1, c.dw = c.KW > 1 && rng() % 4 == 0 ? 2 : 1;
    const int64_t ext_h = c.dh * (c.KH - 1) + 1, ext_w = c.dw * (c.KW - 1) + 1;
    c.pt = rng() % ext_h, c.pb = rng() % ext_h, c.pl = rng() % ext_w, c.pr = rng() % ext_w;
    c.oph = rng() % std::max(c.sh, c.dh), c.opw = rng() % std::max(c.sw, c.dw);   // ONNX: below stride or dilation
    if (c.OH() < 2 || c.OW() < 2) continue;
    c.act = pick(acts);
    c.x = pick(xq);
    c.yt = rng() % 3 == 0 ? DataType::s8 : DataType::u8;
    c.bias = rng() % 4 != 0;
    c.w.per_channel = rng() % 4 != 0;
    c.w.max = rng() % 3 == 0 ? kFullRange.max : kSevenBit.max;
    check_both(c, 2000 + 13 * i);
    ++cases;
  }
  CHECK(cases >= 36);
}

TEST_CASE("conv_transpose: 2 threads give the 1-thread codes") {
  ConvTransposeCase c;
  c.N = 2, c.H = c.W = 9, c.C = 24, c.O = 16, c.KH = c.KW = 4, c.x = u8(37), c.act = "Relu";
  check_both(c, 61, 2);
  c.w = kFullRange;
  check_both(c, 63, 2);
}

TEST_CASE("conv_transpose: every implementation ran (coverage of the cases above)") {
  // Runs after the cases above (doctest orders test cases by file and line); alone, it runs the
  // hand-picked cases itself, so it cannot pass vacuously.
  if (impl_counts().empty())
    for (const ConvTransposeCase& c : hand_picked()) check_both(c, 900);
  for (const auto& [impl, n] : impl_counts()) MESSAGE(impl << ": " << n << " cases");
  auto ran = [&](const char* impl) { return impl_counts().count(impl) ? impl_counts().at(impl) : 0; };
  const auto backends = optimized_backends();
  auto compiled = [&](const char* b) { return std::find(backends.begin(), backends.end(), b) != backends.end(); };
  if (compiled("onednn")) {
    CHECK(ran("qs8_conv_transpose__onednn") >= 10);
    CHECK(ran("f32_conv_transpose__onednn") >= 10);
  }
  if (compiled("xnnpack")) CHECK(ran("f32_conv_transpose__xnnpack") >= 10);
  if (compiled("onednn") || compiled("xnnpack")) CHECK(ran("qs8_conv_transpose__simd") >= 10);
}

}  // TEST_SUITE
