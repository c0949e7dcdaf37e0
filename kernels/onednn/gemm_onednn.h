// oneDNN's GEMMs as plain routines, for octet's own x86 kernels (kernels/x86) that keep their
// epilogues and gate loops but multiply large matrices with oneDNN: the only place those kernels
// reach oneDNN, so kernels/x86 includes no oneDNN header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model_data.h"

namespace octet::onednn {

// y[m, n] = sum_k x[m, k] w[n, k] (u8 x s8 -> s32, exact, no offsets): oneDNN's gemm_u8s8s32 on
// the weights as the model stores them (rows of K), re-packed by oneDNN on every call, which pays
// only for many rows. Only with VNNI (isa_has_vnni()): without it oneDNN's AVX2 path saturates
// full-range weights. Throws naming `node` if oneDNN fails.
void gemm_u8s8s32(const uint8_t* x, int64_t M, int64_t K, const int8_t* w, int64_t N, int32_t* y, int threads,
                  const NodeDef& node);

// Float y[M, N] = x[M, K] w^T for weights w[N, K] read in place (strides (1, K): no copy), one
// oneDNN matmul primitive per shape, for several weight matrices of that shape.
class MatMulF32 {
 public:
  MatMulF32();
  ~MatMulF32();
  MatMulF32(MatMulF32&&) noexcept;
  MatMulF32& operator=(MatMulF32&&) noexcept;
  // (Re)creates the primitive for M x K x N and the weight matrices it multiplies with.
  void init(int64_t M, int64_t K, int64_t N, const std::vector<const float*>& weights, int threads);
  // y = x weights[which]^T
  void run(const float* x, size_t which, float* y);
  const std::string& impl() const;   // oneDNN's implementation name

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace octet::onednn
