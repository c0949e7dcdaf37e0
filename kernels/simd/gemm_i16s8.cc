// The Highway implementation of gemm_i16s8.h, compiled once per target (foreach_target.h).
//
// Outer-product form: a block of NL weight rows is one vector of s32 lanes. For each pair of k,
// the packed weights hold (w[n][k], w[n][k+1]) of the block's rows as s8 pairs, widened to one
// s16 vector; the x pair (x[k], x[k+1]) is broadcast to every s32 lane, and
// ReorderWidenMulAccumulate adds the products (vpmaddwd on x86, vmlal on NEON, with a second
// accumulator for the upper half); RearrangeToOddPlusEven then gives lane n the sum of its own
// pair products, i.e. y[m][n]. Register tiles, written out variable by variable (SVE vectors are
// sizeless and cannot live in arrays): up to 4 rows of x by 2 blocks; at M = 1 (GEMV, a
// recurrent step at batch 1, bound by weight bandwidth) 1 row by 4 blocks, so each x broadcast
// serves 4 weight vectors (measured on AVX2: see benchmarks/micro/bench_gemm.cc).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/gemm_i16s8.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "simd/gemm_i16s8.h"

HWY_BEFORE_NAMESPACE();
namespace octet::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D16 = hn::ScalableTag<int16_t>;
using D32 = hn::Repartition<int32_t, D16>;
using D8 = hn::Rebind<int8_t, D16>;

int64_t BlockRows() { return static_cast<int64_t>(hn::Lanes(D32())); }

// The x pair (x[k], x[k + 1]) broadcast to every s32 lane, straight from memory.
HWY_INLINE hn::Vec<D16> Pair(const int16_t* x, int64_t k) {
  int32_t v;
  std::memcpy(&v, x + k, 4);
  return hn::BitCast(D16(), hn::Set(D32(), v));
}
// The s8 weights of pair p of the block at wb, widened to s16.
HWY_INLINE hn::Vec<D16> Weights(const int8_t* wb, int64_t p, int64_t NL) { return hn::PromoteTo(D16(), hn::LoadU(D8(), wb + p * 2 * NL)); }

template <class V>
HWY_INLINE void Store(V s0, V s1, int32_t* y, int64_t valid) {
  const D32 d32;
  const auto v = hn::RearrangeToOddPlusEven(s0, s1);
  if (valid >= static_cast<int64_t>(hn::Lanes(d32))) {
    hn::StoreU(v, d32, y);
  } else {
    HWY_ALIGN int32_t tmp[HWY_MAX_BYTES / sizeof(int32_t)];
    hn::Store(v, d32, tmp);
    std::copy(tmp, tmp + valid, y);
  }
}

// The tiles below run over the P = K / 2 full pairs only: their loops have no branch and
// broadcast x from memory (an in-loop test for an odd K's last pair, or a step for it after the
// loop, made GCC 12 broadcast through a register or copy every accumulator each iteration: up
// to 1.6x slower). LastColumn() adds an odd K's last k afterwards.

// MR (1..4) rows of x against blocks b and b + 1 (TWO) of packed weights, which start at wb.
template <int MR, bool TWO>
HWY_NOINLINE void Tile(const int8_t* wb, int64_t KP, int64_t NL, const int16_t* x, int64_t ldx, int64_t P, int32_t* y,
                       int64_t ldy, int64_t valid0, int64_t valid1) {
  const D32 d32;
  const int8_t* wb1 = wb + KP * 2 * NL;
  auto a0 = hn::Zero(d32), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;   // block b
  auto e0 = a0, e1 = a0, e2 = a0, e3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;             // block b + 1
  for (int64_t p = 0; p < P; ++p) {
    const auto w0 = Weights(wb, p, NL);
    const auto w1 = TWO ? Weights(wb1, p, NL) : w0;
#define OCTET_ROW(i, acc, acc1, eacc, eacc1)                                 \
  if (MR > i) {                                                              \
    const auto xv = Pair(x + i * ldx, 2 * p);                                \
    acc = hn::ReorderWidenMulAccumulate(d32, xv, w0, acc, acc1);             \
    if (TWO) eacc = hn::ReorderWidenMulAccumulate(d32, xv, w1, eacc, eacc1); \
  }
    OCTET_ROW(0, a0, c0, e0, f0)
    OCTET_ROW(1, a1, c1, e1, f1)
    OCTET_ROW(2, a2, c2, e2, f2)
    OCTET_ROW(3, a3, c3, e3, f3)
#undef OCTET_ROW
  }
  Store(a0, c0, y, valid0);
  if (TWO) Store(e0, f0, y + NL, valid1);
  if (MR > 1) Store(a1, c1, y + ldy, valid0);
  if (MR > 1 && TWO) Store(e1, f1, y + ldy + NL, valid1);
  if (MR > 2) Store(a2, c2, y + 2 * ldy, valid0);
  if (MR > 2 && TWO) Store(e2, f2, y + 2 * ldy + NL, valid1);
  if (MR > 3) Store(a3, c3, y + 3 * ldy, valid0);
  if (MR > 3 && TWO) Store(e3, f3, y + 3 * ldy + NL, valid1);
}

// One row of x against the 4 blocks from wb (the GEMV tile); `valid` outputs from the first
// block's row on, more than 3 blocks' worth.
HWY_NOINLINE void Row4(const int8_t* wb, int64_t KP, int64_t NL, const int16_t* x, int64_t P, int32_t* y, int64_t valid) {
  const D32 d32;
  const int8_t *wb1 = wb + KP * 2 * NL, *wb2 = wb1 + KP * 2 * NL, *wb3 = wb2 + KP * 2 * NL;
  auto a0 = hn::Zero(d32), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (int64_t p = 0; p < P; ++p) {
    const auto xv = Pair(x, 2 * p);
    a0 = hn::ReorderWidenMulAccumulate(d32, xv, Weights(wb, p, NL), a0, c0);
    a1 = hn::ReorderWidenMulAccumulate(d32, xv, Weights(wb1, p, NL), a1, c1);
    a2 = hn::ReorderWidenMulAccumulate(d32, xv, Weights(wb2, p, NL), a2, c2);
    a3 = hn::ReorderWidenMulAccumulate(d32, xv, Weights(wb3, p, NL), a3, c3);
  }
  Store(a0, c0, y, NL);
  Store(a1, c1, y + NL, NL);
  Store(a2, c2, y + 2 * NL, NL);
  Store(a3, c3, y + 3 * NL, std::min(NL, valid - 3 * NL));
}

// y[m, n] += x[m, K - 1] w[n, K - 1] for an odd K, columns [n, n + valid) of the block at wb
// (its last pair holds (w[n][K - 1], 0), multiplied by the pair (x[K - 1], 0)).
HWY_NOINLINE void LastColumn(const int8_t* wb, int64_t KP, int64_t NL, const int16_t* x, int64_t M, int64_t ldx, int64_t K,
                             int32_t* y, int64_t ldy, int64_t valid) {
  const D32 d32;
  const auto w = Weights(wb, KP - 1, NL);
  HWY_ALIGN int32_t tmp[HWY_MAX_BYTES / sizeof(int32_t)] = {};
  for (int64_t m = 0; m < M; ++m) {
    const int16_t pair[2] = {x[m * ldx + K - 1], 0};
    auto s1 = hn::Zero(d32);
    const auto s0 = hn::ReorderWidenMulAccumulate(d32, Pair(pair, 0), w, hn::Zero(d32), s1);
    int32_t* ym = y + m * ldy;
    const auto add = hn::RearrangeToOddPlusEven(s0, s1);
    if (valid >= NL) {
      hn::StoreU(hn::Add(hn::LoadU(d32, ym), add), d32, ym);
    } else {
      hn::Store(add, d32, tmp);
      for (int64_t j = 0; j < valid; ++j) ym[j] += tmp[j];
    }
  }
}

template <bool TWO>
HWY_INLINE void Rows(const int8_t* wb, int64_t KP, int64_t NL, const int16_t* x, int64_t M, int64_t ldx, int64_t P,
                     int32_t* y, int64_t ldy, int64_t v0, int64_t v1) {
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) Tile<4, TWO>(wb, KP, NL, x + m * ldx, ldx, P, y + m * ldy, ldy, v0, v1);
  switch (M - m) {
    case 3: Tile<3, TWO>(wb, KP, NL, x + m * ldx, ldx, P, y + m * ldy, ldy, v0, v1); break;
    case 2: Tile<2, TWO>(wb, KP, NL, x + m * ldx, ldx, P, y + m * ldy, ldy, v0, v1); break;
    case 1: Tile<1, TWO>(wb, KP, NL, x + m * ldx, ldx, P, y + m * ldy, ldy, v0, v1); break;
    default: break;
  }
}

void Gemm(const int8_t* w, int64_t N, int64_t K, int64_t KP, int64_t NL, const int16_t* x, int64_t M, int64_t ldx,
          int32_t* y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t bstride = KP * 2 * NL, P = K / 2;
  n1 = std::min(n1, N);
  int64_t n = n0;
  const int8_t* wb = w + (n0 / NL) * bstride;
  // M = 1: bound by weight bandwidth, 4 blocks share each x broadcast (1.6x faster than 1 x 2
  // blocks at 1x512x2048 on AVX2).
  if (M == 1)
    for (; n + 3 * NL < n1; n += 4 * NL, wb += 4 * bstride) Row4(wb, KP, NL, x, P, y + n, n1 - n);
  for (; n < n1; n += 2 * NL, wb += 2 * bstride) {
    const int64_t v0 = std::min(NL, n1 - n), v1 = std::min(NL, n1 - n - NL);
    if (v1 > 0) Rows<true>(wb, KP, NL, x, M, ldx, P, y + n, ldy, v0, v1);
    else Rows<false>(wb, KP, NL, x, M, ldx, P, y + n, ldy, v0, 0);
  }
  if (K % 2)
    for (n = n0, wb = w + (n0 / NL) * bstride; n < n1; n += NL, wb += bstride)
      LastColumn(wb, KP, NL, x, M, ldx, K, y + n, ldy, std::min(NL, n1 - n));
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace octet::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace octet::simd {
HWY_EXPORT(BlockRows);
HWY_EXPORT(Gemm);
HWY_EXPORT(TargetName);

void PackedS8::pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw) {
  N_ = N, K_ = K, KP_ = (K + 1) / 2;
  NL_ = HWY_DYNAMIC_DISPATCH(BlockRows)();
  const int64_t blocks = (N + NL_ - 1) / NL_;
  data_.assign(static_cast<size_t>(blocks * KP_ * 2 * NL_), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      data_[static_cast<size_t>(((n / NL_) * KP_ + k / 2) * 2 * NL_ + (n % NL_) * 2 + k % 2)] = w[n * ldw + k];
}

void PackedS8::gemm(const int16_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t n0, int64_t n1) const {
  if (M <= 0 || n1 <= n0) return;
  HWY_DYNAMIC_DISPATCH(Gemm)(data_.data(), N_, K_, KP_, NL_, x, M, ldx, y, ldy, n0, n1);
}

int64_t PackedS8::split(int64_t i, int64_t parts) const {
  const int64_t blocks = (N_ + NL_ - 1) / NL_;
  return std::min(N_, blocks * i / parts * NL_);
}

const char* gemm_target() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace octet::simd
#endif
