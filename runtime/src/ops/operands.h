// Operands: inputs of an op that give one of its attributes a value computed at run time (a
// Reshape's target shape from Shape/Gather/Concat, a Resize's sizes, a Clip's min). In the file
// such an input replaces the attribute; the runtime reads the tensor when it runs (and, for a
// value that depends only on input shapes, once per new input shape), writes the value into the
// node's attributes and from there on the node is an ordinary one: validation, shape inference
// and every backend's kernels read attributes only. The converter writes a constant operand as
// the attribute itself; the loader folds one it finds in a file.
#pragma once

#include <cstddef>
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

// Writes the elements of `t` (shape `shape`, at `data`) into attribute slot `slot` of `attrs`.
// Throws, naming the node and the tensor, on a dtype the slot cannot take or a scalar slot
// given several elements.
void set_operand(nlohmann::json& attrs, const NodeDef& node, const OperandSlot& slot, const TensorDef& t,
                 const Shape& shape, const void* data);

// A copy of `n` with the value of each operand input (`in`, by input position; views of the
// tensors as they are in this run) written into its attribute and the input omitted, so kernels
// see the plain node; validated with the op's spec (throws naming the node).
NodeDef with_operands(const NodeDef& n, const detail::ModelData& m, const std::vector<TensorView>& in);

}  // namespace octet
