// Quantization of the converter graph (after fusion, before export).
#pragma once

#include <map>
#include <set>
#include <string>

#include "ir.h"
#include "passes/passes.h"

namespace octet::converter {

using Ranges = std::map<std::string, std::pair<float, float>>;   // tensor -> calibrated [lo, hi]

struct QuantizeOptions {
  std::set<std::string> float_ops;     // op types kept in float (octet or ONNX names)
  std::set<std::string> float_nodes;   // node names (octet or original ONNX) kept in float
  int weight_bits = 8;                 // 8: weights in [-127, 127]; 7: [-64, 64] (see weight_max)
  bool dynamic_input_per_row = false;  // dynamic FullyConnected/LSTM/GRU/RNN: X quantized per row (input_quant)
};

// Largest weight code for `bits`. 7 bits ([-64, 64]) keep every adjacent pair |a| + |b| <= 128,
// so the int16 pair sums of x86 int8 kernels without VNNI (vpmaddubsw: 255 * 128 = 32640) cannot
// saturate: such files compute exactly on every x86 ISA. 8 bits ([-127, 127]) gain resolution
// for deployments on VNNI/AMX or ARM only.
int weight_max(int bits);

void quantize_static(Graph& g, const Ranges& ranges, const QuantizeOptions& opts, PassStats& stats);
// LSTM/GRU/RNN -> int8_dynamic (quantize_dynamic.cc); other nodes untouched.
void quantize_dynamic_recurrent(Graph& g, const QuantizeOptions& opts, PassStats& stats);
// FullyConnected nodes to make int8_dynamic under --dynamic `mode` (auto: all of them in models
// with recurrent or attention structure; all: every one; none: none). *why names the reason.
std::set<std::string> plan_dynamic_fc(const Graph& g, const std::string& mode, std::string* why);
// Those nodes -> int8_dynamic: s8 weights per output row (user float choices win), float bias.
void quantize_dynamic_fc(Graph& g, const std::set<std::string>& names, const QuantizeOptions& opts, PassStats& stats);
// --attention-matmul int8: float activation x activation MatMuls of attention models -> int8_dynamic.
void quantize_attention_matmul(Graph& g, const QuantizeOptions& opts, PassStats& stats);

}  // namespace octet::converter
