// Dynamic (run-time) quantization of float activations to u8, per tensor or per row.
// The range is the min/max of the finite values (widened to include 0). Non-finite values do
// not move the range: NaN becomes the lowest code and +-Inf saturate, so one bad element cannot
// turn the whole tensor's scale into garbage. This is the documented behaviour (docs/format.md).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "quant/quant.h"

namespace octet::q {

inline Params dynamic_params_u8(const float* x, size_t n) {
  float lo = 0.f, hi = 0.f;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!std::isfinite(v)) continue;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  return choose_params<uint8_t>(lo, hi);
}

// The params of each of `rows` rows of `cols` values: one per row (per_row, i.e. per token), or
// the whole tensor's, repeated, so kernels index them by row either way.
inline void dynamic_params_u8_rows(const float* x, size_t rows, size_t cols, bool per_row, Params* out) {
  if (per_row)
    for (size_t r = 0; r < rows; ++r) out[r] = dynamic_params_u8(x + r * cols, cols);
  else if (rows > 0)
    for (Params p = dynamic_params_u8(x, rows * cols); rows-- > 0;) out[rows] = p;
}

inline void quantize_u8(const float* x, size_t n, Params p, uint8_t* out) {
  const float inv = 1.f / p.scale;
  for (size_t i = 0; i < n; ++i) out[i] = quantize<uint8_t>(x[i], inv, p.zero_point);
}

// Symmetric s8 for the second operand of a dynamic activation x activation MatMul (attention's K
// and V): codes in [-127, 127], zero point 0, scale from the largest finite |value|. NaN becomes
// code 0 (not -128: the code range stays symmetric), +-Inf saturate to +-127.
inline float dynamic_scale_s8(const float* x, size_t n) {
  float m = 0.f;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (std::isfinite(a)) m = a > m ? a : m;
  }
  return symmetric_scale(m);
}

inline void quantize_s8_symmetric(const float* x, size_t n, float scale, int8_t* out) {
  const float inv = 1.f / scale;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i] * inv;
    out[i] = v != v ? int8_t(0) : saturate_round<int8_t>(v < -127.f ? -127.f : v);
  }
}

}  // namespace octet::q
