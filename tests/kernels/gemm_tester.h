// One tester for octet's packed integer GEMMs (y[m, n] = sum_k x[m, k] w[n, k], exact in int32):
// the x86 u8 x s8 kernel (kernels/x86/gemm_u8s8.h) and the portable s16 x s8 Highway kernel
// (kernels/simd/gemm_i16s8.h) are each wrapped in a PackedGemm and swept over the same tile
// edges: N around the kernel's block of rows (and its double, which some kernels take as one
// step), K odd and even around 2 and 4 (k pairs and quads), M from 1 to 9 (row tiles of 4 and
// their tails), row strides beyond K and N, column ranges split between threads, 2 threads, the
// saturation pattern (the largest |x| against pairs of the most negative weights, which a
// pairwise s16 sum would overflow), and guard values around the output that must stay untouched.
// Every result must equal a plain integer loop exactly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace octet::test {

class PackedGemm {
 public:
  virtual ~PackedGemm() = default;
  virtual std::string name() const = 0;
  virtual int64_t block() const = 0;                       // output rows per packed block
  virtual std::pair<int32_t, int32_t> x_range() const = 0;  // activation values it takes
  virtual std::pair<int32_t, int32_t> w_range() const = 0;  // weight codes it takes
  // Packs N rows of K weights (row stride ldw), replacing any earlier weights.
  virtual void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw) = 0;
  // Columns [n0, n1) of y for M rows of x (values within x_range()); `parts` > 1 splits the
  // columns between that many threads the kernel's way (its own threads or its split()).
  virtual void gemm(const std::vector<int32_t>& x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int parts) = 0;
  // Anything else the kernel promises about the packed weights (row sums, ...); CHECKs.
  virtual void check_packed(const int8_t* w, int64_t N, int64_t K, int64_t ldw) { (void)w, (void)N, (void)K, (void)ldw; }
};

// The sweep above; returns how many products were checked (all exact, or CHECKs failed).
int64_t sweep_gemm(PackedGemm& g);

}  // namespace octet::test
