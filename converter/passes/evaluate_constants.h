// Constant evaluation for fold_constants: the value of a node whose inputs are all constants.
// Nodes not yet lowered have ONNX semantics (the data movement, index arithmetic and shape ops
// torch exports around weights and shapes); lowered nodes have octet's (docs/format.md). Unary
// ops of the op table are evaluated with the reference kernel's own function
// (kernels/reference/unary_value.h), so a folded value is what the runtime would have computed.
#pragma once

#include <optional>
#include <vector>

#include "ir.h"

namespace octet::converter {

// n's output from its inputs, one per entry of n.inputs (nullptr: an omitted optional input);
// nullopt when there is no evaluator for n's op here (the node then stays in the graph).
// Throws (naming n) on inputs ONNX itself rejects: a bad axis, an index out of range, ...
std::optional<Constant> evaluate_constant(const Node& n, const std::vector<const Constant*>& in);

}  // namespace octet::converter
