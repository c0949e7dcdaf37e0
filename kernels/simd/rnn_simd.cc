// int8_dynamic LSTM, GRU and RNN on the portable GEMM: the reference kernel
// (kernels/reference/rnn_ref.h) with its matrix products replaced by PackedS8::gemm, whose integer
// sums are exact, dequantized with the reference's expression. Quantization, gates and
// sequence handling are the reference's own code, so the outputs are the reference's bit for
// bit. The input projection of all time steps is one GEMM per direction; each step's recurrent
// product is one GEMM on the quantized hidden state, its output columns split over the threads.
#include <algorithm>
#include <limits>
#include <vector>

#include "ops/op_spec.h"
#include "reference/rnn_ref.h"
#include "simd/gemm_i16s8.h"
#include "simd/simd_kernels.h"

namespace octet::simd {

namespace {

class RnnSimd final : public ref::RnnKernel {
 public:
  explicit RnnSimd(const KernelContext& ctx)
      : RnnKernel(ctx), parallel_(ctx.parallel_for()), threads_(std::max(ctx.threads, 1)) {
    // Packed at load: the weight slices every run asks for (RnnKernel::weight_rows()).
    for (const WeightRows& s : weight_rows()) {
      const TensorDef& w = ctx.input(s.kind == RowsKind::Input ? kRnnW : kRnnR);
      const int64_t K = w.shape.back();
      packed_.emplace_back(reinterpret_cast<const int8_t*>(w.data) + s.w0 * K, s.n, K, K);
    }
  }

  std::string detail() const override { return gemm_target(); }

 protected:
  void products(const ref::RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out) override {
    const PackedS8& p = packed_[slice_of(w, w0, n)];
    // The codes minus their row's zero point, as s16 (exact): the sums need no compensation.
    const int64_t K = x.K;
    xi_.resize(static_cast<size_t>(rows * K));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = r * K; k < (r + 1) * K; ++k) xi_[k] = static_cast<int16_t>(x.codes[k] - x.zero_point_of(r));
    acc_.resize(static_cast<size_t>(rows * n));
    const QuantInfo& wq = w.quant();
    const int64_t tasks = std::min<int64_t>(threads_, (n + p.block() - 1) / p.block());
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      const int64_t n0 = p.split(static_cast<int64_t>(t), tasks), n1 = p.split(static_cast<int64_t>(t) + 1, tasks);
      p.gemm(xi_.data(), rows, K, acc_.data(), n, n0, n1);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = n0; j < n1; ++j)
          out[r * n + j] = x.bad[r] ? std::numeric_limits<float>::quiet_NaN()
                                    : static_cast<float>(acc_[r * n + j]) * (x.scale_of(r) * wq.scale[wq.axis < 0 ? 0 : w0 + j]);
    });
  }

 private:
  ParallelFor parallel_;
  int threads_;
  std::vector<PackedS8> packed_;   // per weight_rows() entry
  std::vector<int16_t> xi_;
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

std::unique_ptr<Kernel> make_rnn_dynamic(const KernelContext& ctx) {
  return std::make_unique<RnnSimd>(ctx);
}

}  // namespace octet::simd
