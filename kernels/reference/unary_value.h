// The float definition of every unary op (family Unary in ops/op_table.def): one scalar function
// and the attributes it reads. The reference kernel, its int8 lookup tables and the converter's
// constant folding all evaluate unary ops through it, so they cannot disagree.
#pragma once

#include <vector>

#include "model/attrs.h"
#include "ops/op_traits.h"

namespace octet::ref {

// A float attribute of a unary op, named and defaulted as in ONNX (the format keeps both).
struct UnaryAttr {
  const char* name;
  float default_value;
};
// The float attributes of a unary op, in UnaryParams order (the first is alpha, the second beta),
// or none. The one list: the converter copies these from ONNX, export-qdq writes them back, the
// kernels read them.
std::vector<UnaryAttr> unary_float_attrs(OpKind op);

// Unary ops whose output is boolean (0/1 bytes) for f32 input: IsNaN, IsInf.
bool unary_gives_bool(OpKind op);

// A unary op's attributes, read once (with the format's defaults, docs/format.md).
struct UnaryParams {
  float alpha = 0, beta = 0;   // unary_float_attrs() in order; Clip: min, max; IsInf: detect_negative, detect_positive
  bool tanh_gelu = false;      // Gelu approximate="tanh"
};
UnaryParams unary_params(OpKind op, const Attrs& attrs);

// op(x) for a unary op. Throws octet::Error for an op without a formula (not unary, or a new
// table line whose formula was not written).
float unary_value(OpKind op, float x, const UnaryParams& p);

}  // namespace octet::ref
