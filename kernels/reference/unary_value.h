// The float definition of every unary op (family Unary in ops/op_table.def): one scalar function
// and the attributes it reads. The reference kernel, its int8 lookup tables and the converter's
// constant folding all evaluate unary ops through it, so they cannot disagree.
#pragma once

#include "model/attrs.h"
#include "ops/op_traits.h"

namespace octet::ref {

// A unary op's attributes, read once (with the format's defaults, docs/format.md).
struct UnaryParams {
  float alpha = 0, beta = 0;   // LeakyRelu alpha; Clip min, max; HardSigmoid alpha, beta
  bool tanh_gelu = false;      // Gelu approximate="tanh"
};
UnaryParams unary_params(OpKind op, const Attrs& attrs);

// op(x) for a unary op; x itself for an op that is not unary.
float unary_value(OpKind op, float x, const UnaryParams& p);

}  // namespace octet::ref
