// Highway implementation of dequantize.h, compiled once per target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/dequantize.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/dequantize.h"

HWY_BEFORE_NAMESPACE();
namespace octet::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void DequantizeRow(const int32_t* acc, int32_t zp, const int32_t* sum, float sx, const float* sw, const float* bias, float* y,
                   int64_t n) {
  const hn::ScalableTag<int32_t> d32;
  const hn::ScalableTag<float> df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d32));
  const auto vzp = hn::Set(d32, zp);
  const auto vsx = hn::Set(df, sx);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    const auto v = hn::Sub(hn::LoadU(d32, acc + i), hn::Mul(vzp, hn::LoadU(d32, sum + i)));
    const auto real = hn::Mul(hn::ConvertTo(df, v), hn::Mul(vsx, hn::LoadU(df, sw + i)));
    hn::StoreU(hn::Add(real, hn::LoadU(df, bias + i)), df, y + i);
  }
  for (; i < n; ++i) y[i] = static_cast<float>(acc[i] - zp * sum[i]) * (sx * sw[i]) + bias[i];
}

}  // namespace HWY_NAMESPACE
}  // namespace octet::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace octet::simd {
HWY_EXPORT(DequantizeRow);
void dequantize_row(const int32_t* acc, int32_t zp, const int32_t* sum, float sx, const float* sw, const float* bias, float* y,
                    int64_t n) {
  HWY_DYNAMIC_DISPATCH(DequantizeRow)(acc, zp, sum, sx, sw, bias, y, n);
}
}  // namespace octet::simd
#endif
