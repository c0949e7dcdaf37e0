// Comparing outputs with the reference: the tolerance of what ran (tolerances.h), and the
// MISTRUSTED check that keeps a comparison of degenerate outputs from passing.
#pragma once

#include <cstdint>
#include <string>

#include "ops/op_traits.h"
#include "test_util.h"

namespace octet::test {

int32_t qmin(DataType t);   // 0 for u8, -128 for s8
int32_t qmax(DataType t);   // 255, 127
// Element i of an integer array (u8, s8, s32, i64, bool) as an integer.
int64_t code_at(const NdArray& a, int64_t i);

// Real values of 8-bit codes, or a copy of anything else.
NdArray dequantized(const NdArray& codes, const QuantInfo& q);
// The MISTRUSTED check: >= 3 distinct codes, < 50% saturated (8-bit), >= 3 distinct values (f32).
void check_not_trivial(const NdArray& y, const std::string& what);
// The worst difference between `got` and `want` in tolerances.h units: codes for integer types,
// |a - b| / (|b| + 1) for f32 (infinite on a dtype/shape mismatch or a NaN in one only).
double output_difference(const NdArray& got, const NdArray& want);
// CHECKs `got` against `want` within the tolerance for `impl` (tolerances.h); returns the difference.
double check_within_tolerance(OpKind op, const std::string& impl, const std::string& activation, const NdArray& got,
                              const NdArray& want, const std::string& what);

}  // namespace octet::test
