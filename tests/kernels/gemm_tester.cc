#include "gemm_tester.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>

namespace octet::test {

int64_t sweep_gemm(PackedGemm& g) {
  const int64_t B = g.block();
  std::set<int64_t> ns{1, 2, 13, 40, 67, 96, 257};
  for (int64_t n : {B - 1, B, B + 1, 2 * B - 1, 2 * B, 2 * B + 1, 3 * B + 5})
    if (n > 0) ns.insert(n);
  const auto [xlo, xhi] = g.x_range();
  const auto [wlo, whi] = g.w_range();
  const int32_t x_extreme = std::abs(xlo) > std::abs(xhi) ? xlo : xhi;
  std::mt19937 rng(7);
  int64_t checked = 0;
  for (int64_t N : ns)
    for (int64_t K : {1, 2, 3, 4, 5, 7, 8, 9, 64, 130}) {
      const int64_t ldw = K + 3;
      std::vector<int8_t> w(static_cast<size_t>(N * ldw));
      for (auto& v : w) v = static_cast<int8_t>(wlo + static_cast<int32_t>(rng() % static_cast<uint32_t>(whi - wlo + 1)));
      // The pair a pairwise s16 sum would saturate with the extreme x: the most negative weight twice.
      w[0] = static_cast<int8_t>(wlo), w[static_cast<size_t>(std::min<int64_t>(1, K - 1))] = static_cast<int8_t>(wlo);
      g.pack(w.data(), N, K, ldw);
      g.check_packed(w.data(), N, K, ldw);
      for (int64_t M = 1; M <= 9; ++M)
        for (int parts : {1, 2, 3}) {
          if (parts > 1 && M % 4 != 1) continue;   // threads for M = 1, 5, 9: one row, tiles of 4 plus a 1-row tail

          const int64_t ldx = K + 1, ldy = N + 2;
          // A few values past the last row: a kernel reading pairs or quads of k may touch them.
          std::vector<int32_t> x(static_cast<size_t>(M * ldx + 8));
          for (auto& v : x) v = xlo + static_cast<int32_t>(rng() % static_cast<uint32_t>(xhi - xlo + 1));
          x[0] = x_extreme;
          if (K > 1) x[1] = x_extreme;
          constexpr int32_t kGuard = -7;
          std::vector<int32_t> y(static_cast<size_t>(M * ldy + 3), kGuard);
          g.gemm(x, M, ldx, y.data(), ldy, parts);
          bool exact = true, guards = true;
          for (int64_t m = 0; m < M; ++m) {
            for (int64_t n = 0; n < N; ++n) {
              int64_t want = 0;
              for (int64_t k = 0; k < K; ++k) want += int64_t(x[m * ldx + k]) * w[n * ldw + k];
              exact = exact && y[m * ldy + n] == want;
            }
            guards = guards && y[m * ldy + N] == kGuard && y[m * ldy + N + 1] == kGuard;
          }
          for (size_t i = static_cast<size_t>(M * ldy); i < y.size(); ++i) guards = guards && y[i] == kGuard;
          INFO(g.name() << ": N " << N << " K " << K << " M " << M << " in " << parts << " parts (block " << B << ")");
          CHECK_MESSAGE(exact, "differs from the integer loop");
          CHECK_MESSAGE(guards, "wrote outside its output");
          ++checked;
        }
    }
  return checked;
}

}  // namespace octet::test
