// The static int8 epilogue of octet's simd Conv, vectorized with Highway and exact: the scaled
// form of quant/requant.h, the same float operations in the same order:
//   v = float(acc + bias[c]) * m[c];  v = fma(k_r, float(r - r_zp), v) with a residual
//   v = min(max(v, lo), hi)          (None, Relu or Clip)
//   y = saturate(round_half_even(v) + zp)
// Callers guarantee acc + bias fits in int32 (then float(int32) == float(int64), the
// reference's) and use the scalar reference expression for other activations.
#pragma once

#include <cstdint>

namespace octet::simd {

struct RequantRow {
  const int32_t* acc;           // [n]
  const int32_t* bias;          // [n]
  const float* scale;           // [n]: m[c] = s_x s_w[c] / s_y (quant/requant.h)
  const void* r = nullptr;      // residual codes [n] (u8 or s8) or nullptr
  bool r_u8 = true;
  float r_scale = 1.f;          // k_r = s_r / s_y
  int32_t r_zp = 0;
  float lo, hi;                 // the clamp in output units (-inf, inf for none; 0, inf for Relu)
  int32_t zp;
  void* y;                      // [n] u8 or s8 codes
  bool y_u8 = true;
};

// Elements [0, n) of one row; returns how many it did (a multiple of the vector length);
// the caller finishes the rest with the scalar expression.
int64_t requantize_row(const RequantRow& a, int64_t n);

}  // namespace octet::simd
