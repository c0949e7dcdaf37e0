// octet's portable integer GEMM (Highway: the same source compiled for NEON/SVE, AVX2/AVX-512,
// SSE4 and scalar, the best one picked at run time): octet's one exact int8 GEMM. It is the
// int8 engine of the XNNPACK backend wherever XNNPACK 2022-02 has no operator (dynamic int8,
// static int8 convolutions with a fused residual), and of the oneDNN backend's own kernels on
// CPUs without VNNI (x86/gemm_u8s8.h feeds it u8 codes; only its VNNI micro-kernel is its own).
//
//   y[m, n] = sum_k x[m, k] * w[n, k]        x: s16 (8-bit codes, minus their zero point or not),
//                                             w: s8 weight rows, packed once; y: s32, exact.
// The activations are widened to s16 once by the caller (with the zero point subtracted, or
// compensated afterwards with the weights' row sums); the weights stay s8 in memory (4x less
// traffic than f32) and are widened in registers. Every product and sum is exact in int32
// (|x| <= 255, |w| <= 128, K < 2^16), so the result equals the reference's integer loop bit for
// bit on every target.
#pragma once

#include <cstdint>
#include <vector>

namespace octet::simd {

class PackedS8 {
 public:
  PackedS8() = default;
  // w: N rows of K s8 codes, row stride ldw. Packed for the instruction set in use: blocks of
  // block() rows (one vector of s32 lanes), k in pairs.
  PackedS8(const int8_t* w, int64_t N, int64_t K, int64_t ldw) { pack(w, N, K, ldw); }
  // (Re)packs, reusing the storage when it is large enough (operands repacked every run).
  void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw);
  int64_t N() const { return N_; }
  int64_t K() const { return K_; }
  int64_t block() const { return NL_; }

  // y[m * ldy + n] = sum_k x[m * ldx + k] w[n, k] for m < M and n0 <= n < n1; n0 must be a
  // multiple of block() (split columns between threads in whole blocks).
  void gemm(const int16_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t n0, int64_t n1) const;

  // Splits the columns into `parts` ranges of whole blocks: range i is [split(i), split(i + 1)).
  int64_t split(int64_t i, int64_t parts) const;

 private:
  int64_t N_ = 0, K_ = 0, KP_ = 0, NL_ = 1;   // KP_: k pairs; NL_: rows per block
  std::vector<int8_t> data_;                  // [N / NL blocks][KP pairs][NL rows][2]
};

// Highway's name of the instruction set the GEMM runs on here (e.g. "AVX2", "NEON").
const char* gemm_target();

}  // namespace octet::simd
