// The int8_dynamic FullyConnected kernel skeleton (reference: kernels/reference/gemm_ref.cc), one
// for octet's portable kernel (fc_dynamic_simd.cc) and its x86 one (kernels/x86), which differ
// only in the parts they override:
//   1. quantize(): X's rows to u8 codes at run time, per tensor or per row (input_quant;
//      quant/dynamic_quant.h);
//   2. products(): acc[r, n] = sum_k code[r, k] w[n, k], u8 x s8 -> s32, exact, no zero point
//      (the GEMM routine);
//   3. the epilogue, y = act(float(acc - zp_x[r] sum_k w[n, k]) * (s_x[r] s_w[n]) + b[n]): the
//      reference's float steps in its order (acc - zp sum(w) = sum((x - zp) w) exactly), the
//      linear part vectorized once (dequantize.h), the activation over a row by activate().
// The s32 products are written into Y's own memory and converted in place.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "quant/quant.h"

namespace octet::simd {

class FcDynamicKernel : public Kernel {
 public:
  explicit FcDynamicKernel(const KernelContext& ctx);
  void run(const KernelArgs& a) final;

 protected:
  // rows x K floats to codes (rows of K) and each row's params (the tensor's, repeated, when
  // per tensor). Overrides must give the same codes and params.
  virtual void quantize(const float* x, int64_t rows, bool per_row, q::Params* params, uint8_t* codes);
  // acc[r * N + n] for r < rows, n < N, on the kernel's threads.
  virtual void products(const uint8_t* codes, int64_t rows, int32_t* acc) = 0;
  // y[i] = act(y[i]) for i < n (the node's fused activation). Default: quant/activation.h.
  virtual void activate(float* y, int64_t n);

  const NodeDef& node_;
  const int threads_;
  const int64_t N_, K_;
  const int8_t* const w_;   // the model's weights [N, K]
  const ParallelFor parallel_;   // the backend's threads

 private:
  bool per_row_;
  std::vector<float> sw_, bias_;   // per output row (bias 0 when absent, as the reference adds)
  std::vector<int32_t> sums_;      // per output row, the sum of its weights (the zero point's term)
  std::vector<q::Params> params_;  // per row of X
  std::vector<uint8_t> codes_;
};

}  // namespace octet::simd
