// Shape expressions (shape_expressions.h): Shape(x), the ops that carry its elements along, and
// the Reshape targets they become.
#include "passes/shape_expressions.h"

#include <algorithm>

namespace octet::converter {

namespace {

SymVec to_sym(const Constant& c) {
  SymVec v;
  for (int64_t x : c.ints()) v.push_back({true, x, "", -1});
  return v;
}

// Whether target entry i, the run-time size `s`, is dim i of the Reshape's own input x (then
// the target can say 0: copy it): the same tensor and dim, or a dim of another tensor with the
// same symbolic name (attention reshapes [batch, seq, heads, d] of q computed from Shape(x)).
bool copies_input_dim(const Graph& g, const std::string& x, size_t i, const SymInt& s) {
  if (s.tensor == x && s.dim == static_cast<int64_t>(i)) return true;
  if (s.tensor.empty() || s.dim < 0) return false;
  const IrTensor& a = g.tensor(x);
  const IrTensor& b = g.tensor(s.tensor);
  if (!a.shape_known || !b.shape_known || i >= a.shape.size() || s.dim >= static_cast<int64_t>(b.shape.size())) return false;
  const Dim& da = a.shape[i];
  const Dim& db = b.shape[static_cast<size_t>(s.dim)];
  // "?" is an unknown extent: two of them need not be equal (ONNX's own "unk__N" names are
  // equal only where its inference found them so, which makes them a valid match).
  return !da.is_fixed() && !da.symbol.empty() && da.symbol != "?" && da.symbol == db.symbol;
}

}  // namespace

bool all_known(const SymVec& v) {
  return std::all_of(v.begin(), v.end(), [](const SymInt& s) { return s.known; });
}

std::vector<int64_t> known_values(const SymVec& v) {
  std::vector<int64_t> out;
  for (const auto& s : v) out.push_back(s.value);
  return out;
}

std::optional<SymVec> shape_of(const Node& n, const IrTensor& x) {
  if (!x.shape_known) return std::nullopt;
  int64_t rank = x.rank(), start = n.attr_int("start", 0), end = n.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  SymVec v;
  for (int64_t d = start; d < end; ++d) {
    const Dim& dim = x.shape[d];
    if (dim.is_fixed()) v.push_back({true, dim.value, "", -1});
    else v.push_back({false, 0, x.name, d});
  }
  return v;
}

std::optional<SymVec> evaluate_shape_expression(const Node& n, const std::vector<Operand>& in) {
  auto sym_of = [&](const Operand& v) -> SymVec { return v.s ? *v.s : to_sym(*v.c); };
  if (n.op == "Identity" || n.op == "Cast") return sym_of(in[0]);
  if (n.op == "Gather") {
    if (!in[1].c || n.attr_int("axis", 0) != 0) return std::nullopt;
    SymVec src = sym_of(in[0]), out;
    for (int64_t i : in[1].c->ints()) {
      if (i < 0) i += static_cast<int64_t>(src.size());
      if (i < 0 || i >= static_cast<int64_t>(src.size())) fail(n, "index out of range in shape computation");
      out.push_back(src[i]);
    }
    return out;
  }
  if (n.op == "Unsqueeze" || n.op == "Squeeze") return sym_of(in[0]);
  if (n.op == "Concat") {
    SymVec out;
    for (const auto& v : in) {
      if (!v.present()) continue;
      SymVec s = sym_of(v);
      out.insert(out.end(), s.begin(), s.end());
    }
    return out;
  }
  if (n.op == "Slice") {
    SymVec src = sym_of(in[0]);
    std::vector<int64_t> starts, ends, steps;
    if (n.attrs.contains("starts")) {
      starts = n.attr_ints("starts", {}), ends = n.attr_ints("ends", {});
      steps = {1};
    } else {
      if (!in[1].c || !in[2].c) return std::nullopt;
      starts = in[1].c->ints(), ends = in[2].c->ints();
      steps = in.size() > 4 && in[4].c ? in[4].c->ints() : std::vector<int64_t>{1};
    }
    if (starts.size() != 1 || steps[0] != 1) return std::nullopt;
    int64_t len = static_cast<int64_t>(src.size()), s = starts[0], e = ends[0];
    if (s < 0) s += len;
    if (e < 0) e += len;
    s = std::clamp<int64_t>(s, 0, len), e = std::clamp<int64_t>(e, 0, len);
    return SymVec(src.begin() + s, src.begin() + std::max(s, e));
  }
  if (n.op == "Add" || n.op == "Sub" || n.op == "Mul" || n.op == "Div") {
    SymVec a = sym_of(in[0]), b = sym_of(in[1]);
    size_t len = std::max(a.size(), b.size());
    if ((a.size() != len && a.size() != 1) || (b.size() != len && b.size() != 1)) return std::nullopt;
    SymVec out;
    for (size_t i = 0; i < len; ++i) {
      const SymInt& x = a[a.size() == 1 ? 0 : i];
      const SymInt& y = b[b.size() == 1 ? 0 : i];
      if (x.known && y.known) {
        int64_t r = n.op == "Add" ? x.value + y.value : n.op == "Sub" ? x.value - y.value : n.op == "Mul" ? x.value * y.value : (y.value ? x.value / y.value : 0);
        out.push_back({true, r, "", -1});
      } else if (!x.known && y.known && ((n.op == "Mul" || n.op == "Div") && y.value == 1)) {
        out.push_back(x);
      } else {
        out.push_back({false, 0, "", -1});
      }
    }
    return out;
  }
  return std::nullopt;
}

std::vector<int64_t> reshape_target(const Graph& g, const std::string& x, const SymVec& v, int* unknown) {
  std::vector<int64_t> target;
  *unknown = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const SymInt& s = v[i];
    if (s.known) {
      target.push_back(s.value);
      if (s.value == -1) ++*unknown;   // the exporter's own -1 (infer this one) counts too
    }
    else if (copies_input_dim(g, x, i, s)) target.push_back(0);
    else target.push_back(-1), ++*unknown;
  }
  return target;
}

}  // namespace octet::converter
