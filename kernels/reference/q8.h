// Small helpers for reading and writing 8-bit quantized codes of either signedness.
#pragma once

#include <cstdint>

#include "model/model_data.h"
#include "quant/quant.h"
#include "quant/requant.h"

namespace octet::ref {

inline int32_t load_q(DataType t, const void* p, int64_t i) {
  return t == DataType::u8 ? static_cast<const uint8_t*>(p)[i] : static_cast<const int8_t*>(p)[i];
}
// Stores v (output units, zero point included) rounded and saturated.
inline void store_q(DataType t, void* p, int64_t i, float v) {
  if (t == DataType::u8) static_cast<uint8_t*>(p)[i] = q::saturate_round<uint8_t>(v);
  else static_cast<int8_t*>(p)[i] = q::saturate_round<int8_t>(v);
}

// Stores the requantized static int8 result of a product (quant/requant.h).
inline void store_requant(DataType t, void* p, int64_t i, int64_t acc, float m, bool has_resid, float k, float d,
                          const Activation& act, const q::Requant& rq) {
  if (t == DataType::u8) static_cast<uint8_t*>(p)[i] = q::requantize<uint8_t>(acc, m, has_resid, k, d, act, rq);
  else static_cast<int8_t*>(p)[i] = q::requantize<int8_t>(acc, m, has_resid, k, d, act, rq);
}

// The multiplier of channel c: m[c] in the scaled form, s_x s_w[c] otherwise (quant/requant.h).
inline float requant_multiplier(const q::Requant& rq, float s_x, float s_w) {
  return rq.scaled ? q::output_multiplier(s_x, s_w, rq.inv_sy) : s_x * s_w;
}
// The residual factor k of a residual of scale sr, in the form's units.
inline float requant_residual_factor(const q::Requant& rq, float sr) { return rq.scaled ? sr * rq.inv_sy : sr; }

}  // namespace octet::ref
