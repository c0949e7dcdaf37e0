// Pattern fusion for transformer exports. torch 1.13 at opset 13-14 writes LayerNorm and GELU out
// as elementary ops; after lowering (Pow(d, 2) -> Mul(d, d)) they read
//   LayerNorm: m = ReduceMean(x, last axis); d = Sub(x, m); v = ReduceMean(Mul(d, d) | Pow(d, 2));
//              y = Div(d, Sqrt(Add(v, eps))) [* gamma] [+ beta]
//   GELU:      y = Mul(Mul(x, Add(Erf(Div(x, sqrt 2) | Mul(x, 1/sqrt 2)), 1)), 0.5)
//   GELU tanh: y = Mul(Mul(x, Add(Tanh(Mul(sqrt(2/pi), Add(x, Mul(0.044715, x^3)))), 1)), 0.5)
//              with x^3 = Mul(x, Mul(x, x)) or Pow(x, 3) (F.gelu(approximate="tanh"))
// (commuted operands accepted). They become one LayerNormalization (axis -1, epsilon; gamma of
// ones when absent) and one Gelu node (approximate none / tanh). Every intermediate must be used
// only inside the pattern.
#include <cmath>

#include "passes/passes.h"

namespace octet::converter {

namespace {
const Node* prod(const Graph& g, const std::string& t, const char* op) {
  const int p = g.producer(t);
  if (p < 0) return nullptr;
  const Node& n = g.nodes[static_cast<size_t>(p)];
  return n.op == op ? &n : nullptr;
}

bool uses(const Graph& g, const std::string& t, size_t count) { return g.consumers(t).size() == count && !g.is_graph_output(t); }

// The scalar value of a constant (one element), or NaN.
float scalar(const Graph& g, const std::string& t) {
  const Constant* c = g.constant(t);
  if (!c || c->elements() != 1) return NAN;
  return c->floats()[0];
}

// The input of binary `n` that is not `t` (or "" when neither is `t`).
std::string other(const Node& n, const std::string& t) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == t) return n.inputs[1];
  if (n.inputs[1] == t) return n.inputs[0];
  return "";
}

bool last_axis_mean(const Graph& g, const Node& n) {
  if (n.op != "ReduceMean" || n.attr_int("keepdims", 1) != 1) return false;
  const std::vector<int64_t> axes = n.attr_ints("axes", {});
  const IrTensor& x = g.tensor(n.inputs[0]);
  if (axes.size() != 1 || !x.shape_known) return false;
  return axes[0] == -1 || axes[0] == x.rank() - 1;
}

int64_t last_dim(const Graph& g, const std::string& t) {
  const IrTensor& x = g.tensor(t);
  return x.shape_known && !x.shape.empty() && x.shape.back().is_fixed() ? x.shape.back().value : -1;
}

// A constant vector of the last dimension's length (or a scalar broadcast to it).
bool channel_const(const Graph& g, const std::string& t, int64_t len) {
  const Constant* c = g.constant(t);
  return c && (c->elements() == len || c->elements() == 1) && c->shape.size() <= 1;
}

void fuse_layernorm(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& div = g.nodes[k];
    if (div.op != "Div" || div.inputs.size() != 2) continue;
    const Node* sub = prod(g, div.inputs[0], "Sub");
    const Node* sqrt = prod(g, div.inputs[1], "Sqrt");
    if (!sub || !sqrt) continue;
    const std::string d = div.inputs[0], x = sub->inputs[0];
    const Node* mean = prod(g, sub->inputs[1], "ReduceMean");
    if (!mean || mean->inputs[0] != x || !last_axis_mean(g, *mean) || !uses(g, sub->inputs[1], 1)) continue;
    const Node* add = prod(g, sqrt->inputs[0], "Add");
    if (!add || !uses(g, div.inputs[1], 1) || !uses(g, sqrt->inputs[0], 1)) continue;
    std::string var_t = add->inputs[0];
    float eps = scalar(g, add->inputs[1]);
    if (std::isnan(eps)) var_t = add->inputs[1], eps = scalar(g, add->inputs[0]);
    const Node* var = prod(g, var_t, "ReduceMean");
    if (std::isnan(eps) || !var || !last_axis_mean(g, *var) || !uses(g, var_t, 1)) continue;
    const std::string sq = var->inputs[0];
    const Node* mul_sq = prod(g, sq, "Mul");
    const Node* pow_sq = prod(g, sq, "Pow");
    const bool square = (mul_sq && mul_sq->inputs[0] == d && mul_sq->inputs[1] == d) ||
                        (pow_sq && pow_sq->inputs[0] == d && scalar(g, pow_sq->inputs[1]) == 2.f);
    if (!square || !uses(g, sq, 1) || !uses(g, d, 2)) continue;
    const int64_t len = last_dim(g, x);
    if (len <= 0) continue;
    // Optional gamma (Mul) and beta (Add) on the normalized value.
    Node* last = &div;
    std::string gamma, beta;
    auto single_consumer = [&](const std::string& t) -> Node* {
      auto c = g.consumers(t);
      return c.size() == 1 && !g.is_graph_output(t) ? &g.nodes[static_cast<size_t>(c[0])] : nullptr;
    };
    if (Node* m = single_consumer(last->outputs[0]); m && m->op == "Mul" && channel_const(g, other(*m, last->outputs[0]), len)) {
      gamma = other(*m, last->outputs[0]);
      last = m;
      if (Node* a = single_consumer(last->outputs[0]); a && a->op == "Add" && channel_const(g, other(*a, last->outputs[0]), len)) {
        beta = other(*a, last->outputs[0]);
        last = a;
      }
    }
    auto vec = [&](const std::string& t, float fill) {
      std::vector<float> v(static_cast<size_t>(len), fill);
      if (!t.empty()) {
        const std::vector<float> c = g.constant(t)->floats();
        for (int64_t i = 0; i < len; ++i) v[i] = c.size() == 1 ? c[0] : c[i];
      }
      return v;
    };
    const std::string base = last->name;
    const std::string gname = g.add_constant(base + "_gamma", Constant::of_floats({len}, vec(gamma, 1.f)));
    std::vector<std::string> ins{x, gname};
    if (!beta.empty()) ins.push_back(g.add_constant(base + "_beta", Constant::of_floats({len}, vec(beta, 0.f))));
    last->op = "LayerNormalization";
    last->inputs = ins;
    last->attrs = {{"axis", -1}, {"epsilon", eps}};
    last->activation = nullptr;
    stats.add("decomposed LayerNorm -> LayerNormalization");
  }
  g.remove_dead();
}

// When one operand of binary `n` is a scalar constant equal to `value` (within tol): the other
// operand, else "". (A non-constant operand reads as NaN and never matches.)
std::string times_const(const Graph& g, const Node& n, float value, float tol) {
  if (n.inputs.size() != 2) return "";
  for (int side = 0; side < 2; ++side)
    if (std::fabs(scalar(g, n.inputs[side]) - value) < tol) return n.inputs[1 - side];
  return "";
}

// t = x^3 as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x).
bool is_cube(const Graph& g, const std::string& t, const std::string& x) {
  if (const Node* p = prod(g, t, "Pow")) return p->inputs[0] == x && scalar(g, p->inputs[1]) == 3.f && uses(g, t, 1);
  const Node* m = prod(g, t, "Mul");
  if (!m || !uses(g, t, 1)) return false;
  const std::string sq = other(*m, x);
  const Node* s = prod(g, sq, "Mul");
  return s && s->inputs[0] == x && s->inputs[1] == x && uses(g, sq, 1);
}

// st = Mul(sqrt(2/pi), Add(x, Mul(0.044715, x^3))): the argument of tanh-form GELU's Tanh.
bool is_tanh_gelu_arg(const Graph& g, const std::string& st, const std::string& x) {
  const Node* m = prod(g, st, "Mul");
  if (!m || !uses(g, st, 1)) return false;
  const std::string inner = times_const(g, *m, std::sqrt(2.f / static_cast<float>(M_PI)), 1e-4f);
  const Node* add = prod(g, inner, "Add");
  if (!add || !uses(g, inner, 1)) return false;
  const std::string ct = other(*add, x);
  const Node* cm = prod(g, ct, "Mul");
  if (!cm || !uses(g, ct, 1)) return false;
  const std::string cube = times_const(g, *cm, 0.044715f, 1e-6f);
  return !cube.empty() && is_cube(g, cube, x);
}

void fuse_gelu(Graph& g, PassStats& stats) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& out = g.nodes[k];
    if (out.op != "Mul" || out.inputs.size() != 2) continue;
    const std::string m1t = times_const(g, out, 0.5f, 1e-6f);
    if (m1t.empty()) continue;
    const Node* m1 = prod(g, m1t, "Mul");
    if (!m1 || !uses(g, m1t, 1)) continue;
    for (int side = 0; side < 2; ++side) {
      const std::string x = m1->inputs[side], at = m1->inputs[1 - side];
      const Node* add = prod(g, at, "Add");
      if (!add || !uses(g, at, 1)) continue;
      const std::string et = times_const(g, *add, 1.f, 1e-6f);   // (the other operand of + 1)
      if (et.empty()) continue;
      if (const Node* th = prod(g, et, "Tanh")) {
        if (!uses(g, et, 1) || !is_tanh_gelu_arg(g, th->inputs[0], x)) continue;
        out.op = "Gelu";
        out.inputs = {x};
        out.attrs = {{"approximate", "tanh"}};
        stats.add("decomposed GELU (tanh) -> Gelu");
        break;
      }
      const Node* erf = prod(g, et, "Erf");
      if (!erf || !uses(g, et, 1)) continue;
      const std::string st = erf->inputs[0];
      const Node* div = prod(g, st, "Div");
      const Node* mul = prod(g, st, "Mul");
      bool ok = false;
      if (div && div->inputs[0] == x) ok = std::fabs(scalar(g, div->inputs[1]) - std::sqrt(2.f)) < 1e-4f;
      if (mul && other(*mul, x) != "") ok = std::fabs(scalar(g, other(*mul, x)) - std::sqrt(0.5f)) < 1e-4f;
      if (!ok || !uses(g, st, 1)) continue;
      out.op = "Gelu";
      out.inputs = {x};
      out.attrs = {{"approximate", "none"}};
      stats.add("decomposed GELU (erf) -> Gelu");
      break;
    }
  }
  g.remove_dead();
}
}  // namespace

void fuse_transformer(Graph& g, PassStats& stats) {
  fuse_layernorm(g, stats);
  fuse_gelu(g, stats);
}

}  // namespace octet::converter
