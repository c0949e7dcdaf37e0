#include "simd/int8_epilogue.h"

#include <algorithm>
#include <cstdlib>

#include "reference/q8.h"
#include "simd/requantize.h"

namespace octet::simd {

Int8Epilogue::Int8Epilogue(const KernelContext& ctx, int64_t out_channels, int64_t taps)
    : act_(&ctx.node.activation), O_(out_channels) {
  const TensorDef& x = ctx.input(0);
  const TensorDef& w = ctx.input(1);
  const TensorDef& y = ctx.output(0);
  bias_.assign(static_cast<size_t>(O_), 0);
  if (ctx.has_input(2)) std::copy_n(reinterpret_cast<const int32_t*>(ctx.input(2).data), O_, bias_.begin());
  rq_ = q::requant_for(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0]);
  mult_.resize(static_cast<size_t>(O_));
  for (int64_t o = 0; o < O_; ++o) mult_[o] = ref::requant_multiplier(rq_, x.quant.scale[0], w.quant.scale[w.quant.axis < 0 ? 0 : o]);
  // The vectorized epilogue (requantize.h) is the scaled form, and needs acc + bias in int32.
  int64_t bias_max = 0;
  for (int32_t b : bias_) bias_max = std::max<int64_t>(bias_max, std::abs(static_cast<int64_t>(b)));
  vector_ = rq_.scaled && taps * 255 * 128 + bias_max < (int64_t(1) << 31);
  tile_ = std::max<int64_t>(1, 256 / std::max<int64_t>(O_, 1));
  for (int64_t t = 0; t < tile_; ++t) {
    bias_tiled_.insert(bias_tiled_.end(), bias_.begin(), bias_.end());
    mult_tiled_.insert(mult_tiled_.end(), mult_.begin(), mult_.end());
  }
}

void Int8Epilogue::pixels(const int32_t* acc, const Tensor& y, int64_t i, int64_t count, const Tensor* r) const {
  for (int64_t p0 = 0; p0 < count; p0 += tile_) {
    const int64_t n = std::min(tile_, count - p0) * O_, at = i + p0 * O_;
    const int32_t* a = acc + p0 * O_;
    int64_t e = 0;
    if (vector_) {
      RequantRow row{a, bias_tiled_.data(), mult_tiled_.data()};
      if (r) row.r = static_cast<const int8_t*>(r->data) + at, row.r_u8 = r->dtype == DataType::u8,
             row.r_scale = r->scale() * rq_.inv_sy, row.r_zp = r->zero_point();
      row.lo = rq_.lo, row.hi = rq_.hi, row.zp = rq_.zp;
      row.y = static_cast<int8_t*>(y.data) + at, row.y_u8 = y.dtype == DataType::u8;
      e = requantize_row(row, n);
    }
    for (; e < n; ++e) {   // the reference's expression (quant/requant.h)
      const int64_t o = e % O_;
      const float k = r ? ref::requant_residual_factor(rq_, r->scale()) : 0.f;
      const float d = r ? static_cast<float>(ref::load_q(r->dtype, r->data, at + e) - r->zero_point()) : 0.f;
      ref::store_requant(y.dtype, y.data, at + e, static_cast<int64_t>(a[e]) + bias_[o], mult_[o], r != nullptr, k, d, *act_,
                         rq_);
    }
  }
}

}  // namespace octet::simd
