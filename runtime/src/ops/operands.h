// Operands: inputs of an op that give one of its attributes a value computed at run time (a
// Reshape's target shape from Shape/Gather/Concat, a Resize's sizes, a Clip's min). In the file
// such an input replaces the attribute; the runtime reads the tensor when it runs (and, for a
// value that depends only on input shapes, once per new input shape), writes the value into the
// node's attributes and from there on the node is an ordinary one: validation, shape inference
// and every backend's kernels read attributes only. The converter writes a constant operand as
// the attribute itself; the loader folds one it finds in a file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "model/model_data.h"

namespace octet {

// How the tensor's elements become the attribute: a list (any rank, flattened) or a scalar
// (one element). Integer tensors give integers, f32 tensors give floats.
enum class OperandForm : uint8_t { List, Scalar };

struct OperandSlot {
  const char* attr;   // attribute name, nullptr: input i is not an operand of this op
  OperandForm form = OperandForm::List;
};

// The slot of input `i` of `op` (attr == nullptr when it is a plain data input).
OperandSlot operand_slot(OpKind op, size_t i);
inline bool is_operand_input(OpKind op, size_t i) { return operand_slot(op, i).attr != nullptr; }

// Whether the op reads only the shape of its input 0, never the elements (Shape, Size).
bool reads_only_shape(OpKind op);

// Writes the value of every operand input of `n` that `value` gives (a view of the tensor as
// it is now; nullptr: not known yet) into its attribute and omits the input, so kernels see the
// plain node. Every operand input must be i64, s32 or f32, known or not. Returns whether some
// operand input is left (n.has_runtime_operands). Throws naming the node and the tensor.
bool fold_operands(NodeDef& n, const detail::ModelData& m, const std::function<const TensorView*(size_t input)>& value);

// A copy of `n` with every operand input's value (`in`, by input position) folded in, validated
// with the op's spec: what a session runs for a node whose operands it has just read.
NodeDef with_operands(const NodeDef& n, const detail::ModelData& m, const std::vector<TensorView>& in);

}  // namespace octet
