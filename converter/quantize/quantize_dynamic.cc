// Dynamic int8 for recurrent nodes: LSTM, GRU and RNN get s8 W and R, symmetric with one scale
// per gate row, reshaped to [D*G*H, K] so the per-row scales lie along axis 0 (the bytes keep
// ONNX's layout; docs/format.md, "Recurrent ops"). Activations stay float and are quantized by
// the kernel at run time, so no calibration range is needed for these nodes.
// FullyConnected (MatMul/Gemm with constant weights) becomes dynamic too under --dynamic all, and
// under auto in models with recurrent or attention structure (a Softmax fed, through scaling,
// masking and reshaping ops, by an activation x activation MatMul): s8 weights per output row,
// float bias. Convolutions stay static.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "octet_ops.h"
#include "quantize/quantize.h"

namespace octet::converter {

namespace {
// Dynamic nodes run on the reference or on octet's own u8 x s8 kernel (gemm_u8s8.h), exact with
// 8-bit weights on every x86 ISA: they always use [-127, 127] (--weight-bits is for static nodes,
// whose x86 kernels are oneDNN's). 7-bit weights cost measurable accuracy: LSTM cosine 0.999917
// vs 0.999948, encoder_small 0.999939 vs 0.999965.
constexpr int kDynamicWeightMax = 127;

// The smallest bf16 value >= s (s positive and finite). Dynamic weights have one scale per row,
// and short rows (an LSTM's W over a 32-wide embedding) make f32 scales a visible share of the
// file: 8 significant bits halve that, and rounding up costs at most 0.4% of the step (the
// largest weight maps to 126.5 instead of 127), while the weights are quantized with exactly
// the scale the file stores.
float round_up_to_bf16(float s) {
  uint32_t u;
  std::memcpy(&u, &s, 4);
  if (u & 0xFFFFu) u = (u & 0xFFFF0000u) + 0x10000u;
  std::memcpy(&s, &u, 4);
  return s;
}

std::string quantize_rows(Graph& g, const std::string& name, int qmax) {
  const Constant& c = *g.constant(name);
  const int64_t K = c.shape.back(), rows = c.elements() / K;
  const std::vector<float> w = c.floats();
  Constant q;
  q.dtype = DataType::s8;
  q.shape = {rows, K};
  q.bytes.resize(static_cast<size_t>(rows * K));
  std::vector<float> scales(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    float m = 0;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, std::fabs(w[r * K + k]));
    const float s = m > 0 && std::isfinite(m) ? round_up_to_bf16(m / static_cast<float>(qmax)) : 1.f;
    scales[r] = s;
    for (int64_t k = 0; k < K; ++k) {
      const float v = std::nearbyint(w[r * K + k] / s);
      q.as<int8_t>()[r * K + k] = static_cast<int8_t>(std::min(std::max(v, -static_cast<float>(qmax)), static_cast<float>(qmax)));
    }
  }
  std::string out = g.add_constant(name + "_s8", std::move(q));
  QuantInfo& qi = g.tensor(out).quant;
  qi.axis = 0;
  qi.scale = scales;
  qi.zero_point.assign(scales.size(), 0);
  return out;
}
}  // namespace

void quantize_dynamic_recurrent(Graph& g, const QuantizeOptions& opts, PassStats& stats) {
  const int qmax = kDynamicWeightMax;
  for (Node& n : g.nodes) {
    if (!has_family(n.op, OpFamily::Recurrent)) continue;
    if (opts.float_ops.count(n.op) || opts.float_nodes.count(n.name)) continue;
    n.inputs[1] = quantize_rows(g, n.inputs[1], qmax);
    n.inputs[2] = quantize_rows(g, n.inputs[2], qmax);
    n.precision = "int8_dynamic";
    if (opts.dynamic_input_per_row) n.attrs["input_quant"] = "per_row";
    stats.add(n.op + " -> int8_dynamic (s8 per gate row, input per " + (opts.dynamic_input_per_row ? "row)" : "tensor)"));
  }
  g.remove_dead();
}

}  // namespace octet::converter

namespace octet::converter {

namespace {
bool is_attention_softmax(const Graph& g, const Node& sm) {
  static const std::set<std::string> kPass = {"Div", "Mul", "Add", "Sub", "Where", "Cast", "Reshape", "Transpose",
                                              "Squeeze", "Unsqueeze", "Identity", "Clip"};
  std::vector<std::string> frontier{sm.inputs.empty() ? std::string() : sm.inputs[0]};
  for (int depth = 0; depth < 8 && !frontier.empty(); ++depth) {
    std::vector<std::string> next;
    for (const std::string& t : frontier) {
      if (t.empty() || g.is_constant(t)) continue;
      const int p = g.producer(t);
      if (p < 0) continue;
      const Node& n = g.nodes[static_cast<size_t>(p)];
      if (n.op == "MatMul") return true;
      if (kPass.count(n.op))
        for (const std::string& i : n.inputs) next.push_back(i);
    }
    frontier = std::move(next);
  }
  return false;
}
}  // namespace

std::set<std::string> plan_dynamic_fc(const Graph& g, const std::string& mode, std::string* why) {
  std::set<std::string> out;
  if (mode == "none") return out;
  bool sequence = mode == "all";
  for (const Node& n : g.nodes) {
    if (sequence) break;
    if (has_family(n.op, OpFamily::Recurrent)) sequence = true, *why = "recurrent";
    else if (n.op == "Softmax" && is_attention_softmax(g, n)) sequence = true, *why = "attention";
  }
  if (mode == "all") *why = "--dynamic all";
  if (!sequence) return out;
  for (const Node& n : g.nodes)
    if (n.op == "FullyConnected" && g.is_constant(n.inputs[1])) out.insert(n.name);
  return out;
}

void quantize_dynamic_fc(Graph& g, const std::set<std::string>& names, const QuantizeOptions& opts, PassStats& stats) {
  const int qmax = kDynamicWeightMax;
  for (Node& n : g.nodes) {
    if (n.op != "FullyConnected" || !names.count(n.name)) continue;
    if (opts.float_ops.count(n.op) || opts.float_nodes.count(n.name)) continue;
    bool user_float = false;
    for (const auto& o : n.origin) user_float = user_float || opts.float_nodes.count(o);
    if (user_float) continue;
    n.inputs[1] = quantize_rows(g, n.inputs[1], qmax);
    n.precision = "int8_dynamic";
    if (opts.dynamic_input_per_row) n.attrs["input_quant"] = "per_row";
    stats.add(std::string("FullyConnected -> int8_dynamic (s8 per output row, input per ") +
              (opts.dynamic_input_per_row ? "row)" : "tensor)"));
  }
  g.remove_dead();
}

// --attention-matmul int8: the activation x activation MatMuls (Q x K^T, scores x V) of a model
// with attention structure become int8_dynamic: A u8 per tensor, B s8 symmetric per tensor, both
// at run time (gemm_ref.cc). Nothing to do in models without attention.
void quantize_attention_matmul(Graph& g, const QuantizeOptions& opts, PassStats& stats) {
  bool attention = false;
  for (const Node& n : g.nodes) attention = attention || (n.op == "Softmax" && is_attention_softmax(g, n));
  if (!attention) return;
  for (Node& n : g.nodes) {
    if (n.op != "MatMul" || n.precision != "float" || n.inputs.size() != 2) continue;
    if (g.is_constant(n.inputs[0]) || g.is_constant(n.inputs[1])) continue;
    if (opts.float_ops.count(n.op) || opts.float_nodes.count(n.name)) continue;
    bool user_float = false;
    for (const auto& o : n.origin) user_float = user_float || opts.float_nodes.count(o);
    if (user_float) continue;
    n.precision = "int8_dynamic";
    stats.add("attention MatMul -> int8_dynamic (both operands at run time)");
  }
}

}  // namespace octet::converter
