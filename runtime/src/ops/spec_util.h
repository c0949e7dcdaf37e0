// Validation helpers shared by the spec_*.cc files.
#pragma once

#include <initializer_list>

#include "ops/op_spec.h"

namespace octet {

bool is_quantized(DataType t);   // u8 or s8
// Input `input` (if present) must have one of `ok` dtypes.
void expect_dtype(const NodeDef& node, const detail::ModelData& m, size_t input, std::initializer_list<DataType> ok,
                  const char* role);
void expect_out_dtype(const NodeDef& node, const detail::ModelData& m, size_t output,
                      std::initializer_list<DataType> ok, const char* role);
void expect_same_dtype(const NodeDef& node, const detail::ModelData& m, size_t input, size_t output);
// For quantized tensors: same scale and zero point (ops that move bytes without arithmetic).
void expect_same_quant(const NodeDef& node, const detail::ModelData& m, size_t input, size_t output);
void expect_per_tensor(const NodeDef& node, const TensorDef& t);

}  // namespace octet
