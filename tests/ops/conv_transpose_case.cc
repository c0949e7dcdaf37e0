#include "conv_transpose_case.h"

#include <sstream>

namespace octet::test {

std::string ConvTransposeCase::str() const {
  std::ostringstream s;
  s << "N" << N << " " << H << "x" << W << "x" << C << " -> O" << O << " k" << KH << "x" << KW << " s" << sh << "," << sw
    << " pads " << pt << "," << pl << "," << pb << "," << pr << " out_pad " << oph << "," << opw << " dil " << dh << "," << dw
    << " g" << group << " act '" << act << "' x " << dtype_name(x.dtype) << " zp " << x.zero_point << " y " << dtype_name(yt)
    << (bias ? " bias" : "") << (w.per_channel ? " per-channel" : " per-tensor") << " w +-" << w.max;
  return s.str();
}

OpTester conv_transpose_tester(const ConvTransposeCase& c, uint32_t seed) {
  OpTester t(OpKind::ConvTranspose);
  t.seed(seed).label(c.str());
  t.input({c.N, c.H, c.W, c.C}, c.x).weights({c.O, c.KH, c.KW, c.C / c.group}, c.w);
  if (c.bias) t.bias();
  t.attrs({{"strides", {c.sh, c.sw}}, {"pads", {c.pt, c.pl, c.pb, c.pr}}, {"dilations", {c.dh, c.dw}}, {"group", c.group},
           {"output_padding", {c.oph, c.opw}}});
  t.activation(c.act).output(c.yt);
  return t;
}

std::string expected_conv_transpose_impl(const ConvTransposeCase& c, Precision p, const std::string& backend, std::string* why) {
  const bool is_float = p == Precision::Float;
#if defined(OCTET_WITH_ONEDNN)
  if (backend == "onednn") {
    if (is_float) return "f32_conv_transpose__onednn";
    // The source zero point oneDNN sees: an s8 X is flipped to u8 (+128) without VNNI.
    const bool vnni = onednn_has_vnni();
    const int32_t zp = c.x.zero_point + (c.x.dtype == DataType::s8 && !vnni ? 128 : 0);
    const bool wrong = c.KH < c.sh || c.KW < c.sw || c.oph > c.pb || c.opw > c.pr || (c.depthwise() && zp != 0);
    const bool saturates = c.w.max > 64 && !vnni;
    return wrong || saturates ? "qs8_conv_transpose__simd" : "qs8_conv_transpose__onednn";
  }
#endif
  if (backend == "xnnpack") {
    if (!is_float) return "qs8_conv_transpose__simd";
    if (c.oph >= c.sh || c.opw >= c.sw) return *why = "output_padding must be smaller than the stride", "";
    if (!c.act.empty() && c.act != "Relu" && c.act != "Relu6") return *why = "is not an output clamp", "";
    return "f32_conv_transpose__xnnpack";
  }
  return "";
}

void require_conv_transpose_backends(OpTester& t, const ConvTransposeCase& c, Precision p) {
  t.no_requirements();
  for (const std::string& b : optimized_backends()) {
    std::string why;
    const std::string impl = expected_conv_transpose_impl(c, p, b, &why);
    if (!impl.empty()) t.require(b, impl);
  }
}

}  // namespace octet::test
