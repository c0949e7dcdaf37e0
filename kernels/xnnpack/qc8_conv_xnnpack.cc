// XNNPACK's per-channel int8 convolution (xnn_create_convolution2d_nhwc_qc8), shared by Conv and
// FullyConnected. It computes exactly octet's static int8 arithmetic (quant/requant.h):
//   acc = sum((x - zp_x) w) + bias        XNNPACK folds -zp_x * sum(w) into the packed bias and
//                                         pads with the code zp_x (real zero), as the reference
//   y   = clamp(round_half_even(float(acc) * m[c]) + zp_y)
// XNNPACK computes its multiplier as input_scale * kernel_scale[c] / output_scale; octet passes
// 1, m[c] = (s_x s_w[c]) (1 / s_y) and 1, so it multiplies by octet's m[c] exactly, and the
// clamp in codes equals the reference's clamp before rounding (rounding is monotonic).
// u8 inputs/outputs are flipped to/from s8 (see xnnpack_common.h); the zero points move by 128.
#include <cmath>
#include <vector>

#include "ops/op_spec.h"
#include "quant/requant.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {
// Code range and zero point of an 8-bit tensor as an s8 operator sees it.
int32_t s8_zero_point(const TensorDef& t) { return t.quant.zero_point[0] - (t.dtype == DataType::u8 ? 128 : 0); }

std::vector<float> weight_scales(const TensorDef& w, int64_t out_channels) {
  if (w.quant.scale.size() == 1) return std::vector<float>(static_cast<size_t>(out_channels), w.quant.scale[0]);
  return w.quant.scale;
}
}  // namespace

Support qc8_supports(const KernelContext& ctx, int64_t out_channels) {
  const TensorDef& x = ctx.input(0);
  const TensorDef& w = ctx.input(1);
  const TensorDef& y = ctx.output(0);
  if (w.dtype != DataType::s8) return Support::no("int8 weights must be s8");
  if (w.quant.scale.size() != 1 && (w.quant.axis != 0 || static_cast<int64_t>(w.quant.scale.size()) != out_channels))
    return Support::no("weights quantized along another axis than the output channels");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return Support::no("asymmetric weights (XNNPACK qc8 weights have zero point 0)");
  if (ctx.has_input(2) && ctx.input(2).dtype != DataType::s32) return Support::no("int8 bias must be s32");
  Support s = clamp_supported(ctx.node.activation);
  if (!s.ok) return s;
  int32_t lo, hi;
  if (!code_clamp(ctx.node.activation, y.quant.scale[0], s8_zero_point(y), -128, 127, &lo, &hi))
    return Support::no("the fused clamp leaves a single output code");
  // XNNPACK's limits on the requantization scale (checked at create: [2^-32, 256)).
  for (float sw : weight_scales(w, out_channels)) {
    const float r = q::output_multiplier(x.quant.scale[0], sw, 1.f / y.quant.scale[0]);
    if (!(r >= 0x1.0p-32f && r < 256.f) || !std::isnormal(sw))
      return Support::no("requantization scale " + std::to_string(r) + " outside XNNPACK's [2^-32, 256)");
  }
  return Support::yes();
}

Qc8Conv::Qc8Conv(const KernelContext& ctx, const Qc8Geometry& g) : node_(ctx.node) {
  const TensorDef& x = ctx.input(0);
  const TensorDef& w = ctx.input(1);
  const TensorDef& y = ctx.output(0);
  const int64_t O = static_cast<int64_t>(g.groups * g.og);
  flip_x_ = x.dtype == DataType::u8;
  flip_y_ = y.dtype == DataType::u8;
  depthwise_ = g.cg == 1 && g.og == 1;
  // m[c] as the reference computes it (quant/requant.h), handed over as the kernel scales.
  std::vector<float> m = weight_scales(w, O);
  const float inv_sy = 1.f / y.quant.scale[0];
  for (float& s : m) s = q::output_multiplier(x.quant.scale[0], s, inv_sy);
  int32_t lo, hi;
  code_clamp(ctx.node.activation, y.quant.scale[0], s8_zero_point(y), -128, 127, &lo, &hi);
  const int32_t* bias = ctx.has_input(2) ? reinterpret_cast<const int32_t*>(ctx.input(2).data) : nullptr;
  // Octet's OHWI weights with O = groups x og are XNNPACK's grouped [g][og][kh][kw][cg] layout
  // (no XNN_FLAG_DEPTHWISE_CONVOLUTION: that flag means HWO weights). XNNPACK packs them here,
  // once; the model's weights are not referenced afterwards.
  xnn_operator_t op = nullptr;
  check(xnn_create_convolution2d_nhwc_qc8(
            g.pad_t, g.pad_r, g.pad_b, g.pad_l, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.groups, g.cg, g.og,
            g.groups * g.cg, g.groups * g.og, static_cast<int8_t>(s8_zero_point(x)), 1.f, m.data(),
            reinterpret_cast<const int8_t*>(w.data), bias, static_cast<int8_t>(s8_zero_point(y)), 1.f,
            static_cast<int8_t>(lo), static_cast<int8_t>(hi), 0, &op),
        node_, "xnn_create_convolution2d_nhwc_qc8");
  op_.reset(op);
}

void Qc8Conv::run(const Tensor& x, Tensor& y, size_t n, size_t h, size_t w, pthreadpool_t pool) {
  const void* in = x.data;
  if (flip_x_) {
    void* buf = x_s8_.reserve(x.bytes());
    flip_sign(x.data, buf, x.bytes());
    in = buf;
  }
  check(xnn_setup_convolution2d_nhwc_qc8(op_.get(), n, h, w, static_cast<const int8_t*>(in), y.as<int8_t>(), pool), node_,
        "xnn_setup_convolution2d_nhwc_qc8");
  check(xnn_run_operator(op_.get(), pool), node_, "xnn_run_operator");
  if (flip_y_) flip_sign(y.data, y.data, y.bytes());
}

std::string Qc8Conv::detail() const {
  std::string s = depthwise_ ? "convolution_nhwc_qc8 (depthwise)" : "convolution_nhwc_qc8";
  if (flip_x_ || flip_y_) s += std::string(" u8 ") + (flip_x_ ? "x" : "") + (flip_x_ && flip_y_ ? "," : "") + (flip_y_ ? "y" : "") + " via s8";
  return s;
}

}  // namespace octet::xnn
