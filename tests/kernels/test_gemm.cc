// octet's packed integer GEMMs through the one GEMM tester (gemm_tester.h): the x86 u8 x s8
// kernel on AVX2 and, where the CPU has it, AVX-512 VNNI; the portable Highway s16 x s8 kernel on
// the best target of this CPU.
#include <doctest/doctest.h>

#include <thread>

#include "gemm_tester.h"

#if defined(OCTET_WITH_ONEDNN)
#include "x86/gemm_u8s8.h"
#endif
#if defined(OCTET_WITH_SIMD)
#include "simd/gemm_i16s8.h"
#endif

namespace octet::test {
namespace {

#if defined(OCTET_WITH_ONEDNN)
// x: u8 codes; the kernel splits N between OpenMP threads itself.
class X86Gemm final : public PackedGemm {
 public:
  explicit X86Gemm(x86::GemmIsa isa) : isa_(isa) {}
  std::string name() const override { return std::string("x86 PackedU8S8 ") + x86::isa_name(isa_); }
  int64_t block() const override { return 8; }
  std::pair<int32_t, int32_t> x_range() const override { return {0, 255}; }
  std::pair<int32_t, int32_t> w_range() const override { return {-127, 127}; }
  void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw) override { p_.pack(w, N, K, ldw, isa_); }
  void gemm(const std::vector<int32_t>& x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int parts) override {
    std::vector<uint8_t> x8(x.begin(), x.end());
    p_.gemm(x8.data(), M, ldx, y, ldy, parts);
  }
  void check_packed(const int8_t* w, int64_t N, int64_t K, int64_t ldw) override {
    CHECK(p_.isa() == isa_);
    CHECK(p_.N() == N);
    for (int64_t n = 0; n < N; ++n) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += w[n * ldw + k];
      CHECK(p_.row_sums()[static_cast<size_t>(n)] == s);
    }
  }

 private:
  x86::GemmIsa isa_;
  x86::PackedU8S8 p_;
};
#endif

#if defined(OCTET_WITH_SIMD)
// x: s16 (codes minus their zero point); columns split in whole blocks (PackedS8::split), each
// part on its own thread, as the kernels' parallel_for does.
class SimdGemm final : public PackedGemm {
 public:
  std::string name() const override { return std::string("simd PackedS8 ") + simd::gemm_target(); }
  int64_t block() const override { return simd::PackedS8(nullptr, 0, 1, 1).block(); }
  std::pair<int32_t, int32_t> x_range() const override { return {-255, 255}; }
  std::pair<int32_t, int32_t> w_range() const override { return {-128, 127}; }
  void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw) override { p_ = simd::PackedS8(w, N, K, ldw); }
  void gemm(const std::vector<int32_t>& x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int parts) override {
    std::vector<int16_t> x16(x.begin(), x.end());
    std::vector<std::thread> threads;
    for (int i = 0; i < parts; ++i)
      threads.emplace_back([&, i] { p_.gemm(x16.data(), M, ldx, y, ldy, p_.split(i, parts), p_.split(i + 1, parts)); });
    for (auto& t : threads) t.join();
  }
  void check_packed(const int8_t*, int64_t N, int64_t K, int64_t) override {
    CHECK(p_.N() == N);
    CHECK(p_.K() == K);
    CHECK(p_.split(0, 3) == 0);
    CHECK(p_.split(3, 3) == N);
    for (int i = 1; i < 3; ++i) CHECK(p_.split(i, 3) % p_.block() == 0);
  }

 private:
  simd::PackedS8 p_;
};
#endif

}  // namespace

TEST_CASE("gemm: x86 packed u8 x s8 equals the integer loop at every tile edge (AVX2, VNNI where present)") {
#if defined(OCTET_WITH_ONEDNN)
  if (!x86::cpu_has_avx2()) {
    MESSAGE("SKIPPED: this CPU has no AVX2 + FMA, so octet's u8 x s8 GEMM never runs here");
    return;
  }
  X86Gemm avx2(x86::GemmIsa::Avx2);
  CHECK(sweep_gemm(avx2) > 1000);
  if (x86::cpu_has_vnni()) {
    X86Gemm vnni(x86::GemmIsa::Vnni);
    CHECK(sweep_gemm(vnni) > 1000);
  } else {
    MESSAGE("SKIPPED: the AVX-512 VNNI path of PackedU8S8 (this CPU has no VNNI)");
  }
#else
  MESSAGE("SKIPPED: no x86 kernels in this build (they come with the oneDNN backend)");
#endif
}

TEST_CASE("gemm: portable packed s16 x s8 equals the integer loop at every tile edge, columns split between threads") {
#if defined(OCTET_WITH_SIMD)
  SimdGemm g;
  MESSAGE(g.name() << ", blocks of " << g.block() << " rows");
  CHECK(sweep_gemm(g) > 1000);
#else
  MESSAGE("SKIPPED: no simd kernels in this build (Highway not found)");
#endif
}

}  // namespace octet::test
