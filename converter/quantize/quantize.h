// Quantization of the converter graph (after fusion, before export).
#pragma once

#include <map>
#include <set>
#include <string>

#include "ir.h"
#include "passes/passes.h"

namespace octet::conv {

using Ranges = std::map<std::string, std::pair<float, float>>;   // tensor -> calibrated [lo, hi]

struct QuantizeOptions {
  std::set<std::string> float_ops;     // op types kept in float (octet or ONNX names)
  std::set<std::string> float_nodes;   // node names (octet or original ONNX) kept in float
};

void quantize_static(Graph& g, const Ranges& ranges, const QuantizeOptions& opts, PassStats& stats);

}  // namespace octet::conv
