// octet's own AVX2 u8 x s8 -> s32 GEMM for small M (dynamic int8: recurrent steps at M = batch,
// input projections, FullyConnected with constant weights). Weights are packed once: blocks of 8
// output rows, k in pairs (16 bytes = 2 k of 8 rows), sign-extended to s16 on load
// (vpmovsxbw) and multiplied with the u8 activations widened to u16 by vpmaddwd, which adds the
// two s16 x s16 products of each pair into s32 exactly. So any s8 weights (8-bit, [-127, 127])
// are exact on AVX2 without VNNI, at the same multiply count per MAC as vpmaddubsw + vpmaddwd
// (measured equal), whose saturating s16 pair sums forced 7-bit weights.
// At M = 1 (GEMV) the product is bound by weight bandwidth, so 4x smaller weights than f32 pay
// directly; oneDNN 2.6's gemm:jit there re-packs plain weights on every call.
#pragma once

#include <cstdint>
#include <vector>

namespace octet::onednn {

class PackedU8S8 {
 public:
  PackedU8S8() = default;
  // w: N rows of K s8 codes, row stride ldw (>= K).
  PackedU8S8(const int8_t* w, int64_t N, int64_t K, int64_t ldw) { pack(w, N, K, ldw); }
  // (Re)packs, reusing the storage when it is large enough: no allocation per call for operands
  // that change every run (the B of a dynamic activation x activation MatMul).
  void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw);
  int64_t N() const { return N_; }
  int64_t K() const { return K_; }
  bool vnni() const { return vnni_; }
  const char* isa() const { return vnni_ ? "avx512-vnni" : "avx2"; }
  // Per output row, the sum of its codes (for an activation zero point: sum((x - zp) w)).
  const std::vector<int32_t>& row_sums() const { return sums_; }

  // y[m, n] = sum_k x[m, k] w[n, k] for m < M; x rows of stride ldx, y rows of stride ldy.
  // threads > 1 splits N with OpenMP.
  void gemm(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int threads = 1) const;

 private:
  int64_t N_ = 0, K_ = 0, KG_ = 0, NB_ = 0;   // KG_ k quads, NB_ blocks of 8 rows
  bool vnni_ = false;                         // packed for vpdpbusd (u8s8_gemm_vnni() at pack time)
  std::vector<int8_t, std::allocator<int8_t>> data_;
  std::vector<int32_t> sums_;
  void run_blocks(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t b0, int64_t b1) const;
};

bool u8s8_gemm_supported();   // AVX2 on this CPU
// AVX512-VNNI (with VL) on this CPU: vpdpbusd, 32 exact u8 x s8 MACs per instruction, used for
// weights packed from now on. u8s8_gemm_allow_vnni(false) forces the AVX2 path (tests).
bool u8s8_cpu_has_vnni();
bool u8s8_gemm_vnni();
void u8s8_gemm_allow_vnni(bool allow);
const char* u8s8_gemm_isa();   // "avx512-vnni" or "avx2"

}  // namespace octet::onednn
