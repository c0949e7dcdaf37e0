// Shape inference over a whole model for given graph-input shapes: what the loader and the
// converter use to check and fill declared shapes (the session infers node by node, as it also
// evaluates operands computed at run time on the way; ops/operands.h).
#pragma once

#include <vector>

#include "model/model_data.h"

namespace octet::detail {

// The output shapes of node `n` for input shapes `in` (nullptr for omitted inputs). Throws
// octet::Error naming the node.
std::vector<Shape> infer_node(const NodeDef& n, const ModelData& m, const std::vector<const Shape*>& in);

// Returns one shape per tensor of `m` (constants: theirs; graph inputs: `input_shapes` in the
// order of m.inputs; others: inferred). Throws octet::Error naming the node that fails.
// Outputs of a node with operands computed at run time, and everything computed from them, can
// only be known when running: their shapes are left empty and `known` (if given) says which.
std::vector<Shape> infer_shapes(const ModelData& m, const std::vector<Shape>& input_shapes,
                                std::vector<bool>* known = nullptr);

}  // namespace octet::detail
