// Highway implementation of requantize.h, compiled once per target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/requantize.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/requantize.h"

HWY_BEFORE_NAMESPACE();
namespace octet::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
HWY_INLINE auto LoadCodes(const void* p, int64_t i) {
  const hn::ScalableTag<int32_t> d32;
  const hn::Rebind<T, decltype(d32)> d8;
  return hn::PromoteTo(d32, hn::LoadU(d8, static_cast<const T*>(p) + i));
}

template <class T>
HWY_INLINE void StoreCodes(hn::Vec<hn::ScalableTag<int32_t>> v, void* p, int64_t i) {
  const hn::ScalableTag<int32_t> d32;
  const hn::Rebind<T, decltype(d32)> d8;
  hn::StoreU(hn::DemoteTo(d8, v), d8, static_cast<T*>(p) + i);
}

// Whether MulAdd is one fused rounding here (the residual term must be, as std::fma); the
// targets without FMA leave residual rows to the caller's scalar std::fma.
#if HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
constexpr bool kFusedMulAdd = false;
#else
constexpr bool kFusedMulAdd = true;
#endif

int64_t RequantizeRow(const RequantRow& a, int64_t n) {
  if (a.r && !kFusedMulAdd) return 0;
  const hn::ScalableTag<int32_t> d32;
  const hn::ScalableTag<float> df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d32)), nv = n - n % L;
  const auto lo = hn::Set(df, a.lo), hi = hn::Set(df, a.hi);
  const auto zp = hn::Set(d32, a.zp);
  const auto rs = hn::Set(df, a.r_scale);
  const auto rz = hn::Set(d32, a.r_zp);
  // The code range as bounds on v before the zero point is added (exact small integers).
  const float qlo = static_cast<float>((a.y_u8 ? 0 : -128) - a.zp), qhi = static_cast<float>((a.y_u8 ? 255 : 127) - a.zp);
  const auto vqlo = hn::Set(df, qlo), vqhi = hn::Set(df, qhi);
  for (int64_t i = 0; i < nv; i += L) {
    const auto acc = hn::Add(hn::LoadU(d32, a.acc + i), hn::LoadU(d32, a.bias + i));
    auto real = hn::Mul(hn::ConvertTo(df, acc), hn::LoadU(df, a.scale + i));
    if (a.r) {
      const auto rc = a.r_u8 ? LoadCodes<uint8_t>(a.r, i) : LoadCodes<int8_t>(a.r, i);
      real = hn::MulAdd(rs, hn::ConvertTo(df, hn::Sub(rc, rz)), real);
    }
    real = hn::Min(hn::Max(real, lo), hi);
    const auto v = hn::Min(hn::Max(real, vqlo), vqhi);
    const auto q = hn::Add(hn::ConvertTo(d32, hn::Round(v)), zp);
    if (a.y_u8) StoreCodes<uint8_t>(q, a.y, i);
    else StoreCodes<int8_t>(q, a.y, i);
  }
  return nv;
}

}  // namespace HWY_NAMESPACE
}  // namespace octet::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace octet::simd {
HWY_EXPORT(RequantizeRow);
int64_t requantize_row(const RequantRow& a, int64_t n) { return HWY_DYNAMIC_DISPATCH(RequantizeRow)(a, n); }
}  // namespace octet::simd
#endif
