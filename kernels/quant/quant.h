// The one definition of octet's quantization arithmetic, used by the reference kernels, octet's
// own kernels and the tests, so no two places can round differently.
//
//   real = scale * (q - zero_point)                                   (dequantize)
//   q    = clamp(round_half_even(real / scale + zero_point), lo, hi)  (quantize)
//
// Division is done as multiplication by the float reciprocal 1/scale (as oneDNN and XNNPACK do).
// NaN quantizes to the lowest code; +-Inf saturate. Backends may differ from this by 1 LSB where
// they order float operations differently; tests state that tolerance.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "octet/octet.h"

namespace octet::q {

template <class T> constexpr int32_t lowest() { return std::numeric_limits<T>::lowest(); }
template <class T> constexpr int32_t highest() { return std::numeric_limits<T>::max(); }

// Rounds v (already in output units, zero point added) half-to-even and saturates to T.
template <class T>
inline T saturate_round(float v) {
  constexpr float lo = static_cast<float>(lowest<T>()), hi = static_cast<float>(highest<T>());
  if (!(v >= lo)) return static_cast<T>(lowest<T>());   // also NaN
  if (v > hi) return static_cast<T>(highest<T>());
  // Half-to-even by the 1.5*2^23 trick (exact for |v| < 2^22, and v is within [lo, hi] here):
  // std::nearbyint is a libm call on baseline x86-64 and made quantize loops 10x slower.
  constexpr float magic = 12582912.f;
  return static_cast<T>(static_cast<int32_t>((v + magic) - magic));
}

// Rounds v (output units, zero point NOT yet added) half-to-even, then adds the zero point and
// saturates to T: ONNX's QLinearConv/QuantizeLinear order, and XNNPACK's. Adding the zero point
// first would sometimes round differently (26.499998 + 143 rounds to 169.5 in float).
template <class T>
inline T round_add(float v, int32_t zero_point) {
  const float lo = static_cast<float>(lowest<T>() - zero_point), hi = static_cast<float>(highest<T>() - zero_point);
  if (!(v >= lo)) return static_cast<T>(lowest<T>());   // also NaN
  if (v > hi) return static_cast<T>(highest<T>());
  constexpr float magic = 12582912.f;   // |v| <= 383 here: the 1.5*2^23 trick is exact
  return static_cast<T>(static_cast<int32_t>((v + magic) - magic) + zero_point);
}

template <class T>
inline T quantize(float real, float inv_scale, int32_t zero_point) {
  return saturate_round<T>(real * inv_scale + static_cast<float>(zero_point));
}

template <class T>
inline float dequantize(T q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(static_cast<int32_t>(q) - zero_point);
}

// s32 accumulators and biases: round half-to-even with int32 saturation.
inline int32_t saturate_round_s32(double v) {
  if (!(v >= -2147483648.0)) return std::numeric_limits<int32_t>::min();
  if (v > 2147483647.0) return std::numeric_limits<int32_t>::max();
  return static_cast<int32_t>(std::nearbyint(v));
}

// Quantization parameters that cover [min, max] with an 8-bit type; the range is first widened
// to include 0 so that 0 is exact (padding, ReLU). Degenerate ranges get scale 1.
struct Params {
  float scale;
  int32_t zero_point;
};
template <class T>
inline Params choose_params(float min, float max) {
  min = std::min(min, 0.f);
  max = std::max(max, 0.f);
  if (!std::isfinite(min) || !std::isfinite(max)) return {1.f, 0};
  const float qlo = static_cast<float>(lowest<T>()), qhi = static_cast<float>(highest<T>());
  float scale = (max - min) / (qhi - qlo);
  if (!(scale > 0) || !std::isfinite(scale)) return {1.f, 0};
  float zp = qlo - min / scale;
  int32_t z = static_cast<int32_t>(std::nearbyint(std::min(std::max(zp, qlo), qhi)));
  return {scale, z};
}

// Symmetric int8 weight scale for max |w| = absmax: codes in [-127, 127].
inline float symmetric_scale(float absmax) { return absmax > 0 && std::isfinite(absmax) ? absmax / 127.f : 1.f; }

}  // namespace octet::q
