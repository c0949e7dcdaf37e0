// octet's u8 x s8 -> s32 GEMM for x86 at small M (dynamic int8: recurrent steps at M = batch,
// input projections, FullyConnected with constant weights): u8 activation codes, with the
// weights' row sums for the activation zero point (sum((x - zp) w) = sum(x w) - zp sum(w)).
// Two engines, one per GemmIsa, exact either way:
//  - Avx2: octet's portable exact GEMM (simd/gemm_i16s8.h, Highway) on the codes widened to s16:
//    vpmaddwd adds the two s16 x s16 products of each k pair into s32 exactly, so any s8 weights
//    (8-bit, [-127, 127]) are exact on AVX2 without VNNI, at the same multiply count per MAC as
//    vpmaddubsw + vpmaddwd (measured equal), whose saturating s16 pair sums forced 7-bit weights.
//  - Vnni: octet's own AVX-512 VNNI micro-kernel (vpdpbusd on the u8 codes as they are), which
//    Highway 1.0.3 does not offer.
// At M = 1 (GEMV) the product is bound by weight bandwidth, so 4x smaller weights than f32 pay
// directly; oneDNN 2.6's gemm:jit there re-packs plain weights on every call.
#pragma once

#include <cstdint>
#include <vector>

#include "simd/gemm_i16s8.h"

namespace octet::x86 {

// The instruction set a PackedU8S8 is packed for (and runs on).
enum class GemmIsa : uint8_t { Avx2, Vnni };
bool cpu_has_avx2();   // AVX2 + FMA on this CPU: the AVX2 path runs
// AVX512-VNNI (with VL) on this CPU: vpdpbusd, 32 exact u8 x s8 MACs per instruction.
bool cpu_has_vnni();
GemmIsa best_gemm_isa();   // Vnni where the CPU has it
const char* isa_name(GemmIsa isa);   // "avx512-vnni" or "avx2"

class PackedU8S8 {
 public:
  PackedU8S8() = default;
  // w: N rows of K s8 codes, row stride ldw (>= K). The caller checked the CPU has `isa`.
  PackedU8S8(const int8_t* w, int64_t N, int64_t K, int64_t ldw, GemmIsa isa) { pack(w, N, K, ldw, isa); }
  // (Re)packs, reusing the storage when it is large enough: no allocation per call for operands
  // that change every run (the B of a dynamic activation x activation MatMul).
  void pack(const int8_t* w, int64_t N, int64_t K, int64_t ldw, GemmIsa isa);
  int64_t N() const { return N_; }
  int64_t K() const { return K_; }
  GemmIsa isa() const { return vnni_ ? GemmIsa::Vnni : GemmIsa::Avx2; }
  // Per output row, the sum of its codes (for an activation zero point: sum((x - zp) w)).
  const std::vector<int32_t>& row_sums() const { return sums_; }

  // y[m, n] = sum_k x[m, k] w[n, k] for m < M; x rows of stride ldx, y rows of stride ldy.
  // threads > 1 splits N with OpenMP.
  void gemm(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int threads = 1) const;

 private:
  int64_t N_ = 0, K_ = 0;
  bool vnni_ = false;          // packed for vpdpbusd
  simd::PackedS8 s16_;         // Avx2: the portable GEMM's packing
  int64_t KG_ = 0, NB_ = 0;    // Vnni: KG_ k quads, NB_ blocks of 8 rows
  std::vector<int8_t> data_;   // Vnni: the packed weights
  std::vector<int32_t> sums_;
  void run_blocks(const uint8_t* x, int64_t M, int64_t ldx, int32_t* y, int64_t ldy, int64_t b0, int64_t b1) const;
};

}  // namespace octet::x86
