// The int8_dynamic epilogue's arithmetic on a vector (Highway), exactly the reference's float
// operations in its order (kernels/reference/gemm_ref.cc; no FMA):
//   y[n] = float(acc[n] - zp sum[n]) * (s_x s_w[n]) + b[n]
// acc: raw u8 x s8 sums (no zero point); acc - zp sum = sum((x - zp) w) exactly in int32.
#pragma once

#include <cstdint>

namespace octet::simd {

// Elements [0, n) of one row. y may be acc's memory (converted in place).
void dequantize_row(const int32_t* acc, int32_t zp, const int32_t* sum, float sx, const float* sw, const float* bias, float* y,
                    int64_t n);

}  // namespace octet::simd
