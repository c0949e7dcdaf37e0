// The Highway implementation of gemm_i16s8.h, compiled once per target (foreach_target.h).
//
// Register tile: 2 rows of x by 4 weight rows. Each step loads a vector of x per row and a half
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

template <int MR, int NR>
HWY_INLINE void Tile(const GemmArgs& a, int64_t m, int64_t n) {
  const hn::ScalableTag<int16_t> d16;
  const hn::Repartition<int32_t, decltype(d16)> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d16));
  const int64_t K = a.K, kv = K - K % L;
  const int16_t* x[MR];
  const int8_t* w[NR];
  for (int i = 0; i < MR; ++i) x[i] = a.x + (m + i) * a.ldx;
  for (int j = 0; j < NR; ++j) w[j] = a.w + (n + j) * a.ldw;
  decltype(hn::Zero(d32)) s0[MR][NR], s1[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) s0[i][j] = hn::Zero(d32), s1[i][j] = hn::Zero(d32);
  for (int64_t k = 0; k < kv; k += L) {
    decltype(hn::Zero(d16)) xv[MR], wv[NR];
    for (int i = 0; i < MR; ++i) xv[i] = hn::LoadU(d16, x[i] + k);
    for (int j = 0; j < NR; ++j) wv[j] = hn::PromoteTo(d16, hn::LoadU(d8, w[j] + k));
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) s0[i][j] = hn::ReorderWidenMulAccumulate(d32, xv[i], wv[j], s0[i][j], s1[i][j]);
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      int32_t acc = hn::GetLane(hn::SumOfLanes(d32, hn::Add(s0[i][j], s1[i][j])));
      for (int64_t k = kv; k < K; ++k) acc += static_cast<int32_t>(x[i][k]) * w[j][k];
      a.y[(m + i) * a.ldy + n + j] = acc;
    }
}

void GemmI16S8(const GemmArgs& a, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    int64_t m = 0;
    for (; m + 2 <= a.M; m += 2) Tile<2, 4>(a, m, n);
    for (; m < a.M; ++m) Tile<1, 4>(a, m, n);
  }
  for (; n < n1; ++n) {
    int64_t m = 0;
    for (; m + 2 <= a.M; m += 2) Tile<2, 1>(a, m, n);
    for (; m < a.M; ++m) Tile<1, 1>(a, m, n);
  }
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
