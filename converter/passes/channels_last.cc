// NCHW -> NHWC. Every Conv, ConvTranspose and pooling node (layout Spatial in the op table) is
// rewritten into octet's NHWC form between a Transpose to NHWC and one back to NCHW, so the graph
// stays correct at every step. Then transposes are pushed down through ops that do not care
// about layout (layout Elementwise; layout Axis, i.e. Concat/Split/Softmax/Reduce*/Slice/Pad/
// Resize, with their axes remapped), and two transposes in a row merge or cancel. What remains
// is a transpose at a graph input, at a graph output, or in front of an op that needs NCHW order
// (a Flatten over spatial dims, say); one that only moves size-1 dimensions becomes a free
// Reshape. (The idea is ONNX Runtime's transpose optimizer.)
#include <algorithm>
#include <cmath>
#include <numeric>

#include "octet_ops.h"
#include "passes/passes.h"

namespace octet::converter {

namespace {
using Perm = std::vector<int64_t>;
const Perm kToNhwc = {0, 2, 3, 1};
const Perm kToNchw = {0, 3, 1, 2};

Perm inverse(const Perm& p) {
  Perm inv(p.size());
  for (size_t k = 0; k < p.size(); ++k) inv[p[k]] = static_cast<int64_t>(k);
  return inv;
}
bool is_identity(const Perm& p) {
  for (size_t k = 0; k < p.size(); ++k) if (p[k] != static_cast<int64_t>(k)) return false;
  return true;
}
// Dims of T(x) for x with dims `d`: out[k] = d[P[k]].
template <class T> std::vector<T> permute(const std::vector<T>& d, const Perm& p) {
  std::vector<T> out(p.size());
  for (size_t k = 0; k < p.size(); ++k) out[k] = d[p[k]];
  return out;
}

Constant transpose_const(const Constant& c, const Perm& p) {
  Constant out{c.dtype, permute(c.shape, p), std::vector<uint8_t>(c.bytes.size())};
  const size_t es = dtype_size(c.dtype), r = c.shape.size();
  std::vector<int64_t> in_strides(r, 1);
  for (int64_t d = static_cast<int64_t>(r) - 2; d >= 0; --d) in_strides[d] = in_strides[d + 1] * c.shape[d + 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t f = 0; f < out.elements(); ++f) {
    int64_t rem = f, src = 0;
    for (int64_t k = static_cast<int64_t>(r) - 1; k >= 0; --k) {
      int64_t i = rem % out.shape[k];
      rem /= out.shape[k];
      src += i * in_strides[p[k]];
    }
    std::memcpy(out.bytes.data() + f * es, c.bytes.data() + src * es, es);
  }
  return out;
}

// Resolves auto_pad into explicit pads [top, left, bottom, right].
std::vector<int64_t> resolve_pads(const Node& n, const std::vector<int64_t>& in_hw, const std::vector<int64_t>& k,
                                  const std::vector<int64_t>& s, const std::vector<int64_t>& d) {
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap == "NOTSET") {
    auto pads = n.attr_ints("pads", {0, 0, 0, 0});
    if (pads.size() != 4) fail(n, "pads must have 4 values for a 2-D op");
    return pads;
  }
  if (ap == "VALID") return {0, 0, 0, 0};
  if (ap != "SAME_UPPER" && ap != "SAME_LOWER") fail(n, "unknown auto_pad '" + ap + "'");
  std::vector<int64_t> pads(4);
  for (int i = 0; i < 2; ++i) {
    if (in_hw[i] < 0) fail(n, "auto_pad " + ap + " needs a static spatial size");
    int64_t out = (in_hw[i] + s[i] - 1) / s[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in_hw[i]);
    int64_t small = total / 2, big = total - small;
    pads[i] = ap == "SAME_UPPER" ? small : big;
    pads[i + 2] = ap == "SAME_UPPER" ? big : small;
  }
  return pads;
}

class ChannelsLast {
 public:
  ChannelsLast(Graph& g, PassStats& s) : g_(g), stats_(s) {}

  void run() {
    wrap_spatial_ops();
    optimize_transposes();
    g_.remove_dead();
  }

 private:
  Graph& g_;
  PassStats& stats_;
  std::vector<Node> before_;   // nodes lower_spatial needs run before the node it rewrites

  std::string new_tensor(const std::string& base, const IrTensor& like, const Perm* perm) {
    IrTensor t;
    t.name = g_.unique_name(base);
    t.dtype = like.dtype;
    t.shape_known = like.shape_known;
    t.shape = perm && like.shape_known && like.shape.size() == perm->size() ? permute(like.shape, *perm) : like.shape;
    if (perm && like.shape_known && like.shape.size() != perm->size()) t.shape_known = false;
    std::string n = t.name;
    g_.add_tensor(std::move(t));
    return n;
  }

  Node transpose_node(const std::string& name, const std::string& in, const std::string& out, const Perm& p,
                      const std::vector<std::string>& origin) {
    Node t{g_.unique_name(name), "Transpose", {in}, {out}, {{"perm", p}}};
    t.lowered = true;
    t.origin = origin;
    return t;
  }

  // ---- step 1: spatial ops in NHWC between transposes ----
  void wrap_spatial_ops() {
    for (const Node& n : g_.nodes)   // before the graph is taken apart below
      if (!n.lowered && !g_.tensor(n.inputs[0]).shape_known)
        fail(n, "input rank is unknown (shapes are lost from " + unknown_shape_origin(g_, n.inputs[0]) + " on, whose output octet cannot infer)");
    std::vector<Node> out;
    for (Node& n : g_.nodes) {
      if (n.lowered) {
        out.push_back(std::move(n));
        continue;
      }
      const IrTensor& x = g_.tensor(n.inputs[0]);   // shape known: checked above
      if (x.rank() == 3 && is_spatial_op(n.op)) {
        wrap_1d(n, out);
        continue;
      }
      if (x.rank() != 4) fail(n, "only 1-D and 2-D spatial ops are supported (input rank " + std::to_string(x.rank()) + ")");
      const std::string y = n.outputs[0];
      std::string xin = new_tensor(n.inputs[0] + "_nhwc", x, &kToNhwc);
      std::string yout = new_tensor(y + "_nhwc", g_.tensor(y), &kToNhwc);
      out.push_back(transpose_node(n.name + "_to_nhwc", n.inputs[0], xin, kToNhwc, n.origin));
      Node core = n;
      core.inputs[0] = xin;
      core.outputs = {yout};
      lower_spatial(core, x);
      for (Node& b : before_) out.push_back(std::move(b));
      before_.clear();
      out.push_back(std::move(core));
      out.push_back(transpose_node(n.name + "_to_nchw", yout, y, kToNchw, n.origin));
    }
    g_.nodes = std::move(out);
  }

  // Conv1d etc.: [N,C,L] -> [N,1,L,C] via Transpose + Unsqueeze, the 2-D op, then back.
  void wrap_1d(Node& n, std::vector<Node>& out) {
    const IrTensor& x = g_.tensor(n.inputs[0]);
    IrTensor x4 = x;
    x4.shape.insert(x4.shape.begin() + 2, Dim::fixed(1));   // [N,C,1,L]
    const std::string y = n.outputs[0];
    IrTensor y4 = g_.tensor(y);
    if (y4.shape_known) y4.shape.insert(y4.shape.begin() + 2, Dim::fixed(1));
    std::string x_nlc = new_tensor(n.inputs[0] + "_nlc", x, nullptr);
    g_.tensor(x_nlc).shape_known = false;
    std::string xin = new_tensor(n.inputs[0] + "_nhwc", x4, &kToNhwc);
    std::string yout = new_tensor(y + "_nhwc", y4, &kToNhwc);
    std::string y_nlc = new_tensor(y + "_nlc", g_.tensor(y), nullptr);
    g_.tensor(y_nlc).shape_known = false;
    out.push_back(transpose_node(n.name + "_to_nlc", n.inputs[0], x_nlc, {0, 2, 1}, n.origin));
    Node us{g_.unique_name(n.name + "_unsqueeze"), "Unsqueeze", {x_nlc}, {xin}, {{"axes", {1}}}};
    us.lowered = true;
    out.push_back(us);
    Node core = n;
    core.inputs[0] = xin;
    core.outputs = {yout};
    // 1-D attributes become 2-D with a unit height.
    auto widen = [&](const char* key, int64_t unit) {
      if (!core.attrs.contains(key)) return;
      auto v = core.attr_ints(key, {});
      if (std::string(key) == "pads" && v.size() == 2) core.attrs[key] = std::vector<int64_t>{0, v[0], 0, v[1]};
      else if (v.size() == 1) core.attrs[key] = std::vector<int64_t>{unit, v[0]};
    };
    widen("kernel_shape", 1), widen("strides", 1), widen("dilations", 1), widen("pads", 0), widen("output_padding", 0);
    if (core.op == "Conv" || core.op == "ConvTranspose") {
      const Constant* w = g_.constant(core.inputs[1]);
      if (!w) fail(n, "weights computed at run time are supported for 2-D convolutions only");
      Constant w4 = *w;
      w4.shape.insert(w4.shape.begin() + 2, 1);
      core.inputs[1] = g_.add_constant(core.inputs[1] + "_2d", w4);
    }
    lower_spatial(core, x4);
    out.push_back(std::move(core));
    Node sq{g_.unique_name(n.name + "_squeeze"), "Squeeze", {yout}, {y_nlc}, {{"axes", {1}}}};
    sq.lowered = true;
    out.push_back(sq);
    out.push_back(transpose_node(n.name + "_to_ncl", y_nlc, y, {0, 2, 1}, n.origin));
  }

  // Rewrites an ONNX NCHW spatial node (whose input 0 is already NHWC) into octet's form.
  void lower_spatial(Node& n, const IrTensor& x_nchw) {
    std::vector<int64_t> hw = {x_nchw.shape[2].is_fixed() ? x_nchw.shape[2].value : -1,
                               x_nchw.shape[3].is_fixed() ? x_nchw.shape[3].value : -1};
    n.lowered = true;
    if (n.op == "GlobalAveragePool") {
      n.attrs = nlohmann::json::object();
      return;
    }
    if (n.op == "GlobalMaxPool") {
      n.op = "ReduceMax";
      n.attrs = {{"axes", {1, 2}}, {"keepdims", 1}};
      return;
    }
    std::vector<int64_t> k;
    const Constant* w = nullptr;
    if (n.op == "Conv" || n.op == "ConvTranspose") {
      // Weights computed at run time (graph inputs, as ONNX allows) run in float on the reference
      // kernel; their shape must be known here to place the kernel window.
      w = g_.constant(n.inputs.at(1));
      const auto ws = w ? std::optional<std::vector<int64_t>>(w->shape) : g_.tensor(n.inputs[1]).static_shape();
      if (!ws) fail(n, "weights computed at run time need a known shape");
      if (ws->size() != 4) fail(n, "weights must be 4-D");
      k = {(*ws)[2], (*ws)[3]};
    } else {
      k = n.attr_ints("kernel_shape", {});
      if (k.size() != 2) fail(n, "kernel_shape must have 2 values");
    }
    auto s = n.attr_ints("strides", {1, 1}), d = n.attr_ints("dilations", {1, 1});
    if (s.size() != 2 || d.size() != 2) fail(n, "strides and dilations must have 2 values");
    nlohmann::json a = {{"strides", s}, {"dilations", d}};
    if (n.op == "ConvTranspose") {
      a["pads"] = deconv_pads(n, hw, k, s, d);
      a["output_padding"] = n.attr_ints("output_padding", {0, 0});
      if (n.attrs.contains("output_shape")) a["output_padding"] = deconv_output_padding(n, hw, k, s, d, a["pads"]);
    } else {
      a["pads"] = resolve_pads(n, hw, k, s, d);
    }
    if (n.op == "Conv" || n.op == "ConvTranspose") {
      const int64_t group = n.attr_int("group", 1);
      if (group != 1) a["group"] = group;
      if (!w) {
        // The same layouts as below, by a Transpose that runs before the node.
        if (n.op == "ConvTranspose" && group != 1) fail(n, "weights computed at run time are supported for group 1 only");
        const Perm p = n.op == "Conv" ? Perm{0, 2, 3, 1} : Perm{1, 2, 3, 0};   // OIHW / IOHW -> OHWI
        const std::string wt = new_tensor(n.inputs[1] + "_ohwi", g_.tensor(n.inputs[1]), &p);
        before_.push_back(transpose_node(n.name + "_weights_ohwi", n.inputs[1], wt, p, n.origin));
        n.inputs[1] = wt;
        n.attrs = a;
        return;
      }
      Constant w2;
      if (n.op == "Conv") {
        // OIHW -> OHWI
        w2 = transpose_const(*w, {0, 2, 3, 1});
      } else {
        // [Cin, Cout/g, KH, KW] -> [Cout, KH, KW, Cin/g]
        const int64_t cin = w->shape[0], cog = w->shape[1], kh = w->shape[2], kw = w->shape[3], cig = cin / group;
        w2 = Constant{w->dtype, {cog * group, kh, kw, cig}, std::vector<uint8_t>(w->bytes.size())};
        const size_t es = dtype_size(w->dtype);
        for (int64_t g = 0; g < group; ++g)
          for (int64_t j = 0; j < cog; ++j)
            for (int64_t y = 0; y < kh; ++y)
              for (int64_t xx = 0; xx < kw; ++xx)
                for (int64_t ci = 0; ci < cig; ++ci) {
                  int64_t src = (((g * cig + ci) * cog + j) * kh + y) * kw + xx;
                  int64_t dst = (((g * cog + j) * kh + y) * kw + xx) * cig + ci;
                  std::memcpy(w2.bytes.data() + dst * es, w->bytes.data() + src * es, es);
                }
      }
      n.inputs[1] = g_.add_constant(n.inputs[1] + "_ohwi", w2);
    } else {
      a["kernel_shape"] = k;
      if (n.attr_int("ceil_mode", 0)) a["ceil_mode"] = 1;
      if (n.op == "AveragePool" && n.attr_int("count_include_pad", 0)) a["count_include_pad"] = 1;
      if (n.op == "MaxPool" && n.attr_int("storage_order", 0)) fail(n, "storage_order 1 is not supported");
    }
    n.attrs = a;
  }

  std::vector<int64_t> deconv_pads(const Node& n, const std::vector<int64_t>& hw, const std::vector<int64_t>& k,
                                   const std::vector<int64_t>& s, const std::vector<int64_t>& d) {
    std::string ap = n.attr_string("auto_pad", "NOTSET");
    if (n.attrs.contains("output_shape") || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      auto os = n.attr_ints("output_shape", {});
      if (os.size() > 2) os = {os[os.size() - 2], os[os.size() - 1]};
      auto op = n.attr_ints("output_padding", {0, 0});
      std::vector<int64_t> pads(4, 0);
      for (int i = 0; i < 2; ++i) {
        if (hw[i] < 0) fail(n, "output_shape/auto_pad need a static spatial size");
        int64_t target = os.empty() ? hw[i] * s[i] : os[i];
        int64_t total = s[i] * (hw[i] - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - target;
        if (total < 0) total = 0;
        int64_t small = total / 2, big = total - small;
        bool upper = ap != "SAME_LOWER";
        pads[i] = upper ? small : big;
        pads[i + 2] = upper ? big : small;
      }
      return pads;
    }
    if (ap == "VALID") return {0, 0, 0, 0};
    auto pads = n.attr_ints("pads", {0, 0, 0, 0});
    if (pads.size() != 4) fail(n, "pads must have 4 values");
    return pads;
  }

  std::vector<int64_t> deconv_output_padding(const Node& n, const std::vector<int64_t>& hw, const std::vector<int64_t>& k,
                                             const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                                             const std::vector<int64_t>& pads) {
    auto os = n.attr_ints("output_shape", {});
    if (os.size() > 2) os = {os[os.size() - 2], os[os.size() - 1]};
    std::vector<int64_t> op(2, 0);
    for (int i = 0; i < 2; ++i) {
      int64_t natural = s[i] * (hw[i] - 1) + (k[i] - 1) * d[i] + 1 - pads[i] - pads[i + 2];
      op[i] = std::max<int64_t>(0, os[i] - natural);
    }
    return op;
  }

  // ---- step 2: move transposes down, merge and cancel them ----
  const Node* producer_node(const std::string& t) const {
    int p = g_.producer(t);
    return p >= 0 ? &g_.nodes[p] : nullptr;
  }
  static Perm perm_of(const Node& t) { return t.attr_ints("perm", {}); }

  bool merge_consecutive() {
    for (size_t k = 0; k < g_.nodes.size(); ++k) {
      Node& t2 = g_.nodes[k];
      if (t2.op != "Transpose") continue;
      const Node* t1 = producer_node(t2.inputs[0]);
      if (!t1 || t1->op != "Transpose") continue;
      Perm p1 = perm_of(*t1), p2 = perm_of(t2);
      if (p1.empty() || p2.empty() || p1.size() != p2.size()) continue;
      Perm q(p2.size());
      for (size_t i = 0; i < q.size(); ++i) q[i] = p1[p2[i]];
      const std::string src = t1->inputs[0];
      if (is_identity(q)) {
        const std::string y = t2.outputs[0];
        if (g_.is_graph_output(y)) {
          t2.inputs[0] = src;
          t2.op = "Reshape";
          t2.attrs = {{"shape", std::vector<int64_t>(q.size(), 0)}};
        } else {
          g_.replace_uses(y, src);
          g_.nodes.erase(g_.nodes.begin() + static_cast<long>(k));
        }
        stats_.add("transpose pairs cancelled");
      } else {
        t2.inputs[0] = src;
        t2.attrs["perm"] = q;
        stats_.add("transposes merged");
      }
      return true;
    }
    return false;
  }

  bool fold_constant_transposes() {
    for (size_t k = 0; k < g_.nodes.size(); ++k) {
      Node& t = g_.nodes[k];
      if (t.op != "Transpose" || !g_.is_constant(t.inputs[0]) || g_.is_graph_output(t.outputs[0])) continue;
      Perm p = perm_of(t);
      const Constant* c = g_.constant(t.inputs[0]);
      if (p.size() != c->shape.size()) continue;
      std::string name = g_.add_constant(t.outputs[0] + "_const", transpose_const(*c, p));
      g_.replace_uses(t.outputs[0], name);
      g_.nodes.erase(g_.nodes.begin() + static_cast<long>(k));
      return true;
    }
    return false;
  }

  // Attributes of node c (an op of layout Axis) for inputs permuted by p: an axis a of T(x) is
  // axis p[a] of x. False where the attributes cannot follow (the transposes then stay).
  static bool permute_axis_attrs(const Node& c, OpKind op, const Perm& p, nlohmann::json* attrs) {
    const int64_t R = static_cast<int64_t>(p.size());
    auto map_axis = [&](int64_t a) { return p[a < 0 ? a + R : a]; };
    switch (op) {
      case OpKind::Concat:
      case OpKind::Split:
      case OpKind::Softmax:
      case OpKind::Hardmax:
        (*attrs)["axis"] = map_axis(c.attr_int("axis", op == OpKind::Softmax || op == OpKind::Hardmax ? -1 : 0));
        return true;
      case OpKind::ArgMax:
      case OpKind::ArgMin:
        if (c.attr_int("keepdims", 1) == 0) return false;
        (*attrs)["axis"] = map_axis(c.attr_int("axis", 0));
        return true;
      case OpKind::ReduceMean:
      case OpKind::ReduceSum:
      case OpKind::ReduceMax:
      case OpKind::ReduceMin:
      case OpKind::ReduceProd:
      case OpKind::ReduceL1:
      case OpKind::ReduceL2:
      case OpKind::ReduceSumSquare:
      case OpKind::ReduceLogSum:
      case OpKind::ReduceLogSumExp: {
        if (c.attr_int("keepdims", 1) == 0) return false;
        auto axes = c.attr_ints("axes", {});
        if (axes.empty()) return false;
        for (auto& a : axes) a = map_axis(a);
        std::sort(axes.begin(), axes.end());
        (*attrs)["axes"] = axes;
        return true;
      }
      case OpKind::Slice: {
        auto starts = c.attr_ints("starts", {});
        auto axes = c.attr_ints("axes", {});
        if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
        for (auto& a : axes) a = map_axis(a);
        (*attrs)["axes"] = axes;
        return true;
      }
      case OpKind::Pad: {
        auto pads = c.attr_ints("pads", {});
        if (static_cast<int64_t>(pads.size()) != 2 * R) return false;
        std::vector<int64_t> px(2 * R);
        for (int64_t k = 0; k < R; ++k) px[p[k]] = pads[k], px[p[k] + R] = pads[k + R];
        (*attrs)["pads"] = px;
        return true;
      }
      case OpKind::Resize:
        if (attrs->contains("scales")) {
          auto s = (*attrs)["scales"].get<std::vector<float>>();
          if (static_cast<int64_t>(s.size()) != R) return false;
          std::vector<float> sx(R);
          for (int64_t k = 0; k < R; ++k) sx[p[k]] = s[k];
          (*attrs)["scales"] = sx;
        } else {
          auto s = c.attr_ints("sizes", {});
          if (static_cast<int64_t>(s.size()) != R) return false;
          std::vector<int64_t> sx(R);
          for (int64_t k = 0; k < R; ++k) sx[p[k]] = s[k];
          (*attrs)["sizes"] = sx;
        }
        return true;
      default:
        return false;   // an Axis op without a rule here: not moved (correct, maybe slower)
    }
  }

  // Tries to move the transposes feeding node c below it. Returns true on a rewrite. Which ops
  // allow it is the layout column of the op table: Elementwise ops take any permutation as is
  // (constant operands are permuted to match), Axis ops with their axis attributes remapped.
  bool push_through(size_t ci) {
    Node& c = g_.nodes[ci];
    OpKind op;
    if (!op_from_name(c.op, &op)) return false;
    const Layout layout = op_traits(op).layout;
    if (layout != Layout::Elementwise && layout != Layout::Axis) return false;
    // Operands computed at run time (Resize's sizes, Clip's min...) are in the unpermuted order
    // and cannot follow a permutation: such a node keeps its transposes.
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (!c.inputs[i].empty() && is_operand_input(op, i) && !g_.is_constant(c.inputs[i])) return false;
    // Find the perm: every non-constant input must come from a Transpose with the same perm.
    Perm p;
    for (const auto& in : c.inputs) {
      if (in.empty() || g_.is_constant(in)) continue;
      const Node* t = producer_node(in);
      if (!t || t->op != "Transpose") return false;
      Perm tp = perm_of(*t);
      if (tp.empty() || (!p.empty() && tp != p)) return false;
      p = tp;
    }
    if (p.empty()) return false;
    const int64_t R = static_cast<int64_t>(p.size());
    const Perm pinv = inverse(p);
    nlohmann::json attrs = c.attrs;
    if (layout == Layout::Axis && !permute_axis_attrs(c, op, p, &attrs)) return false;
    // Rewrite inputs: transposes' sources; constants transposed by the inverse perm.
    std::vector<std::string> new_inputs;
    for (const auto& in : c.inputs) {
      if (in.empty()) { new_inputs.push_back(in); continue; }
      if (g_.is_constant(in)) {
        Constant k = *g_.constant(in);
        if (k.elements() == 1 && k.shape.size() <= 1) { new_inputs.push_back(in); continue; }
        if (static_cast<int64_t>(k.shape.size()) > R) return false;
        while (static_cast<int64_t>(k.shape.size()) < R) k.shape.insert(k.shape.begin(), 1);
        new_inputs.push_back(g_.add_constant(in + "_perm", transpose_const(k, pinv)));
        continue;
      }
      new_inputs.push_back(producer_node(in)->inputs[0]);
    }
    // Outputs: fresh pre-transpose tensors, and transposes restoring the original names.
    std::vector<std::string> new_outputs;
    std::vector<Node> after;
    for (const auto& out : c.outputs) {
      if (out.empty()) { new_outputs.push_back(out); continue; }
      std::string pre = new_tensor(out + "_t", g_.tensor(out), &pinv);
      new_outputs.push_back(pre);
      after.push_back(transpose_node(c.name + "_transpose", pre, out, p, c.origin));
    }
    c.inputs = new_inputs;
    c.outputs = new_outputs;
    c.attrs = attrs;
    g_.nodes.insert(g_.nodes.begin() + static_cast<long>(ci) + 1, after.begin(), after.end());
    stats_.add("ops moved across transposes");
    return true;
  }

  // A transpose that keeps the order of all non-1 dims moves no data: Reshape instead.
  bool transposes_to_reshapes() {
    bool changed = false;
    for (Node& t : g_.nodes) {
      if (t.op != "Transpose") continue;
      const IrTensor& x = g_.tensor(t.inputs[0]);
      if (!x.shape_known) continue;
      Perm p = perm_of(t);
      if (p.size() != x.shape.size()) continue;
      std::vector<int64_t> order;
      int symbolic = 0;
      for (int64_t k : p) {
        const Dim& d = x.shape[k];
        if (!d.is_fixed()) ++symbolic;
        if (!d.is_fixed() || d.value != 1) order.push_back(k);
      }
      if (!std::is_sorted(order.begin(), order.end()) || symbolic > 1) continue;
      std::vector<int64_t> shape;
      for (size_t k = 0; k < p.size(); ++k) {
        const Dim& d = x.shape[p[k]];
        shape.push_back(d.is_fixed() ? d.value : (p[k] == static_cast<int64_t>(k) ? 0 : -1));
      }
      t.op = "Reshape";
      t.attrs = {{"shape", shape}};
      changed = true;
      stats_.add("transposes of size-1 dims turned into reshapes");
    }
    return changed;
  }

  void optimize_transposes() {
    for (int guard = 0; guard < 100000; ++guard) {
      bool changed = merge_consecutive() || fold_constant_transposes();
      if (!changed) {
        for (size_t i = 0; i < g_.nodes.size() && !changed; ++i) changed = push_through(i);
      }
      if (changed) {
        g_.remove_dead();
        continue;
      }
      break;
    }
    transposes_to_reshapes();
  }
};
}  // namespace

bool is_spatial_op(const std::string& op) {
  const OpTraits* t = octet_op(op);
  return (t && t->layout == Layout::Spatial) || op == "GlobalMaxPool";
}

void to_channels_last(Graph& g, PassStats& stats) { ChannelsLast(g, stats).run(); }

}  // namespace octet::converter
