#include "op_cases.h"

#include <algorithm>
#include <sstream>

namespace octet::test {

std::string ConvCase::str() const {
  std::ostringstream s;
  s << "N" << N << " " << H << "x" << W << "x" << C << " -> O" << O << " k" << KH << "x" << KW << " s" << sh << "," << sw
    << " pads " << pt << "," << pl << "," << pb << "," << pr << " dil " << dh << "," << dw << " g" << group << " act '" << act
    << "' x " << dtype_name(x.dtype) << " zp " << x.zero_point << " y " << dtype_name(yt) << (bias ? " bias" : "")
    << (w.per_channel ? " per-channel" : " per-tensor") << " w +-" << w.max;
  if (w.poke) s << " one weight -" << w.poke;
  if (residual) s << " residual " << dtype_name(r.dtype) << " zp " << r.zero_point;
  return s.str();
}

OpTester conv_tester(const ConvCase& c, uint32_t seed) {
  OpTester t(OpKind::Conv);
  t.seed(seed).label(c.str());
  t.input({c.N, c.H, c.W, c.C}, c.x).weights({c.O, c.KH, c.KW, c.C / c.group}, c.w);
  if (c.bias) t.bias();
  else if (c.residual) t.none();
  if (c.residual) t.input({c.N, c.OH(), c.OW(), c.O}, c.r);
  t.attrs({{"strides", {c.sh, c.sw}}, {"pads", {c.pt, c.pl, c.pb, c.pr}}, {"dilations", {c.dh, c.dw}}, {"group", c.group}});
  t.activation(c.act).output(c.yt);
  return t;
}

void require_conv_backends(OpTester& t, const ConvCase& c, Precision p, bool onednn) {
  t.no_requirements();
  const bool clamp = c.act.empty() || c.act == "Relu" || c.act == "Relu6";   // XNNPACK fuses only output clamps
  if (onednn) {
    // Float: oneDNN's jit kernels cover every convolution. Int8: oneDNN, or octet's simd kernel
    // for one group; without VNNI a grouped convolution may have only oneDNN's reference code
    // (AVX2 lacks odd channels per group and depthwise multipliers) or full-range weights oneDNN
    // cannot compute exactly there: reported, not failed.
#if defined(OCTET_WITH_ONEDNN)
    const bool gaps = p == Precision::Int8Static && c.group > 1 && !onednn_has_vnni();
#else
    const bool gaps = false;
#endif
    t.require("onednn", "", gaps ? "has only its reference implementation|exceed the 7-bit range" : "");
  }
  // XNNPACK: float convolutions with a clamp; int8 ones with a clamp and no residual (its qc8
  // operator), any with one group (octet's simd kernel).
  if (p == Precision::Float ? clamp : (c.group == 1 || (clamp && !c.residual))) t.require("xnnpack");
}

void random_quant(ConvCase& c, std::mt19937& rng) {
  const DataType xt = rng() % 2 ? DataType::u8 : DataType::s8;
  c.yt = rng() % 2 ? DataType::u8 : DataType::s8;
  c.x = Q8{xt, qmin(xt) + static_cast<int32_t>(rng() % 256), 0.02f};
  c.bias = rng() % 4 != 0;
  c.w.per_channel = rng() % 4 != 0;
  c.w.max = rng() % 2 ? 127 : 64;
}

namespace {
std::string dims(const std::vector<int64_t>& v) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str() + "]";
}
std::string q8(const Q8& q) { return std::string(dtype_name(q.dtype)) + " zp " + std::to_string(q.zero_point); }
}  // namespace

std::string FcCase::str() const {
  std::ostringstream s;
  s << "x " << dims(xshape) << " N" << N << " act '" << act << "' x " << q8(x) << " y " << dtype_name(yt) << (bias ? " bias" : "")
    << (w.per_channel ? " per-channel" : " per-tensor") << " w +-" << w.max;
  return s.str();
}

OpTester fc_tester(const FcCase& c, uint32_t seed) {
  OpTester t(OpKind::FullyConnected);
  t.seed(seed).label(c.str()).input(c.xshape, c.x).weights({c.N, c.xshape.back()}, c.w);
  if (c.bias) t.bias();
  t.activation(c.act).output(c.yt);
  return t;
}

std::string PoolCase::str() const {
  std::ostringstream s;
  s << op << " N" << N << " " << H << "x" << W << "x" << C;
  if (op != "GlobalAveragePool")
    s << " k" << KH << "x" << KW << " s" << sh << "," << sw << " pads " << pt << "," << pl << "," << pb << "," << pr << " dil " << dil
      << (ceil ? " ceil" : "") << (include_pad ? " include_pad" : "");
  s << " " << q8(x);
  return s.str();
}

OpTester pool_tester(const PoolCase& c, uint32_t seed) {
  OpKind op;
  if (!op_from_name(c.op, &op)) throw Error("pool_tester: unknown op " + c.op);
  OpTester t(op);
  t.seed(seed).label(c.str()).input({c.N, c.H, c.W, c.C}, c.x).output(c.x.dtype);
  if (c.op != "GlobalAveragePool")
    t.attrs({{"kernel_shape", {c.KH, c.KW}}, {"strides", {c.sh, c.sw}}, {"pads", {c.pt, c.pl, c.pb, c.pr}},
             {"dilations", {c.dil, c.dil}}, {"ceil_mode", c.ceil ? 1 : 0}, {"count_include_pad", c.include_pad ? 1 : 0}});
  return t;
}

std::string BinaryCase::str() const {
  std::ostringstream s;
  s << op << " A " << dims(a) << " " << q8(qa) << " B " << dims(b) << " " << q8(qb) << " act '" << act << "' y " << dtype_name(yt);
  return s.str();
}

OpTester binary_tester(const BinaryCase& c, uint32_t seed) {
  OpKind op;
  if (!op_from_name(c.op, &op)) throw Error("binary_tester: unknown op " + c.op);
  OpTester t(op);
  t.seed(seed).label(c.str()).input(c.a, c.qa).input(c.b, c.qb).activation(c.act).output(c.yt);
  return t;
}

std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> y(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1, db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    y[i] = std::max(da, db);
  }
  return y;
}

}  // namespace octet::test
