// The Highway implementation of gemm_i16s8.h, compiled once per target (foreach_target.h).
//
// Register tile: 2 rows of x by 4 weight rows (16 accumulators with NEON's second halves). Each step loads a vector of x per row and a half
// vector of s8 per weight row (widened to s16), then ReorderWidenMulAccumulate adds the s16 x s16
// products into s32 lanes (vpmaddwd on x86, vmlal on NEON, whose second accumulator holds the
// upper half). Lane order differs between targets, which does not matter: each accumulator is
// summed across lanes at the end. The K % lanes tail is a scalar loop.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/gemm_i16s8.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/gemm_i16s8.h"

HWY_BEFORE_NAMESPACE();
namespace octet::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Sum of one accumulator pair across lanes, plus the scalar tail of row x . row w.
template <class D32, class V>
HWY_INLINE int32_t Finish(D32 d32, V s0, V s1, const int16_t* x, const int8_t* w, int64_t k0, int64_t K) {
  int32_t acc = hn::GetLane(hn::SumOfLanes(d32, hn::Add(s0, s1)));
  for (int64_t k = k0; k < K; ++k) acc += static_cast<int32_t>(x[k]) * w[k];
  return acc;
}

// Rows m, m+1 of x (or only m when TWO is false) against weight rows n..n+3. Written out
// variable by variable: SVE vectors are sizeless types and cannot live in arrays.
template <bool TWO>
HWY_INLINE void Tile4(const GemmArgs& a, int64_t m, int64_t n) {
  const hn::ScalableTag<int16_t> d16;
  const hn::Repartition<int32_t, decltype(d16)> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d16)), K = a.K, kv = K - K % L;
  const int16_t* x0 = a.x + m * a.ldx;
  const int16_t* x1 = TWO ? x0 + a.ldx : x0;
  const int8_t* w0 = a.w + n * a.ldw;
  const int8_t *w1 = w0 + a.ldw, *w2 = w1 + a.ldw, *w3 = w2 + a.ldw;
  auto a00 = hn::Zero(d32), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  auto b00 = a00, b01 = a00, b02 = a00, b03 = a00, b10 = a00, b11 = a00, b12 = a00, b13 = a00;
  for (int64_t k = 0; k < kv; k += L) {
    const auto v0 = hn::PromoteTo(d16, hn::LoadU(d8, w0 + k)), v1 = hn::PromoteTo(d16, hn::LoadU(d8, w1 + k));
    const auto v2 = hn::PromoteTo(d16, hn::LoadU(d8, w2 + k)), v3 = hn::PromoteTo(d16, hn::LoadU(d8, w3 + k));
    const auto u0 = hn::LoadU(d16, x0 + k);
    a00 = hn::ReorderWidenMulAccumulate(d32, u0, v0, a00, b00);
    a01 = hn::ReorderWidenMulAccumulate(d32, u0, v1, a01, b01);
    a02 = hn::ReorderWidenMulAccumulate(d32, u0, v2, a02, b02);
    a03 = hn::ReorderWidenMulAccumulate(d32, u0, v3, a03, b03);
    if (TWO) {
      const auto u1 = hn::LoadU(d16, x1 + k);
      a10 = hn::ReorderWidenMulAccumulate(d32, u1, v0, a10, b10);
      a11 = hn::ReorderWidenMulAccumulate(d32, u1, v1, a11, b11);
      a12 = hn::ReorderWidenMulAccumulate(d32, u1, v2, a12, b12);
      a13 = hn::ReorderWidenMulAccumulate(d32, u1, v3, a13, b13);
    }
  }
  int32_t* y0 = a.y + m * a.ldy + n;
  y0[0] = Finish(d32, a00, b00, x0, w0, kv, K);
  y0[1] = Finish(d32, a01, b01, x0, w1, kv, K);
  y0[2] = Finish(d32, a02, b02, x0, w2, kv, K);
  y0[3] = Finish(d32, a03, b03, x0, w3, kv, K);
  if (TWO) {
    int32_t* y1 = y0 + a.ldy;
    y1[0] = Finish(d32, a10, b10, x1, w0, kv, K);
    y1[1] = Finish(d32, a11, b11, x1, w1, kv, K);
    y1[2] = Finish(d32, a12, b12, x1, w2, kv, K);
    y1[3] = Finish(d32, a13, b13, x1, w3, kv, K);
  }
}

// One row of x against one weight row (the last N % 4 columns).
HWY_INLINE void Tile1(const GemmArgs& a, int64_t m, int64_t n) {
  const hn::ScalableTag<int16_t> d16;
  const hn::Repartition<int32_t, decltype(d16)> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d16)), K = a.K, kv = K - K % L;
  const int16_t* x = a.x + m * a.ldx;
  const int8_t* w = a.w + n * a.ldw;
  auto s0 = hn::Zero(d32), s1 = s0;
  for (int64_t k = 0; k < kv; k += L)
    s0 = hn::ReorderWidenMulAccumulate(d32, hn::LoadU(d16, x + k), hn::PromoteTo(d16, hn::LoadU(d8, w + k)), s0, s1);
  a.y[m * a.ldy + n] = Finish(d32, s0, s1, x, w, kv, K);
}

void GemmI16S8(const GemmArgs& a, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    int64_t m = 0;
    for (; m + 2 <= a.M; m += 2) Tile4<true>(a, m, n);
    for (; m < a.M; ++m) Tile4<false>(a, m, n);
  }
  for (; n < n1; ++n)
    for (int64_t m = 0; m < a.M; ++m) Tile1(a, m, n);
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace octet::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace octet::simd {
HWY_EXPORT(GemmI16S8);
HWY_EXPORT(TargetName);

void gemm_i16s8(const GemmArgs& a, int64_t n0, int64_t n1) { HWY_DYNAMIC_DISPATCH(GemmI16S8)(a, n0, n1); }
const char* gemm_target() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace octet::simd
#endif
