// Folding an activation zero point into an int32 bias, for kernels whose integer product takes
// the raw codes x (oneDNN without zero-point attributes, octet's u8 x s8 GEMM):
//     sum_k (x[k] - zp) w[o, k] + b[o]  =  sum_k x[k] w[o, k] + (b[o] - zp * sum_k w[o, k])
// which holds wherever every tap reads an input (no padding, or padding holding the code zp).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace octet::q {

// sum_k w[o, k] for each of `rows` rows of `per_row` s8 codes.
inline std::vector<int32_t> weight_row_sums(const int8_t* w, int64_t rows, int64_t per_row) {
  std::vector<int32_t> s(static_cast<size_t>(rows), 0);
  for (int64_t o = 0; o < rows; ++o) {
    int32_t acc = 0;
    for (int64_t k = 0; k < per_row; ++k) acc += w[o * per_row + k];
    s[static_cast<size_t>(o)] = acc;
  }
  return s;
}

// bias'[o] = bias[o] - zp * sums[o], exact (int64), for rows o < sums.size(); bias may be null
// (zero). False when a value does not fit int32 (the caller names its node).
inline bool fold_zero_point(const std::vector<int32_t>& sums, const int32_t* bias, int32_t zp, std::vector<int32_t>* out) {
  out->resize(sums.size());
  for (size_t o = 0; o < sums.size(); ++o) {
    const int64_t v = (bias ? bias[o] : 0) - static_cast<int64_t>(zp) * sums[o];
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) return false;
    (*out)[o] = static_cast<int32_t>(v);
  }
  return true;
}

}  // namespace octet::q
