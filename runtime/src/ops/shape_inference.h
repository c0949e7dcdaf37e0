// Shape inference over a whole model for given graph-input shapes: what the session does before
// planning memory, and what the loader and the converter use to check and fill declared shapes.
#pragma once

#include <vector>

#include "model/model_data.h"

namespace octet::detail {

// Returns one shape per tensor of `m` (constants: theirs; graph inputs: `input_shapes` in the
// order of m.inputs; others: inferred). Throws octet::Error naming the node that fails.
std::vector<Shape> infer_shapes(const ModelData& m, const std::vector<Shape>& input_shapes);

}  // namespace octet::detail
