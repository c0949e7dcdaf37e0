#include "onednn/gemm_u8s8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace octet::onednn {

#define OCTET_AVX2 __attribute__((target("avx2,fma")))

bool u8s8_gemm_supported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

void PackedU8S8::pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw) {
  N_ = N, K_ = K;
  KG_ = (K + 3) / 4, NB_ = (N + 7) / 8;
  data_.assign(static_cast<size_t>(NB_ * KG_ * 32), 0);
  // Layout: per block of 8 rows, per pair of k: 16 bytes, row r's two codes at 2r, 2r + 1.
  sums_.assign(static_cast<size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t b = n / 8, r = n % 8;
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = w[n * ldw + k];
      data_[static_cast<size_t>(b * KG_ * 32 + (k / 2) * 16 + r * 2 + k % 2)] = v;
      s += v;
    }
    sums_[n] = s;
  }
}

namespace {

// MR rows of x times NBR blocks of 8 weight rows (w points at the first block; blocks are KG*32
// bytes apart). Results for rows n0 .. n0 + 8 NBR, of which `valid` exist.
template <int MR, int NBR>
OCTET_AVX2 void micro(const int8_t* w, int64_t KG, const uint8_t* x, int64_t ldx, int32_t* y, int64_t ldy, int64_t valid) {
  // x here is the caller's row widened to u16 (x16: ldx u16 elements per row, 2 KG pairs).
  const uint16_t* x16 = reinterpret_cast<const uint16_t*>(x);
  __m256i acc[MR][NBR];
  for (int m = 0; m < MR; ++m)
    for (int b = 0; b < NBR; ++b) acc[m][b] = _mm256_setzero_si256();
  const int64_t bstride = KG * 32, pairs = 2 * KG;
  for (int64_t g = 0; g < pairs; ++g) {
    __m256i wv[NBR];
    for (int b = 0; b < NBR; ++b)
      wv[b] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + b * bstride + g * 16)));
    for (int m = 0; m < MR; ++m) {
      int32_t q;
      std::memcpy(&q, x16 + m * ldx + g * 2, 4);
      const __m256i xb = _mm256_set1_epi32(q);
      for (int b = 0; b < NBR; ++b) acc[m][b] = _mm256_add_epi32(acc[m][b], _mm256_madd_epi16(xb, wv[b]));
    }
  }
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

// x: rows of u16 (ldx elements apart), passed on as bytes.
template <int NBR>
void rows(const int8_t* w, int64_t KG, const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t valid) {
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) micro<4, NBR>(w, KG, x + 2 * m * ldx, ldx, y + m * ldy, ldy, valid);
  switch (M - m) {
    case 3: micro<3, NBR>(w, KG, x + 2 * m * ldx, ldx, y + m * ldy, ldy, valid); break;
    case 2: micro<2, NBR>(w, KG, x + 2 * m * ldx, ldx, y + m * ldy, ldy, valid); break;
    case 1: micro<1, NBR>(w, KG, x + 2 * m * ldx, ldx, y + m * ldy, ldy, valid); break;
    default: break;
  }
}

OCTET_AVX2 void widen(const uint8_t* x, int64_t n, uint16_t* d) {
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
    if (nb == 4) micro<1, 4>(w, KG_, x, ldx, yb, ldy, valid);
    else if (nb == 2) rows<2>(w, KG_, x, M, ldx, yb, ldy, valid);
    else if (nb == 3) {   // only at M = 1
      micro<1, 2>(w, KG_, x, ldx, yb, ldy, std::min<int64_t>(16, valid));
      micro<1, 1>(w + 2 * KG_ * 32, KG_, x, ldx, yb + 16, ldy, valid - 16);
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
  // x widened to u16 once per call, rows padded with zeros to 4 KG (the kernel reads pairs).
  static thread_local std::vector<uint16_t> wide;
  const int64_t ld16 = 4 * KG_;
  if (wide.size() < static_cast<size_t>(M * ld16)) wide.resize(static_cast<size_t>(M * ld16));
  for (int64_t m = 0; m < M; ++m) {
    uint16_t* d = wide.data() + m * ld16;
    widen(x + m * ldx, K_, d);
    std::fill(d + K_, d + ld16, uint16_t(0));
  }
  x = reinterpret_cast<const uint8_t*>(wide.data());
  ldx = ld16;
  const int64_t work = M * N_ * K_;
  if (threads <= 1 || work < (int64_t(1) << 17) || NB_ < 8) {
    run_blocks(x, M, ldx, y, ldy, 0, NB_);
    return;
  }
  // Chunks of 4 blocks so M = 1 keeps its 4-block passes.
  const int64_t chunks = (NB_ + 3) / 4;
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int t = 0, nt = 1;
#endif
    const int64_t c0 = chunks * t / nt, c1 = chunks * (t + 1) / nt;
    if (c1 > c0) run_blocks(x, M, ldx, y, ldy, c0 * 4, std::min(NB_, c1 * 4));
  }
}

}  // namespace octet::onednn
