// The op table (runtime/src/ops/op_table.def) as the converter asks it. Passes query an op's
// traits (family, quantization role, layout, ONNX form) instead of listing op names, so an op
// added to the table is lowered, laid out, quantized and folded without a converter edit.
#pragma once

#include <string>

#include "ops/op_traits.h"
#include "ops/operands.h"

namespace octet::converter {

// The traits of the octet op named `op`; nullptr for a name the table does not have: an ONNX op
// the converter removes or rewrites into octet ops (Gemm, Identity, GlobalMaxPool, ...).
inline const OpTraits* octet_op(const std::string& op) {
  OpKind kind;
  return op_from_name(op, &kind) ? &op_traits(kind) : nullptr;
}

// Whether `op` is an octet op of family f (LSTM, GRU and RNN are the Recurrent family, ...).
inline bool has_family(const std::string& op, OpFamily f) {
  const OpTraits* t = octet_op(op);
  return t && t->family == f;
}

// Operands (runtime/src/ops/operands.h) by op name: whether input i of octet op `op` is an
// attribute's value computed at run time, and whether `op` reads only its input's shape.
inline bool is_operand_input(const std::string& op, size_t i) {
  OpKind kind;
  return op_from_name(op, &kind) && octet::is_operand_input(kind, i);
}
inline bool reads_only_shape(const std::string& op) {
  OpKind kind;
  return op_from_name(op, &kind) && octet::reads_only_shape(kind);
}

}  // namespace octet::converter
