// Small helpers for reading and writing 8-bit quantized codes of either signedness.
#pragma once

#include <cstdint>

#include "model/model_data.h"
#include "quant/quant.h"

namespace octet::ref {

inline int32_t load_q(DataType t, const void* p, int64_t i) {
  return t == DataType::u8 ? static_cast<const uint8_t*>(p)[i] : static_cast<const int8_t*>(p)[i];
}
// Stores v (output units, zero point included) rounded and saturated.
inline void store_q(DataType t, void* p, int64_t i, float v) {
  if (t == DataType::u8) static_cast<uint8_t*>(p)[i] = q::saturate_round<uint8_t>(v);
  else static_cast<int8_t*>(p)[i] = q::saturate_round<int8_t>(v);
}

}  // namespace octet::ref
