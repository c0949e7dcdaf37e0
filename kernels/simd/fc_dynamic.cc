#include "simd/fc_dynamic.h"

#include <algorithm>

#include "ops/params.h"
#include "quant/activation.h"
#include "quant/dynamic_quant.h"
#include "simd/dequantize.h"

namespace octet::simd {

FcDynamicKernel::FcDynamicKernel(const KernelContext& ctx)
    : node_(ctx.node),
      threads_(std::max(ctx.threads, 1)),
      N_(ctx.input(1).shape[0]),
      K_(ctx.input(1).shape[1]),
      w_(reinterpret_cast<const int8_t*>(ctx.input(1).data)),
      parallel_(ctx.parallel_for()),
      per_row_(dynamic_input_per_row(ctx.node)) {
  const TensorDef& w = ctx.input(1);
  sw_.resize(static_cast<size_t>(N_));
  sums_.assign(static_cast<size_t>(N_), 0);
  for (int64_t n = 0; n < N_; ++n) {
    sw_[n] = w.quant.scale[w.quant.axis < 0 ? 0 : n];
    for (int64_t k = 0; k < K_; ++k) sums_[n] += w_[n * K_ + k];
  }
  bias_.assign(static_cast<size_t>(N_), 0.f);
  if (ctx.has_input(2)) std::copy_n(reinterpret_cast<const float*>(ctx.input(2).data), N_, bias_.begin());
}

void FcDynamicKernel::quantize(const float* x, int64_t rows, bool per_row, q::Params* params, uint8_t* codes) {
  q::dynamic_params_u8_rows(x, static_cast<size_t>(rows), static_cast<size_t>(K_), per_row, params);
  for (int64_t r = 0; r < rows; ++r) q::quantize_u8(x + r * K_, static_cast<size_t>(K_), params[r], codes + r * K_);
}

void FcDynamicKernel::activate(float* y, int64_t n) {
  if (node_.activation.kind == ActKind::None) return;
  for (int64_t i = 0; i < n; ++i) y[i] = apply_activation(node_.activation, y[i]);
}

void FcDynamicKernel::run(const KernelArgs& a) {
  const Tensor& x = *a.in[0];
  Tensor& y = *a.out[0];
  const int64_t rows = K_ > 0 ? x.elements() / K_ : 0;
  if (rows == 0) return;
  params_.resize(static_cast<size_t>(rows));
  codes_.resize(static_cast<size_t>(rows * K_));
  quantize(x.as<float>(), rows, per_row_, params_.data(), codes_.data());
  int32_t* acc = y.as<int32_t>();
  products(codes_.data(), rows, acc);
  // The epilogue over the threads when it is worth a parallel region (GELU over 128 x 3072
  // outputs is ~0.5 ms on one core): rows, or column ranges when there are fewer rows.
  const int64_t tasks = threads_ > 1 && rows * N_ > 32768 ? threads_ : 1;
  const bool by_rows = rows >= tasks;
  // Column ranges start at multiples of 64, so each element is computed the same way (e.g. in a
  // vector, not a scalar tail) whatever the thread count.
  auto column = [&](int64_t t) { return t >= tasks ? N_ : N_ * t / tasks / 64 * 64; };
  parallel_(static_cast<size_t>(tasks), [&](size_t task) {
    const int64_t t = static_cast<int64_t>(task);
    const int64_t r0 = by_rows ? rows * t / tasks : 0, r1 = by_rows ? rows * (t + 1) / tasks : rows;
    const int64_t n0 = by_rows ? 0 : column(t), n1 = by_rows ? N_ : column(t + 1);
    for (int64_t r = r0; r < r1 && n1 > n0; ++r) {
      float* yr = y.as<float>() + r * N_;
      dequantize_row(acc + r * N_ + n0, params_[r].zero_point, sums_.data() + n0, params_[r].scale, sw_.data() + n0,
                     bias_.data() + n0, yr + n0, n1 - n0);
      activate(yr + n0, n1 - n0);
    }
  });
}

}  // namespace octet::simd
