// The oneDNN backend against the reference kernels: every node is built alone (GraphBuilder),
// run on "onednn" (fallback disabled, and the kernel must not have fallen back internally either)
// and on "reference", and compared:
//   int8:  codes agree within 1 LSB per element (docs/format.md allows backends to order float
//          operations differently), and the reference output is not trivially constant (at least
//          3 distinct codes, under 50% saturated), so garbage in both paths cannot pass;
//   float: max |a - b| / (|b| + 1) <= kFloatTol (see below).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "test_util.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

#if defined(OCTET_WITH_ONEDNN)

namespace {

// Float tolerance. Both sides compute the same sums in float32 (reference: double accumulation,
// oneDNN: float32 FMAs in blocked order), so the difference is the float32 rounding of a dot
// product of K <= 825 terms of size O(1/sqrt(K)) whose result is O(1): a random walk of about
// sqrt(K) * 2^-24 * |partial sums| ~ 30 * 6e-8 * 3 ~ 5e-6, plus oneDNN's polynomial
// approximations of logistic/tanh/erf (a few ulp). 3e-5 relative to max(|b|, 1) is several times
// that and still far below any real error (a wrong tap, bias or scale moves outputs by >1e-2).
constexpr double kFloatTol = 3e-5;

struct Q {
  DataType dt;
  float scale;
  int32_t zp;
};

int32_t qmin(DataType t) { return t == DataType::u8 ? 0 : -128; }
int32_t qmax(DataType t) { return t == DataType::u8 ? 255 : 127; }

// E[(c - zp)^2] for codes uniform over the type's range.
double code_power(DataType t, int32_t zp) {
  double s = 0;
  for (int32_t c = qmin(t); c <= qmax(t); ++c) s += double(c - zp) * (c - zp);
  return s / 256.0;
}

// Output quantization covering [lo, hi] plus 5% margin on each side.
Q out_quant(DataType t, double lo, double hi) {
  const double m = 0.05 * (hi - lo);
  lo -= m, hi += m;
  const float scale = static_cast<float>((hi - lo) / 255.0);
  int32_t zp = static_cast<int32_t>(std::lround(qmin(t) - lo / scale));
  zp = std::clamp(zp, qmin(t), qmax(t));
  return {t, scale, zp};
}

// Range of act(v) for v in [lo, hi].
std::pair<double, double> act_range(const std::string& act, double lo, double hi) {
  if (act == "" ) return {lo, hi};
  if (act == "Relu") return {0, hi};
  if (act == "Relu6") return {0, std::min(hi, 6.0)};
  if (act == "LeakyRelu") return {0.1 * lo, hi};
  if (act == "HardSwish") return {-0.375, hi};
  if (act == "Sigmoid" || act == "HardSigmoid") return {0, 1};
  if (act == "Tanh") return {-1, 1};
  if (act == "Gelu") return {-0.17, hi};
  FAIL("unknown activation " << act);
  return {lo, hi};
}

json act_json(const std::string& act) {
  if (act.empty()) return nullptr;
  if (act == "Relu6") return {{"op", "Clip"}, {"min", 0}, {"max", 6}};
  if (act == "LeakyRelu") return {{"op", "LeakyRelu"}, {"alpha", 0.1}};
  if (act == "HardSigmoid") return {{"op", "HardSigmoid"}, {"alpha", 0.2}, {"beta", 0.5}};
  return {{"op", act}};
}

std::string dt_str(DataType t) { return dtype_name(t); }

Buffer random_codes(DataType dt, std::vector<int64_t> shape, uint32_t seed) { return random_q8(dt, std::move(shape), seed); }

// s8 weight codes in [-127, 127] (symmetric).
Buffer random_weights(std::vector<int64_t> shape, uint32_t seed) {
  Buffer b = random_q8(DataType::s8, std::move(shape), seed);
  for (auto& c : b.bytes)
    if (static_cast<int8_t>(c) == -128) c = static_cast<uint8_t>(int8_t(-127));
  return b;
}

Buffer random_bias(int64_t n, double magnitude, uint32_t seed) {
  auto f = random_floats(n, -1.f, 1.f, seed);
  std::vector<int32_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(std::lround(f[i] * magnitude));
  return Buffer::of<int32_t>(DataType::s32, {n}, v);
}

// Codes that are not trivially constant (a MISTRUSTED-style guard).
void check_not_trivial(const Buffer& y) {
  std::set<int32_t> distinct;
  int64_t saturated = 0;
  for (int64_t i = 0; i < y.elements(); ++i) {
    int32_t c = y.dtype == DataType::u8 ? int32_t(y.as<uint8_t>()[i]) : int32_t(y.as<int8_t>()[i]);
    distinct.insert(c);
    if (c == qmin(y.dtype) || c == qmax(y.dtype)) ++saturated;
  }
  CHECK_MESSAGE(distinct.size() >= 3, "only " << distinct.size() << " distinct output codes");
  CHECK_MESSAGE(saturated * 2 < y.elements(), saturated << " of " << y.elements() << " outputs saturated");
}

struct RunResult {
  std::map<std::string, Buffer> out;
  std::vector<DispatchEntry> dispatch;
  std::vector<NodeProfile> profile;
};

RunResult run_on(const std::shared_ptr<const Model>& model, const std::string& backend,
                 const std::map<std::string, Buffer>& inputs, int threads = 1, bool allow_fallback = false) {
  SessionOptions o;
  o.backend = backend;
  o.threads = threads;
  o.allow_fallback = allow_fallback;
  Session s(model, o);
  for (const auto& [name, buf] : inputs) s.set_input(name, buf.view());
  s.run();
  RunResult r;
  for (const auto& info : model->outputs()) r.out[info.name] = Buffer::from_view(s.output(info.name));
  r.dispatch = s.dispatch();
  r.profile = s.profile();
  return r;
}

// Runs on both backends and compares output "y". With `require_onednn`, every node must run on
// oneDNN proper (not refused, not its internal fallback to the reference kernel); otherwise a
// refusal is allowed (the node then runs on the reference kernel and trivially agrees) and
// reported. Returns whether everything ran on oneDNN.
bool compare(const std::shared_ptr<const Model>& model, const std::map<std::string, Buffer>& inputs,
             bool require_onednn = true, int threads = 1) {
  RunResult d = run_on(model, "onednn", inputs, threads, !require_onednn);
  RunResult r = run_on(model, "reference", inputs);
  bool on_onednn = true;
  for (const auto& p : d.profile) {
    const bool ok = p.backend == "onednn" && p.impl.rfind("reference", 0) != 0;
    if (!ok) {
      on_onednn = false;
      std::string note;
      for (const auto& e : d.dispatch)
        if (e.node == p.node) note = e.note;
      MESSAGE("not on oneDNN: " << p.node << " backend " << p.backend << " impl '" << p.impl << "' " << note);
    }
    if (require_onednn) CHECK(ok);
  }
  const Buffer& a = d.out.at("y");
  const Buffer& b = r.out.at("y");
  REQUIRE(a.shape == b.shape);
  REQUIRE(a.dtype == b.dtype);
  if (a.dtype == DataType::f32) {
    CHECK(max_rel_diff(a, b, 1.0) <= kFloatTol);
  } else {
    CHECK(max_code_diff(a, b) <= 1);
    check_not_trivial(b);
    check_not_trivial(a);
  }
  return on_onednn;
}

// ---- Conv ---------------------------------------------------------------------------------

struct ConvCase {
  int64_t N = 1, H = 9, W = 9, C = 3, O = 5, KH = 3, KW = 3;
  int64_t sh = 1, sw = 1, pt = 1, pl = 1, pb = 1, pr = 1, dh = 1, dw = 1, group = 1;
  std::string act;
  DataType xt = DataType::u8;
  int32_t zpx = 0;
  DataType yt = DataType::u8;
  bool bias = true, per_channel = true;
  bool residual = false;
  DataType rt = DataType::s8;
  int32_t zpr = 0;
  bool symbolic_batch = true;

  int64_t OH() const { return (H + pt + pb - (dh * (KH - 1) + 1)) / sh + 1; }
  int64_t OW() const { return (W + pl + pr - (dw * (KW - 1) + 1)) / sw + 1; }
  std::string str() const {
    std::ostringstream s;
    s << "N" << N << " " << H << "x" << W << "x" << C << " -> O" << O << " k" << KH << "x" << KW << " s" << sh << "," << sw
      << " pads " << pt << "," << pl << "," << pb << "," << pr << " dil " << dh << "," << dw << " g" << group << " act '"
      << act << "' x " << dt_str(xt) << " zp " << zpx << " y " << dt_str(yt) << (bias ? " bias" : "")
      << (per_channel ? " per-channel" : " per-tensor");
    if (residual) s << " residual " << dt_str(rt) << " zp " << zpr;
    return s.str();
  }
};

json conv_attrs(const ConvCase& c) {
  return {{"strides", {c.sh, c.sw}}, {"pads", {c.pt, c.pl, c.pb, c.pr}}, {"dilations", {c.dh, c.dw}}, {"group", c.group}};
}

std::shared_ptr<const Model> int8_conv_model(const ConvCase& c, uint32_t seed, std::map<std::string, Buffer>* inputs) {
  const int64_t Cg = c.C / c.group, taps = c.KH * c.KW * Cg;
  const float sx = 0.02f;
  const double std_acc = std::sqrt(taps * code_power(c.xt, c.zpx) * (127.0 * 128.0 / 3.0));
  const double sw_base = 3.0 / (std_acc * sx);   // pre-activation real values ~ N(0, 3)
  std::vector<float> sws(c.O);
  auto jitter = random_floats(c.O, 0.5f, 1.5f, seed + 1);
  for (int64_t o = 0; o < c.O; ++o) sws[o] = static_cast<float>(sw_base * (c.per_channel ? jitter[o] : 1.0));
  const float sr = 0.03f;
  double lo = -9, hi = 9;
  if (c.residual) lo -= 128 * sr, hi += 128 * sr;
  auto [alo, ahi] = act_range(c.act, lo, hi);
  const Q qy = out_quant(c.yt, alo, ahi);

  GraphBuilder g;
  ModelWriter::Dim batch = c.symbolic_batch ? ModelWriter::Dim("batch") : ModelWriter::Dim(c.N);
  g.input("x", c.xt, {batch, c.H, c.W, c.C}, per_tensor(sx, c.zpx));
  g.constant("w", random_weights({c.O, c.KH, c.KW, Cg}, seed + 2), c.per_channel ? per_channel(sws) : per_tensor(sws[0], 0));
  std::vector<std::string> ins{"x", "w"};
  if (c.bias) {
    g.constant("b", random_bias(c.O, std_acc, seed + 3));
    ins.push_back("b");
  } else if (c.residual) {
    ins.push_back("");
  }
  if (c.residual) {
    g.input("r", c.rt, {batch, c.OH(), c.OW(), c.O}, per_tensor(sr, c.zpr));
    ins.push_back("r");
    (*inputs)["r"] = random_codes(c.rt, {c.N, c.OH(), c.OW(), c.O}, seed + 4);
  }
  g.tensor("y", c.yt, {batch, c.OH(), c.OW(), c.O}, per_tensor(qy.scale, qy.zp));
  g.output("y");
  g.node("Conv", ins, {"y"}, conv_attrs(c), "int8_static", act_json(c.act));
  (*inputs)["x"] = random_codes(c.xt, {c.N, c.H, c.W, c.C}, seed);
  return g.build();
}

std::shared_ptr<const Model> float_conv_model(const ConvCase& c, uint32_t seed, std::map<std::string, Buffer>* inputs) {
  const int64_t Cg = c.C / c.group, taps = c.KH * c.KW * Cg;
  const float wmax = static_cast<float>(3.0 * std::sqrt(3.0 / taps));   // outputs ~ N(0, ~1.7)
  GraphBuilder g;
  g.input("x", DataType::f32, {"batch", c.H, c.W, c.C});
  g.constant("w", random_f32({c.O, c.KH, c.KW, Cg}, -wmax, wmax, seed + 2));
  std::vector<std::string> ins{"x", "w"};
  if (c.bias) {
    g.constant("b", random_f32({c.O}, -0.5f, 0.5f, seed + 3));
    ins.push_back("b");
  } else if (c.residual) {
    ins.push_back("");
  }
  if (c.residual) {
    g.input("r", DataType::f32, {"batch", c.OH(), c.OW(), c.O});
    ins.push_back("r");
    (*inputs)["r"] = random_f32({c.N, c.OH(), c.OW(), c.O}, -2.f, 2.f, seed + 4);
  }
  g.tensor("y", DataType::f32, {"batch", c.OH(), c.OW(), c.O});
  g.output("y");
  g.node("Conv", ins, {"y"}, conv_attrs(c), "float", act_json(c.act));
  (*inputs)["x"] = random_f32({c.N, c.H, c.W, c.C}, -1.f, 1.f, seed);
  return g.build();
}

// Returns how many of the two precisions ran on oneDNN.
int check_conv(const ConvCase& c, uint32_t seed, bool require_onednn = true) {
  INFO(c.str());
  std::map<std::string, Buffer> in8, inf;
  int n = compare(int8_conv_model(c, seed, &in8), in8, require_onednn);
  n += compare(float_conv_model(c, seed, &inf), inf, require_onednn);
  return n;
}

// Hand-picked cases: each exercises one feature the sweep below mixes randomly.
std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> v;
  auto add = [&](auto f) { ConvCase c; f(c); v.push_back(c); };
  add([](ConvCase& c) { c.C = 1, c.O = 3, c.act = "Relu"; });
  add([](ConvCase& c) { c.C = 3, c.O = 17, c.KH = c.KW = 5, c.sh = c.sw = 2, c.pt = 2, c.pl = 1, c.pb = 1, c.pr = 2, c.zpx = 37; });
  add([](ConvCase& c) { c.C = 17, c.O = 33, c.dh = c.dw = 2, c.pt = c.pl = c.pb = c.pr = 2, c.act = "Relu6", c.zpx = 128; });
  add([](ConvCase& c) { c.C = 33, c.O = 17, c.KH = c.KW = 1, c.pt = c.pl = c.pb = c.pr = 0, c.act = "LeakyRelu", c.xt = DataType::s8; });
  add([](ConvCase& c) { c.C = 33, c.O = 33, c.group = 33, c.act = "HardSwish", c.zpx = 128; });
  add([](ConvCase& c) { c.C = 34, c.O = 34, c.group = 2, c.sh = c.sw = 2, c.act = "Sigmoid", c.zpx = 37; });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.group = 17, c.KH = c.KW = 5, c.sh = c.sw = 2, c.pt = c.pl = c.pb = c.pr = 2, c.act = "Relu6"; });
  add([](ConvCase& c) { c.C = 17, c.O = 34, c.group = 17, c.zpx = 37, c.act = "Relu"; });   // depthwise, multiplier 2
  add([](ConvCase& c) { c.C = 33, c.O = 3, c.KH = c.KW = 1, c.sh = c.sw = 2, c.pt = c.pl = c.pb = c.pr = 0, c.zpx = 37; });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.residual = true, c.act = "Relu", c.zpr = -3, c.zpx = 128; });
  add([](ConvCase& c) { c.C = 17, c.O = 33, c.residual = true, c.rt = DataType::u8, c.zpr = 100, c.yt = DataType::s8; });
  add([](ConvCase& c) { c.C = 3, c.O = 17, c.residual = true, c.act = "Sigmoid", c.zpr = 5, c.bias = false; });
  add([](ConvCase& c) { c.N = 3, c.C = 17, c.O = 17, c.act = "Tanh", c.yt = DataType::s8, c.xt = DataType::s8, c.zpx = -20; });
  add([](ConvCase& c) { c.N = 3, c.C = 3, c.O = 33, c.act = "Gelu", c.per_channel = false; });
  add([](ConvCase& c) { c.C = 17, c.O = 17, c.act = "HardSigmoid", c.bias = false, c.zpx = 37; });
  add([](ConvCase& c) { c.C = 64, c.O = 64, c.H = c.W = 14, c.zpx = 128, c.act = "Relu"; });   // blocked-friendly sizes
  add([](ConvCase& c) { c.C = 64, c.O = 64, c.H = c.W = 14, c.act = "Relu", c.residual = true, c.zpr = 10; });
  add([](ConvCase& c) { c.C = 256, c.O = 64, c.H = c.W = 7, c.KH = c.KW = 1, c.pt = c.pl = c.pb = c.pr = 0, c.zpx = 128; });
  return v;
}

}  // namespace

TEST_SUITE("onednn") {

TEST_CASE("onednn is the preferred backend on x86") {
#if defined(__x86_64__) || defined(_M_X64)
  REQUIRE(!available_backends().empty());
  CHECK(available_backends().front() == "onednn");
#endif
}

TEST_CASE("conv: hand-picked cases, int8 and float") {
  uint32_t seed = 100;
  for (const ConvCase& c : conv_cases()) check_conv(c, seed += 10);
}

TEST_CASE("conv: random sweep of shapes, strides, pads, dilation, groups, activations, types") {
  std::mt19937 rng(1234);
  auto pick = [&](auto const& v) { return v[rng() % v.size()]; };
  const std::vector<int64_t> chans{1, 3, 17, 33};
  const std::vector<std::string> acts{"", "Relu", "Relu6", "LeakyRelu", "HardSwish", "Sigmoid"};
  const std::vector<std::pair<DataType, int32_t>> xq{{DataType::u8, 0}, {DataType::u8, 128}, {DataType::u8, 37},
                                                      {DataType::s8, 0}, {DataType::s8, -7}};
  int ran = 0, on_onednn = 0;
  for (int i = 0; i < 48; ++i) {
    ConvCase c;
    c.N = pick(std::vector<int64_t>{1, 3});
    c.H = 5 + rng() % 8, c.W = 5 + rng() % 8;
    const int kind = rng() % 3;   // 0 regular, 1 grouped, 2 depthwise
    c.C = pick(chans);
    if (kind == 1 && c.C % 2 == 0) c.group = 2;
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
    std::tie(c.xt, c.zpx) = pick(xq);
    c.yt = rng() % 3 == 0 ? DataType::s8 : DataType::u8;
    c.bias = rng() % 4 != 0;
    c.per_channel = rng() % 4 != 0;
    c.residual = rng() % 4 == 0;
    c.rt = rng() % 2 ? DataType::u8 : DataType::s8;
    c.zpr = c.rt == DataType::u8 ? int32_t(rng() % 256) : int32_t(rng() % 256) - 128;
    on_onednn += check_conv(c, 1000 + i * 7, false);
    ran += 2;
  }
  CHECK(ran >= 80);
  MESSAGE(on_onednn << " of " << ran << " random conv nodes ran on oneDNN");
  CHECK(on_onednn * 10 >= ran * 9);
}

TEST_CASE("conv: the batch changes between runs of one session") {
  ConvCase c;
  c.C = 17, c.O = 33, c.act = "Relu", c.zpx = 37, c.residual = true, c.zpr = 9;
  std::map<std::string, Buffer> unused;
  auto model = int8_conv_model(c, 77, &unused);
  SessionOptions o;
  o.backend = "onednn";
  o.allow_fallback = false;
  Session s(model, o);
  std::string first_impl;
  for (int64_t n : {1, 3, 1, 2, 3}) {
    INFO("batch " << n);
    std::map<std::string, Buffer> in{{"x", random_codes(c.xt, {n, c.H, c.W, c.C}, 5 + n)},
                                     {"r", random_codes(c.rt, {n, c.OH(), c.OW(), c.O}, 6 + n)}};
    for (const auto& [name, b] : in) s.set_input(name, b.view());
    s.run();
    Buffer y = Buffer::from_view(s.output("y"));
    REQUIRE(y.shape == std::vector<int64_t>{n, c.OH(), c.OW(), c.O});
    auto want = run_on(model, "reference", in).out.at("y");
    CHECK(max_code_diff(y, want) <= 1);
    check_not_trivial(want);
    const std::string impl = s.profile()[0].impl;
    CHECK(impl.rfind("reference", 0) != 0);
  }
}

TEST_CASE("conv: in-place residual (the planner gives R and Y one buffer)") {
  // t = Conv1x1(x) is the residual of the second conv and dies there: the planner runs the
  // second conv in place (t and y share memory), so the kernel must not copy R over itself.
  for (bool is_float : {false, true}) {
    INFO((is_float ? "float" : "int8"));
    const int64_t H = 8, W = 8, C = 16;
    GraphBuilder g;
    std::map<std::string, Buffer> in;
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
      std::vector<float> s1(C, 0.0015f), s2(C, 0.0005f);
      g.constant("w1", random_weights({C, 1, 1, C}, 1), per_channel(s1));
      g.constant("w2", random_weights({C, 3, 3, C}, 2), per_channel(s2));
      g.tensor("t", DataType::u8, {"batch", H, W, C}, per_tensor(0.04f, 128));
      g.tensor("y", DataType::u8, {"batch", H, W, C}, per_tensor(0.05f, 10));
      g.node("Conv", {"x", "w1"}, {"t"}, json::object(), "int8_static", nullptr, "c1");
      g.node("Conv", {"x", "w2", "", "t"}, {"y"}, {{"pads", {1, 1, 1, 1}}}, "int8_static", {{"op", "Relu"}}, "c2");
      in["x"] = random_codes(DataType::u8, {2, H, W, C}, 3);
    }
    g.output("y");
    auto model = g.build();
    SessionOptions o;
    o.backend = "onednn";
    o.allow_fallback = false;
    Session s(model, o);
    const void* t_ptr = nullptr;
    const void* y_ptr = nullptr;
    s.set_observer([&](const std::string&, const std::string& tensor, const TensorView& v) {
      if (tensor == "t") t_ptr = v.data;
      if (tensor == "y") y_ptr = v.data;
    });
    s.set_input("x", in["x"].view());
    s.run();
    CHECK(t_ptr != nullptr);
    CHECK(t_ptr == y_ptr);   // really in place
    Buffer y = Buffer::from_view(s.output("y"));
    Buffer want = run_on(model, "reference", in).out.at("y");
    if (is_float) {
      CHECK(max_rel_diff(y, want, 1.0) <= kFloatTol);
    } else {
      CHECK(max_code_diff(y, want) <= 1);
      check_not_trivial(want);
    }
  }
}

TEST_CASE("conv: 2 threads give the same results as 1") {
  ConvCase c;
  c.N = 3, c.H = c.W = 14, c.C = 33, c.O = 64, c.act = "HardSwish", c.zpx = 37, c.residual = true, c.zpr = -4;
  std::map<std::string, Buffer> in8, inf;
  auto m8 = int8_conv_model(c, 9, &in8);
  auto one = run_on(m8, "onednn", in8, 1).out.at("y");
  auto two = run_on(m8, "onednn", in8, 2).out.at("y");
  CHECK(max_code_diff(one, two) == 0);
  compare(m8, in8, true, 2);
  auto mf = float_conv_model(c, 9, &inf);
  auto onef = run_on(mf, "onednn", inf, 1).out.at("y");
  auto twof = run_on(mf, "onednn", inf, 2).out.at("y");
  CHECK(max_rel_diff(onef, twof, 1.0) <= kFloatTol);
}

TEST_CASE("conv: nodes oneDNN cannot run are refused with a reason") {
  // Dynamic int8 is refused in supports() and falls back to the reference kernel.
  GraphBuilder g;
  g.input("x", DataType::f32, {"batch", 5, 5, 3});
  std::vector<float> sw(4, 0.01f);
  g.constant("w", random_weights({4, 3, 3, 3}, 1), per_channel(sw));
  g.tensor("y", DataType::f32, {"batch", 3, 3, 4});
  g.output("y");
  g.node("Conv", {"x", "w"}, {"y"}, json::object(), "int8_dynamic");
  auto model = g.build();
  Session s(model, {1, "onednn"});
  REQUIRE(s.dispatch().size() == 1);
  CHECK(s.dispatch()[0].backend == "reference");
  CHECK(s.dispatch()[0].note.find("dynamic int8 not yet on oneDNN") != std::string::npos);
  SessionOptions strict;
  strict.backend = "onednn";
  strict.allow_fallback = false;
  CHECK_THROWS_WITH_AS(Session(model, strict), doctest::Contains("dynamic int8 not yet on oneDNN"), Error);
}

TEST_CASE("conv: impl() names the oneDNN implementation in the dispatch log") {
  ConvCase c;
  c.C = 64, c.O = 64, c.H = c.W = 14;
  std::map<std::string, Buffer> in;
  auto model = int8_conv_model(c, 3, &in);
  Session s(model, {1, "onednn"});
  REQUIRE(s.dispatch().size() == 1);
  const std::string impl = s.dispatch()[0].impl;
  CHECK(!impl.empty());
  CHECK(impl.rfind("ref", 0) != 0);
}

}  // TEST_SUITE

#endif  // OCTET_WITH_ONEDNN
