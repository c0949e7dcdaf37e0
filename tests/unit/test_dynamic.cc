// Dynamic int8 building blocks: octet's packed u8 x s8 GEMM (kernels/onednn/gemm_u8s8.h) against
// a plain integer loop, over shapes that exercise every tail (N not a multiple of 8 or 32, K not
// a multiple of 4, M not a multiple of 4, two threads).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "test_util.h"

#if defined(OCTET_WITH_ONEDNN)
#include "../../kernels/onednn/gemm_u8s8.h"

TEST_CASE("dynamic: packed u8 x s8 GEMM equals the integer loop") {
  if (!octet::onednn::u8s8_gemm_supported()) return;
  std::mt19937 rng(7);
  for (int64_t N : {1, 8, 13, 40, 67, 96, 257}) {
    for (int64_t K : {1, 4, 7, 64, 130}) {
      std::vector<int8_t> w(N * (K + 3));
      for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 129) - 64);   // [-64, 64]
      const int64_t ldw = K + 3;
      octet::onednn::PackedU8S8 p(w.data(), N, K, ldw);
      for (int64_t M : {1, 2, 3, 4, 5, 9}) {
        for (int threads : {1, 2}) {
          const int64_t ldx = K + 1, ldy = N + 2;
          std::vector<uint8_t> x(M * ldx + 4);
          for (auto& v : x) v = static_cast<uint8_t>(rng() & 255);
          x[0] = 255;
          std::vector<int32_t> y(M * ldy, -7);
          p.gemm(x.data(), M, ldx, y.data(), ldy, threads);
          bool ok = true;
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              int32_t want = 0;
              for (int64_t k = 0; k < K; ++k) want += int32_t(x[m * ldx + k]) * w[n * ldw + k];
              ok = ok && y[m * ldy + n] == want;
            }
          for (int64_t m = 0; m < M; ++m) ok = ok && y[m * ldy + N] == -7 && y[m * ldy + N + 1] == -7;   // untouched
          INFO("N " << N << " K " << K << " M " << M << " threads " << threads);
          CHECK(ok);
        }
      }
      int32_t s0 = 0;
      for (int64_t k = 0; k < K; ++k) s0 += w[k];
      CHECK(p.row_sums()[0] == s0);
    }
  }
}
#endif
