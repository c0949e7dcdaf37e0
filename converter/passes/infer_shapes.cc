// Fills shapes ONNX's shape inference left unknown (it gives up after a Reshape whose target
// was computed at run time, which fold_constants has since made constant). ONNX semantics, for
// the ops that matter to later passes; tensors it cannot work out stay unknown.
#include <algorithm>

#include "octet_ops.h"
#include "ops/params.h"
#include "passes/passes.h"

namespace octet::converter {

namespace {
using Dims = std::vector<Dim>;

bool broadcast(const Dims& a, const Dims& b, Dims* out) {
  size_t r = std::max(a.size(), b.size());
  Dims o(r);
  for (size_t i = 0; i < r; ++i) {
    Dim da = i < r - a.size() ? Dim::fixed(1) : a[i - (r - a.size())];
    Dim db = i < r - b.size() ? Dim::fixed(1) : b[i - (r - b.size())];
    if (da == Dim::fixed(1)) o[i] = db;
    else if (db == Dim::fixed(1) || da == db) o[i] = da;
    else if (!da.is_fixed() || !db.is_fixed()) o[i] = da.is_fixed() ? da : db;
    else return false;
  }
  *out = o;
  return true;
}

// Ops whose output 0 has the shape of input 0. Octet ops by their traits: one-input elementwise
// ops (every Unary op, Cast), normalizations and (de)quantization. The ONNX semantics of these
// names are the same (this pass runs before lowering). The local list holds the ONNX ops octet
// has no op of that name for, so the op table cannot know them: they are removed (Identity,
// Dropout), folded (BatchNormalization) or rewritten (LogSoftmax) by later passes.
bool keeps_shape(const std::string& op, const OpTraits* t) {
  if (t)
    return (t->layout == Layout::Elementwise && (t->max_inputs == 1 || t->family == OpFamily::Unary)) || t->family == OpFamily::Norm ||
           t->family == OpFamily::Quant;
  static const char* kOnnxOnly[] = {"LogSoftmax", "Identity", "Dropout", "BatchNormalization"};
  return std::find(std::begin(kOnnxOnly), std::end(kOnnxOnly), op) != std::end(kOnnxOnly);
}

int64_t axis_of(int64_t a, size_t rank) { return a < 0 ? a + static_cast<int64_t>(rank) : a; }

bool infer(const Graph& g, const Node& n, std::vector<Dims>* out) {
  std::vector<const IrTensor*> in;
  for (const auto& name : n.inputs) in.push_back(name.empty() ? nullptr : &g.tensor(name));
  auto known = [&](size_t i) { return i < in.size() && in[i] && in[i]->shape_known; };
  const std::string& op = n.op;
  const OpTraits* traits = octet_op(op);
  if (keeps_shape(op, traits)) {
    if (!known(0)) return false;
    *out = {in[0]->shape};
    return true;
  }
  if ((traits && traits->layout == Layout::Elementwise) || op == "Sum") {   // numpy broadcasting
    Dims acc;
    bool first = true;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!known(i)) return false;
      if (first) acc = in[i]->shape, first = false;
      else if (!broadcast(acc, in[i]->shape, &acc)) return false;
    }
    *out = {acc};
    return true;
  }
  if (op == "Gemm") {
    if (!known(0) || !known(1) || in[0]->rank() != 2 || in[1]->rank() != 2) return false;
    Dim m = in[0]->shape[n.attr_int("transA", 0) ? 1 : 0];
    Dim nn = in[1]->shape[n.attr_int("transB", 0) ? 0 : 1];
    *out = {{m, nn}};
    return true;
  }
  if (op == "MatMul" || op == "FullyConnected") {
    if (!known(0) || !known(1) || in[0]->rank() < 1) return false;
    Dims y = in[0]->shape;
    if (op == "FullyConnected") y.back() = in[1]->shape[0];
    else {
      if (in[1]->rank() < 2 || in[0]->rank() < 2) return false;
      Dims ab(in[0]->shape.begin(), in[0]->shape.end() - 2), bb(in[1]->shape.begin(), in[1]->shape.end() - 2);
      if (!broadcast(ab, bb, &y)) return false;
      y.push_back(in[0]->shape[in[0]->shape.size() - 2]);
      y.push_back(in[1]->shape.back());
    }
    *out = {y};
    return true;
  }
  if (op == "Reshape") {
    const Constant* s = g.constant(n.has_input(1) ? n.inputs[1] : "");
    std::vector<int64_t> target = s ? s->ints() : n.attr_ints("shape", {});
    if (!known(0) || (target.empty() && !s)) return false;
    Dims y;
    int64_t known_prod = 1, infer_at = -1;
    bool all_fixed = true;
    for (size_t i = 0; i < target.size(); ++i) {
      if (target[i] == 0 && !n.attr_int("allowzero", 0)) {
        if (i >= in[0]->shape.size()) return false;
        y.push_back(in[0]->shape[i]);
        if (y.back().is_fixed()) known_prod *= y.back().value;
        else all_fixed = false;
      } else if (target[i] == -1) {
        infer_at = static_cast<int64_t>(i);
        y.push_back(Dim::sym("?"));
      } else {
        y.push_back(Dim::fixed(target[i]));
        known_prod *= target[i];
      }
    }
    if (infer_at >= 0) {
      auto xs = in[0]->static_shape();
      if (xs && all_fixed && known_prod) {
        int64_t total = 1;
        for (int64_t d : *xs) total *= d;
        y[infer_at] = Dim::fixed(total / known_prod);
      } else {
        // The product of the input's dims that are not copied: often just the batch symbol.
        std::vector<Dim> rest;
        for (size_t i = 0; i < in[0]->shape.size(); ++i)
          if (!(i < target.size() && target[i] == 0)) rest.push_back(in[0]->shape[i]);
        int64_t fixed_prod = 1;
        std::vector<Dim> syms;
        for (const Dim& d : rest) d.is_fixed() ? void(fixed_prod *= d.value) : syms.push_back(d);
        if (syms.size() == 1 && fixed_prod == known_prod) y[infer_at] = syms[0];
      }
    }
    *out = {y};
    return true;
  }
  if (op == "Flatten") {
    if (!known(0)) return false;
    int64_t ax = axis_of(n.attr_int("axis", 1), in[0]->shape.size());
    auto prod = [&](size_t b, size_t e) {
      Dim r = Dim::fixed(1);
      for (size_t i = b; i < e; ++i) {
        const Dim& d = in[0]->shape[i];
        if (d.is_fixed() && r.is_fixed()) r.value *= d.value;
        else if (d == Dim::fixed(1)) continue;
        else r = r == Dim::fixed(1) ? d : Dim::sym("?");
      }
      return r;
    };
    *out = {{prod(0, ax), prod(ax, in[0]->shape.size())}};
    return true;
  }
  if (op == "Transpose") {
    if (!known(0)) return false;
    auto perm = n.attr_ints("perm", {});
    Dims y;
    if (perm.empty()) y.assign(in[0]->shape.rbegin(), in[0]->shape.rend());
    else for (int64_t p : perm) y.push_back(in[0]->shape.at(p));
    *out = {y};
    return true;
  }
  if (op == "Concat") {
    for (size_t i = 0; i < in.size(); ++i) if (!known(i)) return false;
    Dims y = in[0]->shape;
    int64_t ax = axis_of(n.attr_int("axis", 0), y.size());
    for (size_t i = 1; i < in.size(); ++i) {
      const Dim& d = in[i]->shape[ax];
      y[ax] = y[ax].is_fixed() && d.is_fixed() ? Dim::fixed(y[ax].value + d.value) : Dim::sym("?");
    }
    *out = {y};
    return true;
  }
  // Axes of Split sizes / Squeeze / Unsqueeze / Reduce*: an attribute (older opsets) or a constant input.
  auto ints_of = [&](const char* attr, size_t input, std::vector<int64_t>* v) {
    if (n.attrs.contains(attr)) return *v = n.attr_ints(attr, {}), true;
    if (input < n.inputs.size() && !n.inputs[input].empty()) {
      const Constant* c = g.constant(n.inputs[input]);
      if (!c) return false;
      *v = c->ints();
      return true;
    }
    v->clear();
    return true;
  };
  if (op == "Split") {
    if (!known(0)) return false;
    const Dims& x = in[0]->shape;
    const int64_t ax = axis_of(n.attr_int("axis", 0), x.size());
    std::vector<int64_t> sizes;
    if (!ints_of("split", 1, &sizes)) return false;
    if (sizes.empty()) {
      if (!x[ax].is_fixed() || x[ax].value % static_cast<int64_t>(n.outputs.size())) return false;
      sizes.assign(n.outputs.size(), x[ax].value / static_cast<int64_t>(n.outputs.size()));
    }
    if (sizes.size() != n.outputs.size()) return false;
    out->clear();
    for (int64_t sz : sizes) {
      Dims y = x;
      y[ax] = Dim::fixed(sz);
      out->push_back(y);
    }
    return true;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    if (!known(0)) return false;
    std::vector<int64_t> axes;
    if (!ints_of("axes", 1, &axes)) return false;
    Dims y = in[0]->shape;
    if (op == "Unsqueeze") {
      const size_t r = y.size() + axes.size();
      for (auto& a : axes) a = axis_of(a, r);
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes) {
        if (a > static_cast<int64_t>(y.size())) return false;
        y.insert(y.begin() + a, Dim::fixed(1));
      }
    } else {
      if (axes.empty()) return false;   // squeeze-all needs fixed dims; leave it to ONNX's inference
      for (auto& a : axes) a = axis_of(a, y.size());
      std::sort(axes.rbegin(), axes.rend());
      for (int64_t a : axes) {
        if (a >= static_cast<int64_t>(y.size())) return false;
        y.erase(y.begin() + a);
      }
    }
    *out = {y};
    return true;
  }
  if (op == "ArgMax" || op == "ArgMin") {
    if (!known(0)) return false;
    Dims y = in[0]->shape;
    const int64_t a = axis_of(n.attr_int("axis", 0), y.size());
    if (a < 0 || a >= static_cast<int64_t>(y.size())) return false;
    if (n.attr_int("keepdims", 1) != 0) y[static_cast<size_t>(a)] = Dim::fixed(1);
    else y.erase(y.begin() + a);
    *out = {y};
    return true;
  }
  if (has_family(op, OpFamily::Reduce)) {
    if (!known(0)) return false;
    std::vector<int64_t> axes;
    if (!ints_of("axes", 1, &axes)) return false;
    Dims y = in[0]->shape;
    std::vector<bool> reduce(y.size(), axes.empty());
    for (int64_t a : axes) {
      a = axis_of(a, y.size());
      if (a < 0 || a >= static_cast<int64_t>(y.size())) return false;
      reduce[static_cast<size_t>(a)] = true;
    }
    const bool keep = n.attr_int("keepdims", 1) != 0;
    Dims r;
    for (size_t i = 0; i < y.size(); ++i)
      if (!reduce[i]) r.push_back(y[i]);
      else if (keep) r.push_back(Dim::fixed(1));
    *out = {r};
    return true;
  }
  if (op == "Gather") {
    if (!known(0) || !known(1)) return false;
    const Dims& x = in[0]->shape;
    const int64_t ax = axis_of(n.attr_int("axis", 0), x.size());
    Dims y(x.begin(), x.begin() + ax);
    y.insert(y.end(), in[1]->shape.begin(), in[1]->shape.end());
    y.insert(y.end(), x.begin() + ax + 1, x.end());
    *out = {y};
    return true;
  }
  if (op == "Slice" && !n.lowered) {
    // Bounds computed at run time (torch's x.chunk exports them from Shape): the rank is the
    // input's; the sliced extents are unknown; axes given as a constant keep the other dims.
    if (!known(0)) return false;
    const Dims& x = in[0]->shape;
    const int64_t r = static_cast<int64_t>(x.size());
    Dims y(x.size(), Dim::sym("?"));
    auto ints = [&](size_t i) { return g.constant(n.inputs[i])->ints(); };
    const bool bounds = n.has_input(1) && n.has_input(2) && g.is_constant(n.inputs[1]) && g.is_constant(n.inputs[2]);
    std::vector<int64_t> axes;
    if (n.has_input(3)) {
      if (!g.is_constant(n.inputs[3])) return (*out = {y}, true);
      axes = ints(3);
    } else if (bounds) {
      for (size_t a = 0; a < ints(1).size(); ++a) axes.push_back(static_cast<int64_t>(a));
    }
    std::vector<bool> sliced(x.size(), false);
    for (int64_t& a : axes) {
      a = axis_of(a, x.size());
      if (a < 0 || a >= r) return false;
      sliced[static_cast<size_t>(a)] = true;
    }
    for (size_t d = 0; d < x.size(); ++d)
      if (!sliced[d] || axes.empty()) y[d] = axes.empty() ? Dim::sym("?") : x[d];
    if (bounds && !axes.empty() && (!n.has_input(4) || g.is_constant(n.inputs[4]))) {
      // Constant bounds (fold_constants has evaluated x.chunk's arithmetic): ONNX's clamping.
      const std::vector<int64_t> st = ints(1), en = ints(2), sp = n.has_input(4) ? ints(4) : std::vector<int64_t>(axes.size(), 1);
      if (st.size() != axes.size() || en.size() != axes.size() || sp.size() != axes.size()) return false;
      for (size_t i = 0; i < axes.size(); ++i) {
        const Dim& dim = x[static_cast<size_t>(axes[i])];
        if (!dim.is_fixed() || sp[i] == 0) continue;   // stays "?"
        const int64_t len = dim.value, step = sp[i];
        auto clampv = [&](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, v < 0 ? v + len : v)); };
        const int64_t b = step > 0 ? clampv(st[i], 0, len) : clampv(st[i], 0, len - 1);
        const int64_t e = step > 0 ? clampv(en[i], 0, len) : clampv(en[i], -1, len - 1);
        const int64_t count = step > 0 ? (e > b ? (e - b + step - 1) / step : 0) : (b > e ? (b - e - step - 1) / -step : 0);
        y[static_cast<size_t>(axes[i])] = Dim::fixed(count);
      }
    }
    *out = {y};
    return true;
  }
  if (op == "Pad" && !n.lowered) {
    // x + pads per axis (constant pads, opset 11 input or older attribute); pads computed at run
    // time (swin's window padding, from Shape) leave the extents unknown but the rank known.
    if (!known(0)) return false;
    const Dims& x = in[0]->shape;
    std::vector<int64_t> pads;
    const bool have = n.has_input(1) ? (g.is_constant(n.inputs[1]) && (pads = g.constant(n.inputs[1])->ints(), true))
                                     : n.attrs.contains("pads") && (pads = n.attr_ints("pads", {}), true);
    Dims y(x.size(), Dim::sym("?"));
    if (have && pads.size() == 2 * x.size())
      for (size_t d = 0; d < x.size(); ++d)
        if (x[d].is_fixed()) y[d] = Dim::fixed(x[d].value + pads[d] + pads[x.size() + d]);
        else if (pads[d] == 0 && pads[x.size() + d] == 0) y[d] = x[d];
    *out = {y};
    return true;
  }
  if ((op == "Conv" || op == "MaxPool" || op == "AveragePool") && !n.lowered) {
    // ONNX's inference stops at an input whose extents came from run-time arithmetic; once
    // fold_constants has made them known this fills the output: [N, M or C, spatial...].
    if (!known(0) || in[0]->shape.size() < 3) return false;
    const Dims& x = in[0]->shape;
    const size_t sp = x.size() - 2;
    const Constant* w = op == "Conv" && n.has_input(1) ? g.constant(n.inputs[1]) : nullptr;
    if (op == "Conv" && (!w || w->shape.size() != x.size())) return false;
    std::vector<int64_t> k = w ? std::vector<int64_t>(w->shape.begin() + 2, w->shape.end()) : n.attr_ints("kernel_shape", {});
    if (k.size() != sp) return false;
    const auto strides = n.attr_ints("strides", std::vector<int64_t>(sp, 1)), dil = n.attr_ints("dilations", std::vector<int64_t>(sp, 1));
    const auto pads = n.attr_ints("pads", std::vector<int64_t>(2 * sp, 0));
    const std::string pad_mode = n.attr_string("auto_pad", "NOTSET");
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp) return false;
    Dims y = {x[0], w ? Dim::fixed(w->shape[0]) : x[1]};
    for (size_t d = 0; d < sp; ++d) {
      const Dim& in_d = x[2 + d];
      if (!in_d.is_fixed()) { y.push_back(Dim::sym("?")); continue; }
      int64_t o;
      if (pad_mode == "SAME_UPPER" || pad_mode == "SAME_LOWER") o = (in_d.value + strides[d] - 1) / strides[d];
      else if (pad_mode == "VALID") o = conv_out_dim(in_d.value, k[d], strides[d], 0, 0, dil[d]);
      else if (op == "Conv") o = conv_out_dim(in_d.value, k[d], strides[d], pads[d], pads[sp + d], dil[d]);
      else o = pool_out_dim(in_d.value, k[d], strides[d], pads[d], pads[sp + d], dil[d], n.attr_int("ceil_mode", 0) != 0);
      if (o <= 0) return false;
      y.push_back(Dim::fixed(o));
    }
    *out = {y};
    if (op == "MaxPool" && n.outputs.size() > 1) out->push_back(y);
    return true;
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    if (!known(0)) return false;
    Dims y = in[0]->shape;
    for (size_t i = 2; i < y.size(); ++i) y[i] = Dim::fixed(1);
    *out = {y};
    return true;
  }
  return false;
}
}  // namespace

// An extent ONNX's inference could not work out: e.g. after a Pad whose pads were computed.
static bool has_unknown_dim(const IrTensor& t) {
  return std::any_of(t.shape.begin(), t.shape.end(), [](const Dim& d) { return d.is_unknown(); });
}

void infer_shapes(Graph& g) {
  for (const Node& n : g.nodes) {
    bool missing = false;
    for (const auto& o : n.outputs) missing = missing || (!o.empty() && (!g.tensor(o).shape_known || has_unknown_dim(g.tensor(o))));
    if (!missing) continue;
    std::vector<Dims> shapes;
    if (!infer(g, n, &shapes)) continue;
    for (size_t i = 0; i < n.outputs.size() && i < shapes.size(); ++i) {
      if (n.outputs[i].empty()) continue;
      IrTensor& t = g.tensor(n.outputs[i]);
      if (!t.shape_known) {
        t.shape = shapes[i], t.shape_known = true;
      } else if (t.shape.size() == shapes[i].size()) {   // refine the unknown extents only
        for (size_t d = 0; d < t.shape.size(); ++d)
          if (t.shape[d].is_unknown()) t.shape[d] = shapes[i][d];
      }
    }
  }
}

}  // namespace octet::converter
