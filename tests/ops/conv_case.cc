#include "conv_case.h"

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

}  // namespace octet::test
