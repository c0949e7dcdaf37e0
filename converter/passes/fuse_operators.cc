// Operator fusion on the lowered NHWC graph:
//  1. x * HardSigmoid(x; 1/6, 1/2) -> HardSwish(x) (how opset-13 exports write Hardswish);
//  2. an Add of a per-output-channel constant after Conv/ConvTranspose/FullyConnected -> bias;
//  3. an activation after Conv/ConvTranspose/FullyConnected/MatMul/Add/Sub/Mul -> fused;
//  4. a residual Add (with its activation) whose operand comes only from a Conv -> that Conv's
//     fourth input, so the sum happens in the Conv's output stage (one pass over memory, and in
//     int8 no intermediate rounding).
// Fusion needs the fused intermediate to have exactly one consumer and not be a graph output.
#include <algorithm>
#include <cmath>

#include "passes/passes.h"

namespace octet::converter {

namespace {
bool sole_use(const Graph& g, const std::string& t, int consumer) {
  auto c = g.consumers(t);
  return c.size() == 1 && c[0] == consumer && !g.is_graph_output(t);
}

bool same_shape(const IrTensor& a, const IrTensor& b) {
  return a.shape_known && b.shape_known && a.shape == b.shape &&
         std::none_of(a.shape.begin(), a.shape.end(), [](const Dim& d) { return d.symbol == "?"; });
}

nlohmann::json activation_of(const Node& n) {
  if (n.op == "Relu") return {{"op", "Relu"}};
  if (n.op == "Clip" && n.inputs.size() > 1) return nullptr;   // a bound computed at run time: not an attribute to fuse
  if (n.op == "Clip") return {{"op", "Clip"}, {"min", n.attr_float("min", -INFINITY)}, {"max", n.attr_float("max", INFINITY)}};
  if (n.op == "LeakyRelu") return {{"op", "LeakyRelu"}, {"alpha", n.attr_float("alpha", 0.01f)}};
  if (n.op == "HardSwish") return {{"op", "HardSwish"}};
  if (n.op == "HardSigmoid") return {{"op", "HardSigmoid"}, {"alpha", n.attr_float("alpha", 0.2f)}, {"beta", n.attr_float("beta", 0.5f)}};
  if (n.op == "Sigmoid") return {{"op", "Sigmoid"}};
  if (n.op == "Tanh") return {{"op", "Tanh"}};
  if (n.op == "Gelu" && n.attr_string("approximate", "none") == "none") return {{"op", "Gelu"}};
  return nullptr;
}

void fuse_hardswish(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& mul = g.nodes[k];
    if (mul.op != "Mul") continue;
    for (int side = 0; side < 2; ++side) {
      const std::string x = mul.inputs[side], hs = mul.inputs[1 - side];
      int p = g.producer(hs);
      if (p < 0) continue;
      const Node& h = g.nodes[p];
      if (h.op != "HardSigmoid" || h.inputs[0] != x || !sole_use(g, hs, static_cast<int>(k))) continue;
      if (std::fabs(h.attr_float("alpha", 0.2f) - 1.f / 6.f) > 1e-6f || std::fabs(h.attr_float("beta", 0.5f) - 0.5f) > 1e-6f) continue;
      mul.op = "HardSwish";
      mul.inputs = {x};
      mul.attrs = nlohmann::json::object();
      mul.origin.insert(mul.origin.end(), h.origin.begin(), h.origin.end());
      stats.add("HardSigmoid*x -> HardSwish");
      break;
    }
  }
  g.remove_dead();
}

void fuse_bias(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& add = g.nodes[k];
    if (add.op != "Add" || !add.activation.is_null()) continue;
    for (int side = 0; side < 2; ++side) {
      const Constant* c = g.constant(add.inputs[1 - side]);
      if (!c || c->dtype != DataType::f32) continue;
      int p = g.producer(add.inputs[side]);
      if (p < 0) continue;
      Node& prod = g.nodes[p];
      if ((prod.op != "Conv" && prod.op != "ConvTranspose" && prod.op != "FullyConnected") || !prod.activation.is_null() ||
          prod.inputs.size() > 3 || !sole_use(g, add.inputs[side], static_cast<int>(k)))
        continue;
      const int64_t n_out = g.constant(prod.inputs[1])->shape[0];
      // The constant must vary only along the last (channel) axis.
      bool per_channel = c->elements() == n_out || c->elements() == 1;
      for (size_t d = 0; d + 1 < c->shape.size(); ++d) per_channel = per_channel && c->shape[d] == 1;
      if (!per_channel) continue;
      std::vector<float> bias(n_out, 0.f), cv = c->floats();
      if (prod.has_input(2)) bias = g.constant(prod.inputs[2])->floats();
      for (int64_t i = 0; i < n_out; ++i) bias[i] += cv[cv.size() == 1 ? 0 : i];
      prod.inputs.resize(3);
      prod.inputs[2] = g.add_constant(prod.name + "_bias", Constant::of_floats({n_out}, bias));
      prod.outputs[0] = add.outputs[0];
      prod.origin.insert(prod.origin.end(), add.origin.begin(), add.origin.end());
      g.nodes.erase(g.nodes.begin() + static_cast<long>(k));
      --k;
      stats.add(prod.op + "+Add -> bias");
      break;
    }
  }
  g.remove_dead();
}

void fuse_activations(Graph& g, PassStats& stats) {
  static const char* kHosts[] = {"Conv", "ConvTranspose", "FullyConnected", "MatMul", "Add", "Sub", "Mul"};
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& act = g.nodes[k];
    nlohmann::json a = activation_of(act);
    if (a.is_null()) continue;
    int p = g.producer(act.inputs[0]);
    if (p < 0) continue;
    Node& host = g.nodes[p];
    if (std::find(std::begin(kHosts), std::end(kHosts), host.op) == std::end(kHosts) || !host.activation.is_null()) continue;
    if (!sole_use(g, act.inputs[0], static_cast<int>(k))) continue;
    if (g.tensor(host.outputs[0]).dtype != DataType::f32) continue;
    host.activation = a;
    host.outputs[0] = act.outputs[0];
    host.origin.insert(host.origin.end(), act.origin.begin(), act.origin.end());
    stats.add(host.op + "+" + act.op);
    g.nodes.erase(g.nodes.begin() + static_cast<long>(k));
    --k;
  }
  g.remove_dead();
}

void fuse_residual(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& add = g.nodes[k];
    if (add.op != "Add" || add.inputs.size() != 2) continue;
    // Prefer the conv computed last, so the other operand already exists when it runs.
    int best = -1, best_side = -1;
    for (int side = 0; side < 2; ++side) {
      int p = g.producer(add.inputs[side]);
      if (p < 0) continue;
      const Node& c = g.nodes[p];
      if (c.op != "Conv" || !c.activation.is_null() || c.inputs.size() > 3) continue;
      if (!sole_use(g, add.inputs[side], static_cast<int>(k))) continue;
      const std::string& other = add.inputs[1 - side];
      if (g.is_constant(other)) continue;
      if (!same_shape(g.tensor(other), g.tensor(add.inputs[side]))) continue;
      int op = g.producer(other);
      if (op >= p) continue;   // the residual must be ready before the conv runs
      if (p > best) best = p, best_side = side;
    }
    if (best < 0) continue;
    Node& c = g.nodes[best];
    c.inputs.resize(4);
    c.inputs[3] = add.inputs[1 - best_side];
    c.activation = add.activation;
    c.outputs[0] = add.outputs[0];
    c.origin.insert(c.origin.end(), add.origin.begin(), add.origin.end());
    g.nodes.erase(g.nodes.begin() + static_cast<long>(k));
    --k;
    stats.add("Conv+Add (residual)");
  }
  g.remove_dead();
}
}  // namespace

void fuse_operators(Graph& g, PassStats& stats) {
  fuse_hardswish(g, stats);
  fuse_transformer(g, stats);
  fuse_bias(g, stats);
  fuse_activations(g, stats);   // Add+Relu first, so the residual fusion carries the Relu along
  fuse_residual(g, stats);
}

}  // namespace octet::converter
