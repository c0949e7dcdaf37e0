// Dynamic int8 for recurrent nodes: LSTM, GRU and RNN get s8 W and R, symmetric with one scale
// per gate row, reshaped to [D*G*H, K] so the per-row scales lie along axis 0 (the bytes keep
// ONNX's layout; docs/format.md, "Recurrent ops"). Activations stay float and are quantized by
// the kernel at run time, so no calibration range is needed for these nodes.
#include <cmath>

#include "quantize/quantize.h"

namespace octet::conv {

namespace {
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
    const float s = m > 0 && std::isfinite(m) ? m / static_cast<float>(qmax) : 1.f;
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
  const int qmax = weight_max(opts.weight_bits);
  for (Node& n : g.nodes) {
    if (n.op != "LSTM" && n.op != "GRU" && n.op != "RNN") continue;
    if (opts.float_ops.count(n.op) || opts.float_nodes.count(n.name)) continue;
    n.inputs[1] = quantize_rows(g, n.inputs[1], qmax);
    n.inputs[2] = quantize_rows(g, n.inputs[2], qmax);
    n.precision = "int8_dynamic";
    stats.add(n.op + " -> int8_dynamic (s8 per gate row)");
  }
  g.remove_dead();
}

}  // namespace octet::conv
