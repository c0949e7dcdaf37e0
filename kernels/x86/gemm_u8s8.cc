#include "x86/gemm_u8s8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace octet::x86 {

#define OCTET_AVX2 __attribute__((target("avx2,fma")))
#define OCTET_VNNI __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))

bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

bool cpu_has_vnni() {
  static const bool has = cpu_has_avx2() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
  return has;
}

GemmIsa best_gemm_isa() { return cpu_has_vnni() ? GemmIsa::Vnni : GemmIsa::Avx2; }
const char* isa_name(GemmIsa isa) { return isa == GemmIsa::Vnni ? "avx512-vnni" : "avx2"; }

void PackedU8S8::pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw, GemmIsa isa) {
  N_ = N, K_ = K;
  vnni_ = isa == GemmIsa::Vnni;
  sums_.assign(static_cast<size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) s += w[n * ldw + k];
    sums_[n] = s;
  }
  if (!vnni_) {
    s16_.pack(w, N, K, ldw);
    return;
  }
  KG_ = (K + 3) / 4, NB_ = (N + 7) / 8;
  data_.assign(static_cast<size_t>(NB_ * KG_ * 32), 0);
  // Layout, per block of 8 rows, per quad of k 32 bytes: row r's four codes at 4r .. 4r + 3
  // (vpdpbusd's groups).
  for (int64_t n = 0; n < N; ++n) {
    const int64_t b = n / 8, r = n % 8;
    for (int64_t k = 0; k < K; ++k) data_[static_cast<size_t>(b * KG_ * 32 + (k / 4) * 32 + r * 4 + k % 4)] = w[n * ldw + k];
  }
}

namespace {

// Stores an MR x (8 NBR) tile of results, of which the first `valid` columns exist.
template <int MR, int NBR>
OCTET_AVX2 inline void store_tile(const __m256i (&acc)[MR][NBR], int32_t* y, int64_t ldy, int64_t valid) {
  for (int m = 0; m < MR; ++m) {
    if (valid >= 8 * NBR) {
      for (int b = 0; b < NBR; ++b) _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + m * ldy + b * 8), acc[m][b]);
    } else {
      alignas(32) int32_t tmp[8 * NBR];
      for (int b = 0; b < NBR; ++b) _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + b * 8), acc[m][b]);
      std::memcpy(y + m * ldy, tmp, static_cast<size_t>(valid) * 4);
    }
  }
}

// MR rows of x times NBR blocks of 8 weight rows (w points at the first block; blocks are KG*32
// bytes apart), with AVX512-VNNI on 256-bit vectors: vpdpbusd multiplies the u8 x codes (4
// consecutive k broadcast) by 4 s8 codes per row and adds the 4 products into s32 exactly (the
// non-saturating form), 32 MACs per instruction where vpmaddwd does 16. x: u8 rows, ldx bytes.
// Results for rows n0 .. n0 + 8 NBR, of which `valid` exist.
template <int MR, int NBR>
OCTET_VNNI void micro_vnni(const int8_t* w, int64_t KG, const uint8_t* x, int64_t ldx, int32_t* y, int64_t ldy, int64_t valid) {
  __m256i acc[MR][NBR];
  for (int m = 0; m < MR; ++m)
    for (int b = 0; b < NBR; ++b) acc[m][b] = _mm256_setzero_si256();
  const int64_t bstride = KG * 32;
  for (int64_t g = 0; g < KG; ++g) {
    __m256i wv[NBR];
    for (int b = 0; b < NBR; ++b) wv[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + b * bstride + g * 32));
    for (int m = 0; m < MR; ++m) {
      int32_t q;
      std::memcpy(&q, x + m * ldx + g * 4, 4);
      const __m256i xb = _mm256_set1_epi32(q);
      for (int b = 0; b < NBR; ++b) acc[m][b] = _mm256_dpbusd_epi32(acc[m][b], xb, wv[b]);
    }
  }
  store_tile<MR, NBR>(acc, y, ldy, valid);
}

template <int NBR>
void rows(const int8_t* w, int64_t KG, const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t valid) {
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) micro_vnni<4, NBR>(w, KG, x + m * ldx, ldx, y + m * ldy, ldy, valid);
  switch (M - m) {
    case 3: micro_vnni<3, NBR>(w, KG, x + m * ldx, ldx, y + m * ldy, ldy, valid); break;
    case 2: micro_vnni<2, NBR>(w, KG, x + m * ldx, ldx, y + m * ldy, ldy, valid); break;
    case 1: micro_vnni<1, NBR>(w, KG, x + m * ldx, ldx, y + m * ldy, ldy, valid); break;
    default: break;
  }
}

// u8 codes to s16 (exact: 0..255), for the portable GEMM.
OCTET_AVX2 void widen(const uint8_t* x, int64_t n, int16_t* d) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k), _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k))));
  for (; k < n; ++k) d[k] = x[k];
}

}  // namespace

void PackedU8S8::run_blocks(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t b0, int64_t b1) const {
  // M = 1: four blocks (32 rows) per pass share each x broadcast; otherwise 4 x rows x 2 blocks.
  const int64_t step = M == 1 ? 4 : 2;
  for (int64_t b = b0; b < b1;) {
    const int64_t nb = std::min(step, b1 - b);
    const int8_t* w = data_.data() + b * KG_ * 32;
    const int64_t n0 = b * 8, valid = std::min<int64_t>(nb * 8, N_ - n0);
    int32_t* yb = y + n0;
    if (nb == 4) micro_vnni<1, 4>(w, KG_, x, ldx, yb, ldy, valid);
    else if (nb == 2) rows<2>(w, KG_, x, M, ldx, yb, ldy, valid);
    else if (nb == 3) {   // only at M = 1
      micro_vnni<1, 2>(w, KG_, x, ldx, yb, ldy, std::min<int64_t>(16, valid));
      micro_vnni<1, 1>(w + 2 * KG_ * 32, KG_, x, ldx, yb + 16, ldy, valid - 16);
    } else rows<1>(w, KG_, x, M, ldx, yb, ldy, valid);
    b += nb;
  }
}

void PackedU8S8::gemm(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int threads) const {
  if (M <= 0 || N_ == 0) return;
  if (K_ == 0) {
    for (int64_t m = 0; m < M; ++m) std::fill(y + m * ldy, y + m * ldy + N_, 0);
    return;
  }
  // AVX2: x widened to s16 once per call. VNNI: x stays u8, copied only when its rows need the
  // padding to 4 KG (the kernel reads quads).
  static thread_local std::vector<int16_t> wide;
  static thread_local std::vector<uint8_t> padded;
  const int16_t* x16 = nullptr;
  if (vnni_) {
    const int64_t ldp = 4 * KG_;
    if (K_ % 4 != 0) {
      if (padded.size() < static_cast<size_t>(M * ldp)) padded.resize(static_cast<size_t>(M * ldp));
      for (int64_t m = 0; m < M; ++m) {
        std::memcpy(padded.data() + m * ldp, x + m * ldx, static_cast<size_t>(K_));
        std::fill(padded.data() + m * ldp + K_, padded.data() + (m + 1) * ldp, uint8_t(0));
      }
      x = padded.data();
      ldx = ldp;
    }
  } else {
    if (wide.size() < static_cast<size_t>(M * K_)) wide.resize(static_cast<size_t>(M * K_));
    for (int64_t m = 0; m < M; ++m) widen(x + m * ldx, K_, wide.data() + m * K_);
    x16 = wide.data();
  }
  // Blocks of output rows: the VNNI kernel's 8, or the portable GEMM's (one vector of s32).
  const int64_t rows_per_block = vnni_ ? 8 : s16_.block(), blocks = (N_ + rows_per_block - 1) / rows_per_block;
  auto run = [&](int64_t b0, int64_t b1) {
    if (vnni_) run_blocks(x, M, ldx, y, ldy, b0, b1);
    else s16_.gemm(x16, M, K_, y, ldy, b0 * rows_per_block, b1 * rows_per_block);
  };
  const int64_t work = M * N_ * K_;
  if (threads <= 1 || work < (int64_t(1) << 17) || blocks < 8) {
    run(0, blocks);
    return;
  }
  // Chunks of 4 blocks so M = 1 keeps its 4-block passes.
  const int64_t chunks = (blocks + 3) / 4;
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int t = 0, nt = 1;
#endif
    const int64_t c0 = chunks * t / nt, c1 = chunks * (t + 1) / nt;
    if (c1 > c0) run(c0 * 4, std::min(blocks, c1 * 4));
  }
}

}  // namespace octet::x86
