// BatchNormalization at inference is y = x * a + b per channel, a = scale / sqrt(var + eps),
// b = bias - mean * a. When x comes only from a Conv, ConvTranspose or Gemm with constant weights,
// a and b fold into those weights and bias; otherwise the node becomes Mul + Add by constants.
// Models exported in training mode keep these nodes; the running statistics are what inference
// uses, so the batch-statistics outputs of training mode must be unused.
#include <cmath>

#include "passes/passes.h"

namespace octet::converter {

namespace {
struct Affine {
  std::vector<float> a, b;
};

Affine bn_affine(const Graph& g, const Node& n) {
  for (size_t i = 1; i < 5; ++i)
    if (!g.is_constant(n.inputs.at(i))) fail(n, "scale, bias, mean and variance must be constants");
  auto scale = g.constant(n.inputs[1])->floats(), bias = g.constant(n.inputs[2])->floats();
  auto mean = g.constant(n.inputs[3])->floats(), var = g.constant(n.inputs[4])->floats();
  const size_t c = scale.size();
  if (bias.size() != c || mean.size() != c || var.size() != c) fail(n, "parameter sizes differ");
  const float eps = n.attr_float("epsilon", 1e-5f);
  Affine r{std::vector<float>(c), std::vector<float>(c)};
  for (size_t i = 0; i < c; ++i) {
    if (!(var[i] + eps > 0)) fail(n, "variance + epsilon is not positive for channel " + std::to_string(i));
    r.a[i] = scale[i] / std::sqrt(var[i] + eps);
    r.b[i] = bias[i] - mean[i] * r.a[i];
  }
  return r;
}

// Folds into producer `p` (Conv/ConvTranspose/Gemm); returns false if it cannot.
bool fold_into(Graph& g, Node& p, const Affine& f) {
  if (!g.is_constant(p.inputs.at(1))) return false;
  Constant w = *g.constant(p.inputs[1]);
  if (w.dtype != DataType::f32) return false;
  const size_t C = f.a.size();
  std::vector<float> wv = w.floats();
  if (p.op == "Conv") {
    if (w.shape.empty() || static_cast<size_t>(w.shape[0]) != C) return false;
    const size_t per = wv.size() / C;
    for (size_t o = 0; o < C; ++o)
      for (size_t k = 0; k < per; ++k) wv[o * per + k] *= f.a[o];
  } else if (p.op == "ConvTranspose") {
    // W [Cin, Cout/g, KH, KW]; output channel = group * (Cout/g) + j.
    if (w.shape.size() < 3) return false;
    const int64_t group = p.attr_int("group", 1), cin = w.shape[0], cog = w.shape[1];
    if (static_cast<size_t>(cog * group) != C) return false;
    int64_t spatial = 1;
    for (size_t d = 2; d < w.shape.size(); ++d) spatial *= w.shape[d];
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t j = 0; j < cog; ++j) {
        const float s = f.a[(ci / (cin / group)) * cog + j];
        for (int64_t k = 0; k < spatial; ++k) wv[(ci * cog + j) * spatial + k] *= s;
      }
  } else if (p.op == "Gemm") {
    if (w.shape.size() != 2 || p.attr_float("alpha", 1.f) != 1.f) return false;
    const bool tb = p.attr_int("transB", 0) != 0;
    const int64_t N = tb ? w.shape[0] : w.shape[1], K = tb ? w.shape[1] : w.shape[0];
    if (static_cast<size_t>(N) != C) return false;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) wv[tb ? n * K + k : k * N + n] *= f.a[n];
  } else {
    return false;
  }
  std::vector<float> bias(C, 0.f);
  const size_t bias_input = 2;
  if (p.has_input(bias_input)) {
    const Constant* b = g.constant(p.inputs[bias_input]);
    if (!b) return false;
    auto bv = b->floats();
    if (p.op == "Gemm" && p.attr_float("beta", 1.f) != 1.f) for (auto& v : bv) v *= p.attr_float("beta", 1.f);
    if (bv.size() == 1) bv.assign(C, bv[0]);
    if (bv.size() != C) return false;
    bias = bv;
  }
  for (size_t c = 0; c < C; ++c) bias[c] = bias[c] * f.a[c] + f.b[c];
  p.inputs[1] = g.add_constant(p.name + "_w_bn", Constant::of_floats(w.shape, wv));
  if (p.inputs.size() <= bias_input) p.inputs.resize(bias_input + 1);
  p.inputs[bias_input] = g.add_constant(p.name + "_b_bn", Constant::of_floats({static_cast<int64_t>(C)}, bias));
  if (p.op == "Gemm") p.attrs["beta"] = 1.0;
  return true;
}
}  // namespace

void fold_batchnorm(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (g.nodes[k].op != "BatchNormalization") continue;
    Node bn = g.nodes[k];
    for (size_t o = 1; o < bn.outputs.size(); ++o)
      if (!bn.outputs[o].empty() && (g.is_graph_output(bn.outputs[o]) || !g.consumers(bn.outputs[o]).empty()))
        fail(bn, "its training-mode statistics outputs are used; octet runs inference only");
    Affine f = bn_affine(g, bn);
    const std::string x = bn.inputs[0], y = bn.outputs[0];
    int p = g.producer(x);
    if (p >= 0 && g.consumers(x).size() == 1 && !g.is_graph_output(x) && fold_into(g, g.nodes[p], f)) {
      // The producer now computes y directly.
      g.nodes[p].outputs[0] = y;
      g.nodes[p].origin.push_back(bn.name);
      g.nodes.erase(g.nodes.begin() + static_cast<long>(k));
      --k;
      stats.add(g.nodes[p].op + "+BatchNormalization folded");
      continue;
    }
    // y = x * a + b with a, b shaped [C, 1, ..., 1] to broadcast over NC... layouts.
    const IrTensor& xt = g.tensor(x);
    if (!xt.shape_known || xt.rank() < 2) fail(bn, "input rank is unknown; cannot place the channel axis");
    std::vector<int64_t> cshape(static_cast<size_t>(xt.rank() - 1), 1);
    cshape[0] = static_cast<int64_t>(f.a.size());
    std::string ca = g.add_constant(bn.name + "_scale", Constant::of_floats(cshape, f.a));
    std::string cb = g.add_constant(bn.name + "_shift", Constant::of_floats(cshape, f.b));
    IrTensor mid;
    mid.name = g.unique_name(bn.name + "_scaled");
    mid.shape = xt.shape;
    mid.shape_known = xt.shape_known;
    std::string midname = mid.name;
    g.add_tensor(std::move(mid));
    Node mul{bn.name + "_mul", "Mul", {x, ca}, {midname}};
    Node add{bn.name + "_add", "Add", {midname, cb}, {y}};
    mul.origin = add.origin = {bn.name};
    g.nodes[k] = mul;
    g.nodes.insert(g.nodes.begin() + static_cast<long>(k) + 1, add);
    ++k;
    stats.add("BatchNormalization as Mul+Add");
  }
  g.remove_dead();
}

}  // namespace octet::converter
