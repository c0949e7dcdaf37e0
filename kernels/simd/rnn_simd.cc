// int8_dynamic LSTM, GRU and RNN on the portable GEMM: the reference kernel
// (kernels/reference/rnn_ref.h) with its matrix products replaced by gemm_i16s8, whose integer
// sums are exact, dequantized with the reference's expression. Quantization, gates and
// sequence handling are the reference's own code, so the outputs are the reference's bit for
// bit. The input projection of all time steps is one GEMM per direction; each step's recurrent
// product is one GEMM on the quantized hidden state, its output columns split over the threads.
#include <algorithm>
#include <limits>
#include <vector>

#include "reference/rnn_ref.h"
#include "simd/gemm_i16s8.h"
#include "simd/simd_kernels.h"

namespace octet::simd {

namespace {

class RnnSimd final : public ref::RnnKernel {
 public:
  RnnSimd(const KernelContext& ctx, ParallelFor parallel)
      : RnnKernel(ctx), parallel_(std::move(parallel)), threads_(std::max(ctx.threads, 1)) {}

  std::string impl() const override { return std::string("rnn dynamic int8 octet simd (") + gemm_target() + ")"; }

 protected:
  void products(const ref::RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out) override {
    const int64_t K = x.K;
    acc_.resize(static_cast<size_t>(rows * n));
    const GemmArgs g{x.q.data(), rows, K, w.as<int8_t>() + w0 * K, K, K, acc_.data(), n};
    const QuantInfo& wq = w.quant();
    const int64_t blocks = (n + 3) / 4, tasks = std::min<int64_t>(threads_, blocks);
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      const int64_t n0 = std::min(n, blocks * static_cast<int64_t>(t) / tasks * 4);
      const int64_t n1 = std::min(n, blocks * static_cast<int64_t>(t + 1) / tasks * 4);
      gemm_i16s8(g, n0, n1);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = n0; j < n1; ++j)
          out[r * n + j] = x.bad[r] ? std::numeric_limits<float>::quiet_NaN()
                                    : static_cast<float>(acc_[r * n + j]) * (x.scale * wq.scale[wq.axis < 0 ? 0 : w0 + j]);
    });
  }

 private:
  ParallelFor parallel_;
  int threads_;
  std::vector<int32_t> acc_;
};

}  // namespace

Support rnn_dynamic_supports(const KernelContext& ctx) {
  if (ctx.node.precision != Precision::Int8Dynamic) return Support::no("not int8_dynamic");
  for (size_t i : {size_t(1), size_t(2)}) {
    const TensorDef& w = ctx.input(i);
    if (w.dtype != DataType::s8 || !w.data) return Support::no("weights must be constant s8");
    for (int32_t z : w.quant.zero_point)
      if (z != 0) return Support::no("asymmetric weights");
    if (w.shape.back() >= 65536) return Support::no("K >= 65536 could overflow the int32 sums");
  }
  return Support::yes();
}

std::unique_ptr<Kernel> make_rnn_dynamic(const KernelContext& ctx, ParallelFor parallel) {
  return std::make_unique<RnnSimd>(ctx, std::move(parallel));
}

}  // namespace octet::simd
