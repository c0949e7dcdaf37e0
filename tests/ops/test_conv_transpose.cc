// ConvTranspose on every backend against the reference kernel. Each node is built alone, run on
// each optimized backend and on "reference", and compared:
//   static int8: every code equal (0 LSB): oneDNN's deconvolution, octet's simd kernel and the
//                reference compute the same exact integer sums and requantize with the same
//                float operations (quant/requant.h);
//   float:       max |a - b| / (|b| + 1) <= kFloatTol (below).
// Each case also says which implementation must run it, so a silent fall back to the reference
// kernel (which would agree trivially) fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "test_util.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

namespace {

// Float: oneDNN and XNNPACK sum in float32 in their own order, the reference in double. The
// sums have at most KH*KW*C/group <= 5*5*64 terms of size O(1/sqrt(terms)) with results O(1):
// float32 rounding of such a dot product is a few 1e-6 (as conv's in test_onednn.cc, observed
// 3.3e-6 there); 3e-5 relative to max(|b|, 1) is a 10x margin, far below a wrong tap or bias
// (>1e-2).
constexpr double kFloatTol = 3e-5;

struct Case {
  int64_t N = 1, H = 7, W = 6, C = 8, O = 8, KH = 3, KW = 3;
  int64_t sh = 2, sw = 2, pt = 1, pl = 1, pb = 1, pr = 1, oph = 0, opw = 0, dh = 1, dw = 1, group = 1;
  std::string act;
  DataType xt = DataType::u8;
  int32_t zpx = 0;
  DataType yt = DataType::u8;
  bool bias = true, per_channel = true;
  int wmax = 64;   // weight codes in [-wmax, wmax]; 64: --weight-bits 7, exact on oneDNN everywhere

  int64_t OH() const { return (H - 1) * sh - pt - pb + dh * (KH - 1) + 1 + oph; }
  int64_t OW() const { return (W - 1) * sw - pl - pr + dw * (KW - 1) + 1 + opw; }
  std::string str() const {
    std::ostringstream s;
    s << "N" << N << " " << H << "x" << W << "x" << C << " -> O" << O << " k" << KH << "x" << KW << " s" << sh << "," << sw
      << " pads " << pt << "," << pl << "," << pb << "," << pr << " out_pad " << oph << "," << opw << " dil " << dh << ","
      << dw << " g" << group << " act '" << act << "' x " << dtype_name(xt) << " zp " << zpx << " y " << dtype_name(yt)
      << (bias ? " bias" : "") << (per_channel ? " per-channel" : " per-tensor") << " |w| <= " << wmax;
    return s.str();
  }
};

json attrs(const Case& c) {
  return {{"strides", {c.sh, c.sw}}, {"pads", {c.pt, c.pl, c.pb, c.pr}}, {"dilations", {c.dh, c.dw}},
          {"group", c.group}, {"output_padding", {c.oph, c.opw}}};
}

json act_json(const std::string& act) {
  if (act.empty()) return nullptr;
  if (act == "Relu6") return {{"op", "Clip"}, {"min", 0}, {"max", 6}};
  if (act == "LeakyRelu") return {{"op", "LeakyRelu"}, {"alpha", 0.1}};
  return {{"op", act}};
}

int32_t qmin(DataType t) { return t == DataType::u8 ? 0 : -128; }
int32_t qmax(DataType t) { return t == DataType::u8 ? 255 : 127; }

// The codes of an output covering act(v) for pre-activation values v in [-9, 9], with a margin.
QuantInfo out_quant(const std::string& act, DataType t) {
  double lo = -9, hi = 9;
  if (act == "Relu") lo = 0;
  if (act == "Relu6") lo = 0, hi = 6;
  if (act == "LeakyRelu") lo = -0.9;
  if (act == "Sigmoid") lo = 0, hi = 1;
  const double m = 0.05 * (hi - lo);
  const float scale = static_cast<float>((hi - lo + 2 * m) / 255.0);
  const int32_t zp = std::clamp(static_cast<int32_t>(std::lround(qmin(t) - (lo - m) / scale)), qmin(t), qmax(t));
  return per_tensor(scale, zp);
}

// One ConvTranspose node "y" = ConvTranspose(x, w, b) with a symbolic batch.
std::shared_ptr<const Model> model_of(const Case& c, bool is_float, uint32_t seed) {
  const int64_t Cg = c.C / c.group;
  // Every output sums about KH KW Cg / (s_h s_w) products: scales keep real values ~ N(0, 3).
  const double taps = std::max(1.0, double(c.KH * c.KW * Cg) / double(c.sh * c.sw));
  GraphBuilder g;
  std::vector<std::string> ins{"x", "w"};
  if (is_float) {
    const float wmax = static_cast<float>(3.0 * std::sqrt(3.0 / taps));
    g.input("x", DataType::f32, {"batch", c.H, c.W, c.C});
    g.constant("w", random_f32({c.O, c.KH, c.KW, Cg}, -wmax, wmax, seed + 1));
    if (c.bias) g.constant("b", random_f32({c.O}, -0.5f, 0.5f, seed + 2)), ins.push_back("b");
    g.tensor("y", DataType::f32, {"batch", c.OH(), c.OW(), c.O});
    g.node("ConvTranspose", ins, {"y"}, attrs(c), "float", act_json(c.act));
  } else {
    const float sx = 0.02f;
    double xpow = 0;   // E[(x - zp)^2] over uniform codes
    for (int32_t q = qmin(c.xt); q <= qmax(c.xt); ++q) xpow += double(q - c.zpx) * (q - c.zpx) / 256.0;
    const double std_acc = std::sqrt(taps * xpow * c.wmax * (c.wmax + 1) / 3.0);
    auto jitter = random_floats(c.O, 0.5f, 1.5f, seed + 3);
    std::vector<float> sws(c.O);
    for (int64_t o = 0; o < c.O; ++o) sws[o] = static_cast<float>(3.0 / (std_acc * sx) * (c.per_channel ? jitter[o] : 1.f));
    Buffer w = random_q8(DataType::s8, {c.O, c.KH, c.KW, Cg}, seed + 1);
    for (auto& b : w.bytes) b = static_cast<uint8_t>(static_cast<int8_t>(int(b) % (2 * c.wmax + 1) - c.wmax));
    g.input("x", c.xt, {"batch", c.H, c.W, c.C}, per_tensor(sx, c.zpx));
    g.constant("w", w, c.per_channel ? per_channel(sws) : per_tensor(sws[0], 0));
    if (c.bias) {
      auto f = random_floats(c.O, -1.f, 1.f, seed + 2);
      std::vector<int32_t> b(c.O);
      for (int64_t o = 0; o < c.O; ++o) b[o] = static_cast<int32_t>(std::lround(f[o] * std_acc));
      g.constant("b", Buffer::of<int32_t>(DataType::s32, {c.O}, b));
      ins.push_back("b");
    }
    g.tensor("y", c.yt, {"batch", c.OH(), c.OW(), c.O}, out_quant(c.act, c.yt));
    g.node("ConvTranspose", ins, {"y"}, attrs(c), "int8_static", act_json(c.act));
  }
  g.output("y");
  return g.build();
}

Buffer input_of(const Case& c, bool is_float, int64_t n, uint32_t seed) {
  return is_float ? random_f32({n, c.H, c.W, c.C}, -1.f, 1.f, seed) : random_q8(c.xt, {n, c.H, c.W, c.C}, seed);
}

// Codes that are not trivially constant, so garbage in both paths cannot pass.
void check_not_trivial(const Buffer& y) {
  std::set<int32_t> distinct;
  int64_t saturated = 0;
  for (int64_t i = 0; i < y.elements(); ++i) {
    const int32_t q = y.dtype == DataType::u8 ? int32_t(y.as<uint8_t>()[i]) : int32_t(y.as<int8_t>()[i]);
    distinct.insert(q);
    saturated += q == qmin(y.dtype) || q == qmax(y.dtype);
  }
  CHECK_MESSAGE(distinct.size() >= 3, "only " << distinct.size() << " distinct output codes");
  CHECK_MESSAGE(saturated * 2 < y.elements(), saturated << " of " << y.elements() << " outputs saturated");
}

void check_equal(const Buffer& got, const Buffer& want) {
  REQUIRE(got.shape == want.shape);
  REQUIRE(got.dtype == want.dtype);
  if (want.dtype == DataType::f32) {
    CHECK(max_rel_diff(got, want, 1.0) <= kFloatTol);
  } else {
    CHECK(max_code_diff(got, want) == 0);
    check_not_trivial(want);
  }
}

bool has_backend(const std::string& b) {
  const auto v = available_backends();
  return std::find(v.begin(), v.end(), b) != v.end();
}

// Which implementations ran, over the whole suite (the coverage checks below).
std::map<std::string, int>& impl_counts() {
  static std::map<std::string, int> m;
  return m;
}

// Where a backend rightly has no implementation of its own for a case: what its refusal says.
std::string expected_refusal(const Case& c, bool is_float, const std::string& backend) {
  if (backend == "xnnpack" && is_float) {
    if (c.oph >= c.sh || c.opw >= c.sw) return "output_padding must be smaller than the stride";
    if (!c.act.empty() && c.act != "Relu" && c.act != "Relu6") return "is not an output clamp";
  }
  return "";
}

// Runs case c on `backend` (threads, batch n) and on the reference; returns the implementation
// that ran the node: the backend's own unless expected_refusal() names why not.
std::string check_case(const Case& c, bool is_float, const std::string& backend, uint32_t seed, int64_t n = 1, int threads = 1) {
  INFO(c.str() << " on " << backend << std::string(is_float ? " float" : " int8") << " batch " << n << " threads " << threads);
  auto model = model_of(c, is_float, seed);
  std::map<std::string, Buffer> in{{"x", input_of(c, is_float, n, seed + 7)}};
  const std::string refusal = expected_refusal(c, is_float, backend);
  RunResult got = run_on(model, backend, in, threads, /*allow_fallback=*/!refusal.empty());
  RunResult want = run_on(model, "reference", in);
  REQUIRE(got.profile.size() == 1);
  const std::string impl = got.profile[0].impl;
  if (!refusal.empty()) {
    CHECK(impl.find("__reference") != std::string::npos);
    CHECK_MESSAGE(got.dispatch[0].note.find(refusal) != std::string::npos, got.dispatch[0].note);
    return impl;
  }
  ++impl_counts()[impl];
  check_equal(got.out.at("y"), want.out.at("y"));
  return impl;
}

// Every optimized backend on both precisions of c.
void check_all(const Case& c, uint32_t seed) {
  for (const std::string& b : optimized_backends())
    for (bool is_float : {false, true}) check_case(c, is_float, b, seed);
}

std::vector<Case> hand_picked() {
  std::vector<Case> v;
  auto add = [&](auto f) { Case c; f(c); v.push_back(c); };
  add([](Case& c) {});                                                                          // 3x3 s2 p1
  add([](Case& c) { c.oph = c.opw = 1, c.act = "Relu"; });                                      // U-Net style
  add([](Case& c) { c.KH = c.KW = 4, c.C = 16, c.O = 8, c.zpx = 128, c.act = "Relu6"; });        // 2x upsampling
  add([](Case& c) { c.KH = c.KW = 1, c.sh = c.sw = 1, c.pt = c.pl = c.pb = c.pr = 0, c.zpx = 37; });
  add([](Case& c) { c.KH = 5, c.KW = 2, c.sh = 3, c.sw = 1, c.pt = 2, c.pl = 0, c.pb = 0, c.pr = 1, c.oph = 2, c.zpx = 1; });
  add([](Case& c) { c.sh = c.sw = 1, c.dh = c.dw = 2, c.pt = 0, c.pl = 2, c.pb = 3, c.pr = 1, c.zpx = 200; });
  add([](Case& c) { c.C = 16, c.O = 24, c.group = 2, c.xt = DataType::s8, c.zpx = -128, c.yt = DataType::s8; });
  add([](Case& c) { c.C = c.O = c.group = 16, c.zpx = 37, c.act = "Relu"; });                    // depthwise
  add([](Case& c) { c.C = 16, c.O = 32, c.group = 16, c.xt = DataType::s8, c.zpx = 5; });        // depthwise x2
  add([](Case& c) { c.per_channel = false, c.bias = false, c.xt = DataType::s8, c.zpx = 0, c.yt = DataType::s8; });
  add([](Case& c) { c.act = "LeakyRelu", c.zpx = 99; });                                         // not a clamp
  add([](Case& c) { c.act = "Sigmoid", c.xt = DataType::s8, c.zpx = -3, c.oph = 1; });
  add([](Case& c) { c.C = 64, c.O = 32, c.KH = c.KW = 4, c.H = c.W = 12, c.zpx = 128, c.act = "Relu"; });
  return v;
}

}  // namespace

TEST_SUITE("conv_transpose") {

TEST_CASE("conv_transpose: hand-picked cases on every backend, int8 exact and float") {
  REQUIRE(!optimized_backends().empty());
  uint32_t seed = 500;
  for (const Case& c : hand_picked()) check_all(c, seed += 10);
}

TEST_CASE("conv_transpose: random sweep of kernels, strides, pads, output padding, dilation, groups, types") {
  std::mt19937 rng(4321);
  auto pick = [&](auto const& v) { return v[rng() % v.size()]; };
  const std::vector<std::pair<DataType, int32_t>> xq{{DataType::u8, 0},  {DataType::u8, 128}, {DataType::u8, 37},
                                                      {DataType::s8, 0},  {DataType::s8, -128}, {DataType::s8, 11}};
  const std::vector<std::string> acts{"", "Relu", "Relu6", "", "LeakyRelu"};
  int cases = 0;
  for (int i = 0; i < 40; ++i) {
    Case c;
    c.H = 3 + rng() % 6, c.W = 3 + rng() % 6;
    const int kind = rng() % 4;   // 0, 1 regular, 2 grouped, 3 depthwise
    c.C = pick(std::vector<int64_t>{1, 3, 8, 17});
    c.O = pick(std::vector<int64_t>{1, 5, 8, 16});
    if (kind == 2) c.group = 2, c.C *= 2, c.O *= 2;
    if (kind == 3) c.group = c.C, c.O = c.C * pick(std::vector<int64_t>{1, 1, 2});
    c.KH = 1 + rng() % 5, c.KW = rng() % 3 == 0 ? 1 + rng() % 5 : c.KH;
    c.sh = 1 + rng() % 3, c.sw = rng() % 3 == 0 ? 1 + rng() % 3 : c.sh;
    c.dh = c.KH > 1 && rng() % 4 == 0 ? 2 : 1, c.dw = c.KW > 1 && rng() % 4 == 0 ? 2 : 1;
    const int64_t ext_h = c.dh * (c.KH - 1) + 1, ext_w = c.dw * (c.KW - 1) + 1;
    c.pt = rng() % ext_h, c.pb = rng() % ext_h, c.pl = rng() % ext_w, c.pr = rng() % ext_w;
    c.oph = rng() % std::max(c.sh, c.dh), c.opw = rng() % std::max(c.sw, c.dw);   // ONNX: < stride or dilation
    if (c.OH() < 1 || c.OW() < 1) continue;
    c.act = pick(acts);
    std::tie(c.xt, c.zpx) = pick(xq);
    c.yt = rng() % 3 == 0 ? DataType::s8 : DataType::u8;
    c.bias = rng() % 4 != 0;
    c.per_channel = rng() % 4 != 0;
    c.wmax = rng() % 3 == 0 ? 127 : 64;
    check_all(c, 2000 + 13 * i);
    ++cases;
  }
  CHECK(cases >= 30);
}

TEST_CASE("conv_transpose: full-range weights take octet's simd kernel without VNNI, oneDNN with it") {
  if (!has_backend("onednn")) {
    MESSAGE("SKIPPED: no oneDNN backend in this build");
    return;
  }
  for (DataType xt : {DataType::u8, DataType::s8}) {
    Case c;
    c.C = 32, c.O = 16, c.KH = c.KW = 4, c.H = c.W = 10, c.xt = xt, c.zpx = xt == DataType::u8 ? 128 : -7, c.wmax = 127;
    const std::string impl = check_case(c, false, "onednn", 71);
    CHECK((impl == "qs8_conv_transpose__simd" || impl == "qs8_conv_transpose__onednn"));
    // 7-bit weights: oneDNN on every x86 ISA.
    c.wmax = 64;
    CHECK(check_case(c, false, "onednn", 73) == "qs8_conv_transpose__onednn");
  }
}

TEST_CASE("conv_transpose: the batch changes between runs of one session, and 2 threads") {
  Case c;
  c.C = 17, c.O = 24, c.KH = c.KW = 3, c.oph = c.opw = 1, c.zpx = 37, c.act = "Relu";
  for (const std::string& b : optimized_backends())
    for (bool is_float : {false, true}) {
      INFO(b << (is_float ? " float" : " int8"));
      auto model = model_of(c, is_float, 91);
      SessionOptions o;
      o.backend = b;
      o.threads = 2;
      o.allow_fallback = false;
      Session s(model, o);
      for (int64_t n : {1, 3, 1, 2}) {
        INFO("batch " << n);
        std::map<std::string, Buffer> in{{"x", input_of(c, is_float, n, 95 + static_cast<uint32_t>(n))}};
        s.set_input("x", in["x"].view());
        s.run();
        Buffer y = Buffer::from_view(s.output("y"));
        CHECK(y.shape == std::vector<int64_t>{n, c.OH(), c.OW(), c.O});
        check_equal(y, run_on(model, "reference", in).out.at("y"));
        CHECK(s.profile()[0].impl.find("__reference") == std::string::npos);
      }
    }
}

TEST_CASE("conv_transpose: every implementation ran (coverage of the cases above)") {
  // Runs after the cases above (doctest orders test cases by file and line); alone, it runs them
  // itself, so it cannot pass vacuously.
  if (impl_counts().empty())
    for (const Case& c : hand_picked()) check_all(c, 900);
  for (const auto& [impl, n] : impl_counts()) MESSAGE(impl << ": " << n << " runs");
  auto ran = [&](const char* impl) { return impl_counts().count(impl) ? impl_counts().at(impl) : 0; };
  if (has_backend("onednn")) {
    CHECK(ran("qs8_conv_transpose__onednn") > 0);
    CHECK(ran("f32_conv_transpose__onednn") > 0);
  }
  if (has_backend("xnnpack")) CHECK(ran("f32_conv_transpose__xnnpack") > 0);
  if (has_backend("xnnpack") || has_backend("onednn")) CHECK(ran("qs8_conv_transpose__simd") > 0);
  CHECK(ran("qs8_conv_transpose__reference") + ran("f32_conv_transpose__reference") == 0);
}

}  // TEST_SUITE
