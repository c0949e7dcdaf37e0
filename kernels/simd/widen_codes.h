// The GEMM's activation operand (gemm_i16s8.h): 8-bit codes minus their zero point, as s16.
#pragma once

#include <cstdint>

namespace octet::simd {

template <class T>
void widen(const void* src, int64_t n, int32_t zp, int16_t* dst) {
  const T* s = static_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int16_t>(static_cast<int32_t>(s[i]) - zp);
}
// u8 or s8 codes, as `is_u8` says.
inline void widen_codes(const void* src, bool is_u8, int64_t n, int32_t zp, int16_t* dst) {
  if (is_u8) widen<uint8_t>(src, n, zp, dst);
  else widen<int8_t>(src, n, zp, dst);
}

}  // namespace octet::simd
