// octet's portable integer GEMM (Highway: the same source compiled for NEON/SVE, AVX2/AVX-512,
// SSE4 and scalar, the best one picked at run time). It is the int8 engine of the XNNPACK
// backend wherever XNNPACK 2022-02 has no operator: dynamic int8 (run-time scales) and static
// int8 convolutions with a fused residual.
//
//   y[m, n] = sum_k x[m, k] * w[n, k]        x: s16 (8-bit codes minus their zero point),
//                                             w: s8 weight rows, y: s32, exact.
// The activations are widened to s16 once by the caller (with the zero point subtracted, so no
// compensation term is needed); the weights stay s8 in memory (4x less traffic than f32) and are
// widened in registers. Every product and sum is exact in int32 (|x| <= 255, |w| <= 128,
// K < 2^16), so the result equals the reference's integer loop bit for bit on every target.
#pragma once

#include <cstdint>

namespace octet::simd {

struct GemmArgs {
  const int16_t* x;    // M rows of K, row stride ldx
  int64_t M, ldx;
  const int8_t* w;     // rows of K, row stride ldw
  int64_t ldw, K;
  int32_t* y;          // y[m * ldy + n]
  int64_t ldy;
};

// Computes the output columns n0 <= n < n1 of every row.
void gemm_i16s8(const GemmArgs& a, int64_t n0, int64_t n1);

// Highway's name of the instruction set the GEMM runs on here (e.g. "AVX2", "NEON").
const char* gemm_target();

}  // namespace octet::simd
