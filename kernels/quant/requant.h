// Requantization of static int8 products (Conv, ConvTranspose, FullyConnected, MatMul): the one
// definition the reference kernels, octet's own kernels and the library backends' setups share
// (docs/format.md, "Requantization"). With a clamp for activation (none, Relu, Clip) the result
// is computed in output units with one multiplier per channel, which is how oneDNN and XNNPACK
// requantize, so their outputs can equal the reference's exactly:
//
//   m[c] = (s_x * s_w[c]) * (1 / s_y)                    one float, in this order
//   v    = float(acc) * m[c]                             acc: exact integer sum + bias
//   v    = fma(s_r * (1 / s_y), float(r - zp_r), v)      fused residual only (one rounding, as
//                                                        oneDNN's sum post-op)
//   v    = min(max(v, lo), hi)                           Relu: lo = 0; Clip: lo = a / s_y ...
//   y    = saturate(round_half_even(v) + zp_y)              round, then the zero point (ONNX's
//                                                        QLinearConv order, XNNPACK's)
//
// Other activations (HardSwish, Sigmoid, LeakyRelu, ...) need the real value:
//   real = float(acc) * (s_x * s_w[c]);  real = fma(s_r, float(r - zp_r), real) with a residual;
//   y = quantize(act(real), s_y, zp_y)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "quant/activation.h"
#include "quant/quant.h"

namespace octet::q {

struct Requant {
  bool scaled = true;   // the activation is a clamp: the output-unit form applies
  float inv_sy = 1.f;
  int32_t zp = 0;
  float lo = -INFINITY, hi = INFINITY;   // the clamp in output units (scaled only)
};

inline bool is_clamp(const Activation& a) {
  return a.kind == ActKind::None || a.kind == ActKind::Relu || a.kind == ActKind::Clip;
}

inline Requant requant_for(const Activation& a, float s_y, int32_t zp_y) {
  Requant r;
  r.scaled = is_clamp(a);
  r.inv_sy = 1.f / s_y;
  r.zp = zp_y;
  if (a.kind == ActKind::Relu) r.lo = 0.f;
  if (a.kind == ActKind::Clip) r.lo = a.alpha * r.inv_sy, r.hi = a.beta * r.inv_sy;
  return r;
}

// m[c] (or, with s_y = 1's reciprocal 1, the real-unit factor s_x s_w[c]).
inline float output_multiplier(float s_x, float s_w, float inv_sy) { return s_x * s_w * inv_sy; }

// y from an exact accumulator (bias included). m is m[c] for the scaled form and s_x s_w[c]
// otherwise. A fused residual adds k * d, d = float(r - zp_r), k = s_r * (1 / s_y) in the scaled
// form (s_r otherwise); has_resid says whether there is one.
template <class T>
inline T requantize(int64_t acc, float m, bool has_resid, float k, float d, const Activation& act, const Requant& rq) {
  if (rq.scaled) {
    float v = static_cast<float>(acc) * m;
    if (has_resid) v = std::fma(k, d, v);
    v = std::min(std::max(v, rq.lo), rq.hi);
    return round_add<T>(v, rq.zp);
  }
  float real = static_cast<float>(acc) * m;
  if (has_resid) real = std::fma(k, d, real);
  return quantize<T>(apply_activation(act, real), rq.inv_sy, rq.zp);
}

}  // namespace octet::q
