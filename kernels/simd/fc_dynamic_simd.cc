// int8_dynamic FullyConnected on the portable GEMM (reference: kernels/reference/gemm_ref.cc):
// X quantized to u8 at run time, per tensor or per row (input_quant; quant/dynamic_quant.h) and
// widened to s16 minus its zero point, then y = float(acc) * (s_x s_w[n]) + b[n] and the fused
// activation, in the reference's order of float operations, so the output is the reference's
// bit for bit.
// The output columns are split over the backend's threads; the s32 products are written into
// Y's own memory and converted in place.
#include <algorithm>
#include <vector>

#include "quant/activation.h"
#include "ops/params.h"
#include "quant/dynamic_quant.h"
#include "simd/gemm_i16s8.h"
#include "simd/simd_kernels.h"

namespace octet::simd {

namespace {

class FcDynamicSimd final : public Kernel {
 public:
  explicit FcDynamicSimd(const KernelContext& ctx)
      : node_(ctx.node), parallel_(ctx.parallel_for()), threads_(std::max(ctx.threads, 1)), per_row_(dynamic_input_per_row(ctx.node)) {
    const TensorDef& w = ctx.input(1);
    N_ = w.shape[0], K_ = w.shape[1];
    packed_ = PackedS8(reinterpret_cast<const int8_t*>(w.data), N_, K_, K_);
    sw_.resize(static_cast<size_t>(N_));
    for (int64_t n = 0; n < N_; ++n) sw_[n] = w.quant.scale[w.quant.axis < 0 ? 0 : n];
    bias_.assign(static_cast<size_t>(N_), 0.f);   // + 0.f when absent, as the reference
    if (ctx.has_input(2)) std::copy_n(reinterpret_cast<const float*>(ctx.input(2).data), N_, bias_.begin());
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t rows = K_ > 0 ? x.elements() / K_ : 0, n = rows * K_;
    if (rows == 0) return;
    const float* xf = x.as<float>();
    params_.resize(static_cast<size_t>(rows));
    q::dynamic_params_u8_rows(xf, rows, K_, per_row_, params_.data());
    if (xi_.size() < static_cast<size_t>(n)) xi_.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      const q::Params p = params_[r];
      const float inv = 1.f / p.scale;
      for (int64_t i = r * K_; i < (r + 1) * K_; ++i)
        xi_[i] = static_cast<int16_t>(q::quantize<uint8_t>(xf[i], inv, p.zero_point) - p.zero_point);
    }

    int32_t* acc = y.as<int32_t>();
    float* out = y.as<float>();
    // Column ranges of whole weight blocks, one per thread.
    const int64_t tasks = std::min<int64_t>(threads_, (N_ + packed_.block() - 1) / packed_.block());
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      const int64_t n0 = packed_.split(static_cast<int64_t>(t), tasks), n1 = packed_.split(static_cast<int64_t>(t) + 1, tasks);
      packed_.gemm(xi_.data(), rows, K_, acc, N_, n0, n1);
      for (int64_t r = 0; r < rows; ++r) {
        const float sx = params_[r].scale;
        for (int64_t c = n0; c < n1; ++c) {
          const int64_t i = r * N_ + c;
          out[i] = apply_activation(node_.activation, static_cast<float>(acc[i]) * (sx * sw_[c]) + bias_[c]);
        }
      }
    });
  }

  std::string detail() const override { return gemm_target(); }

 private:
  const NodeDef& node_;
  ParallelFor parallel_;
  int threads_;
  bool per_row_;
  int64_t N_ = 0, K_ = 0;
  PackedS8 packed_;
  std::vector<float> sw_, bias_;
  std::vector<q::Params> params_;   // per row (all equal when per tensor)
  std::vector<int16_t> xi_;
};

}  // namespace

Support fc_dynamic_supports(const KernelContext& ctx) {
  const TensorDef& w = ctx.input(1);
  if (ctx.node.precision != Precision::Int8Dynamic) return Support::no("not int8_dynamic");
  if (!w.data) return Support::no("dynamic int8 weights must be constant");
  if (w.dtype != DataType::s8) return Support::no("dynamic int8 weights must be s8");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return Support::no("asymmetric weights");
  if (w.shape.size() != 2 || w.shape[1] >= 65536) return Support::no("K >= 65536 could overflow the int32 sums");
  return Support::yes();
}

std::unique_ptr<Kernel> make_fc_dynamic(const KernelContext& ctx) {
  return std::make_unique<FcDynamicSimd>(ctx);
}

}  // namespace octet::simd
