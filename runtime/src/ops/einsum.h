// Einsum's equation, parsed for given input shapes: one place for validation, shape inference and
// the reference kernel. Labels are letters (their char code) and, for the dimensions an ellipsis
// stands for, -1 (the innermost) ... -k (the outermost), broadcast across inputs like numpy.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "model/model_data.h"

namespace octet {

struct EinsumPlan {
  std::vector<std::vector<int>> inputs;   // labels of each input's dims, in order
  std::vector<int> output;                // labels of the output's dims
  std::vector<int> summed;                // labels summed over (in no output dim)
  std::map<int, int64_t> sizes;           // every label's extent (ellipsis dims broadcast)
};

// Parses attribute `equation` ("bij,bjk->bik", "...ii->...i", implicit "ij,jk") against the
// inputs' shapes; errors name the node (a bad character, a rank mismatch, extents that differ).
EinsumPlan parse_einsum(const NodeDef& node, const std::vector<Shape>& inputs);

}  // namespace octet
