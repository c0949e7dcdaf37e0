// Constant folding. Two kinds of values are folded:
//  - constants: any supported op whose inputs are all constant is evaluated here, on f32/int
//    data, and replaced by its result (weights transposed or scaled by the exporter, index math);
//  - shape expressions: Shape(x) of a tensor with symbolic dims yields a vector whose elements are
//    known numbers or "dimension d of tensor t". Gather/Slice/Concat/Unsqueeze/Squeeze/Cast and
//    arithmetic carry them along; a Reshape whose target is such a vector gets a constant target
//    using 0 (copy that input dim) and -1 (infer), which the runtime resolves for any batch;
//  - fills of a run-time shape: ConstantOfShape of a shape expression (and Slice, Reshape,
//    Squeeze, Unsqueeze, Expand of it) is a tensor of one value whose shape is only known at run
//    time. torch exports the zero initial state of LSTM/GRU/RNN this way when the batch is
//    symbolic; a zero fill given as initial_h/initial_c is dropped (ONNX: omitted = zeros).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "passes/passes.h"

namespace octet::converter {

void PassStats::add(const std::string& what, int n) {
  for (auto& [k, v] : counts)
    if (k == what) return void(v += n);
  counts.push_back({what, n});
}

namespace {

using Shape = std::vector<int64_t>;

bool is_int(DataType t) { return t == DataType::i64 || t == DataType::s32 || t == DataType::u8 || t == DataType::s8 || t == DataType::boolean; }

Shape bcast(const Shape& a, const Shape& b, const Node& n) {
  size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) fail(n, "constant operands do not broadcast");
    o[i] = da == 1 ? db : da;
  }
  return o;
}

int64_t bindex(const Shape& out, const Shape& in, int64_t flat) {
  int64_t off = 0, stride = 1;
  for (int64_t d = static_cast<int64_t>(out.size()) - 1, k = static_cast<int64_t>(in.size()) - 1; d >= 0; --d, --k) {
    int64_t idx = flat % out[d];
    flat /= out[d];
    if (k >= 0) {
      if (in[k] != 1) off += idx * stride;
      stride *= in[k];
    }
  }
  return off;
}

Constant make(DataType dt, Shape shape) {
  Constant c{dt, std::move(shape), {}};
  c.bytes.assign(static_cast<size_t>(c.elements()) * dtype_size(dt), 0);
  return c;
}

Constant from_ints(DataType dt, Shape shape, const std::vector<int64_t>& v) {
  Constant c = make(dt, std::move(shape));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dt) {
      case DataType::i64: c.as<int64_t>()[i] = v[i]; break;
      case DataType::s32: c.as<int32_t>()[i] = static_cast<int32_t>(v[i]); break;
      case DataType::boolean: case DataType::u8: c.bytes[i] = static_cast<uint8_t>(v[i]); break;
      case DataType::s8: c.as<int8_t>()[i] = static_cast<int8_t>(v[i]); break;
      case DataType::f32: c.as<float>()[i] = static_cast<float>(v[i]); break;
    }
  }
  return c;
}

Constant from_floats(DataType dt, Shape shape, const std::vector<float>& v) {
  if (dt == DataType::f32) return Constant::of_floats(std::move(shape), v);
  std::vector<int64_t> iv(v.size());
  for (size_t i = 0; i < v.size(); ++i) iv[i] = std::isfinite(v[i]) ? static_cast<int64_t>(v[i]) : 0;
  return from_ints(dt, std::move(shape), iv);
}

// Moves elements: out[i] = in[index(i)], any dtype.
Constant gather_elems(const Constant& in, Shape out_shape, const std::function<int64_t(int64_t)>& index) {
  Constant c = make(in.dtype, std::move(out_shape));
  const size_t es = dtype_size(in.dtype);
  for (int64_t i = 0; i < c.elements(); ++i) std::memcpy(c.bytes.data() + i * es, in.bytes.data() + index(i) * es, es);
  return c;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) idx[d] = flat % s[d], flat /= s[d];
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t f = 0;
  for (size_t d = 0; d < s.size(); ++d) f = f * s[d] + idx[d];
  return f;
}

int64_t norm_axis(int64_t a, int64_t rank, const Node& n) {
  if (a < 0) a += rank;
  if (a < 0 || a >= rank) fail(n, "axis out of range");
  return a;
}

// ---- shape expressions ----
struct SymInt {
  bool known = true;
  int64_t value = 0;
  std::string tensor;   // when !known: dim `dim` of `tensor` ("" = some run-time value)
  int64_t dim = -1;
};
using SymVec = std::vector<SymInt>;

// A tensor whose elements are all `value` and whose shape depends on run-time sizes.
struct Fill {
  float value = 0.f;
  std::string source;   // the ConstantOfShape node, for messages
};

// Inputs of a node as constants or shape expressions.
struct Value {
  const Constant* c = nullptr;
  const SymVec* s = nullptr;
  bool present() const { return c || s; }
};

SymVec to_sym(const Constant& c) {
  SymVec v;
  for (int64_t x : c.ints()) v.push_back({true, x, "", -1});
  return v;
}

bool all_known(const SymVec& v) {
  return std::all_of(v.begin(), v.end(), [](const SymInt& s) { return s.known; });
}

class Folder {
 public:
  Folder(Graph& g, PassStats& st) : g_(g), stats_(st) {}

  void run() {
    std::vector<Node> kept;
    for (Node& n : g_.nodes) {
      if (try_fold(n)) {
        stats_.add("constant nodes folded");
        continue;
      }
      kept.push_back(std::move(n));
    }
    g_.nodes = std::move(kept);
    g_.remove_dead();
  }

 private:
  Graph& g_;
  PassStats& stats_;
  std::map<std::string, SymVec> sym_;
  std::map<std::string, Fill> fill_;

  Value value(const std::string& name) {
    Value v;
    if (name.empty()) return v;
    if (const Constant* c = g_.constant(name)) v.c = c;
    auto it = sym_.find(name);
    if (it != sym_.end()) v.s = &it->second;
    return v;
  }

  void set_constant(const std::string& name, Constant c) {
    IrTensor& t = g_.tensor(name);
    t.dtype = c.dtype;
    t.shape.clear();
    for (int64_t d : c.shape) t.shape.push_back(Dim::fixed(d));
    t.shape_known = true;
    t.value = std::move(c);
  }

  // Returns true if the node was replaced by constants / recorded as a shape expression.
  bool try_fold(Node& n) {
    if (n.outputs.size() != 1 || n.outputs[0].empty()) return false;
    const std::string& out = n.outputs[0];
    if (g_.is_graph_output(out)) return false;
    if (n.op == "Shape") return fold_shape(n);
    if (std::optional<Fill> f = eval_fill(n)) {
      fill_[out] = *f;
      return true;   // consumers must fold too: only LSTM/GRU/RNN initial states can (checked below)
    }
    std::vector<Value> in;
    bool all_const = true, any_sym = false;
    for (const auto& name : n.inputs) {
      Value v = value(name);
      if (!name.empty() && !v.present()) return false;
      if (!name.empty() && !v.c) all_const = false;
      if (v.s && !v.c) any_sym = true;
      in.push_back(v);
    }
    if (n.inputs.empty()) {
      if (n.op != "ConstantOfShape" && n.op != "Range") return false;
    }
    if (all_const) {
      std::optional<Constant> r = eval(n, in);
      if (!r) return false;
      set_constant(out, std::move(*r));
      return true;
    }
    if (any_sym) {
      std::optional<SymVec> r = eval_sym(n, in);
      if (!r) return false;
      if (all_known(*r)) {
        std::vector<int64_t> v;
        for (const auto& s : *r) v.push_back(s.value);
        const IrTensor& t = g_.tensor(out);
        Shape shape = t.shape_known && t.shape.empty() ? Shape{} : Shape{static_cast<int64_t>(v.size())};
        set_constant(out, Constant::of_ints(shape, v));
        return true;
      }
      sym_[out] = std::move(*r);
      return true;   // the node stays out of the graph; consumers must fold too (checked in lower_ops)
    }
    if (n.op == "Reshape" && in.size() == 2 && in[1].s) return false;
    return false;
  }

  // ConstantOfShape of a shape expression, or an op that only moves or repeats the elements of
  // such a fill (data input 0; its other inputs are shapes, axes or slice bounds).
  std::optional<Fill> eval_fill(const Node& n) {
    if (n.inputs.empty()) return std::nullopt;
    if (n.op == "ConstantOfShape") {
      if (!sym_.count(n.inputs[0]) || g_.constant(n.inputs[0])) return std::nullopt;
      return Fill{n.attr_float("value", 0.f), n.name};
    }
    static const char* kMove[] = {"Slice", "Reshape", "Squeeze", "Unsqueeze", "Expand", "Identity", "Transpose", "Flatten"};
    if (std::find(std::begin(kMove), std::end(kMove), n.op) == std::end(kMove)) return std::nullopt;
    auto it = fill_.find(n.inputs[0]);
    if (it == fill_.end()) return std::nullopt;
    return it->second;
  }

  bool fold_shape(Node& n) {
    const IrTensor& x = g_.tensor(n.inputs[0]);
    if (!x.shape_known) return false;
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
    if (all_known(v)) {
      std::vector<int64_t> iv;
      for (auto& s : v) iv.push_back(s.value);
      set_constant(n.outputs[0], Constant::of_ints({static_cast<int64_t>(iv.size())}, iv));
    } else {
      sym_[n.outputs[0]] = std::move(v);
      // Keep a placeholder so consumers that cannot fold still see an i64 tensor.
    }
    return true;
  }

  std::optional<SymVec> eval_sym(const Node& n, const std::vector<Value>& in) {
    auto sym_of = [&](const Value& v) -> SymVec { return v.s ? *v.s : to_sym(*v.c); };
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

  std::optional<Constant> eval(const Node& n, const std::vector<Value>& in) {
    const std::string& op = n.op;
    auto C = [&](size_t i) -> const Constant& { return *in.at(i).c; };
    auto has = [&](size_t i) { return i < in.size() && in[i].c; };
    if (op == "Identity") return C(0);
    if (op == "Cast") {
      DataType to;
      switch (n.attr_int("to", 1)) {
        case 1: case 11: case 10: to = DataType::f32; break;
        case 7: case 12: to = DataType::i64; break;
        case 6: case 5: case 4: to = DataType::s32; break;
        case 9: to = DataType::boolean; break;
        case 2: to = DataType::u8; break;
        case 3: to = DataType::s8; break;
        default: return std::nullopt;
      }
      if (to == DataType::f32) return Constant::of_floats(C(0).shape, C(0).floats());
      if (C(0).dtype == DataType::f32) return from_floats(to, C(0).shape, C(0).floats());
      return from_ints(to, C(0).shape, C(0).ints());
    }
    if (op == "Reshape") {
      Shape target = C(1).ints(), out(target.size());
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] == -1) { infer = static_cast<int64_t>(i); continue; }
        out[i] = target[i] == 0 && !n.attr_int("allowzero", 0) ? C(0).shape.at(i) : target[i];
        known *= out[i];
      }
      if (infer >= 0) out[infer] = known ? C(0).elements() / known : 0;
      Constant c = C(0);
      c.shape = out;
      if (c.elements() != C(0).elements()) fail(n, "cannot reshape constant");
      return c;
    }
    if (op == "Flatten") {
      int64_t ax = n.attr_int("axis", 1);
      if (ax < 0) ax += static_cast<int64_t>(C(0).shape.size());
      int64_t a = 1;
      for (int64_t i = 0; i < ax; ++i) a *= C(0).shape[i];
      Constant c = C(0);
      c.shape = {a, a ? c.elements() / a : 0};
      return c;
    }
    if (op == "Squeeze" || op == "Unsqueeze") {
      std::vector<int64_t> axes = n.attrs.contains("axes") ? n.attr_ints("axes", {}) : (has(1) ? C(1).ints() : std::vector<int64_t>{});
      Constant c = C(0);
      Shape s = c.shape, out;
      if (op == "Squeeze") {
        for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
          bool drop = axes.empty() ? s[i] == 1 : std::any_of(axes.begin(), axes.end(), [&](int64_t a) { return norm_axis(a, static_cast<int64_t>(s.size()), n) == i; });
          if (!drop) out.push_back(s[i]);
        }
      } else {
        int64_t r = static_cast<int64_t>(s.size() + axes.size());
        std::vector<bool> ins(r, false);
        for (int64_t a : axes) ins[norm_axis(a, r, n)] = true;
        size_t j = 0;
        for (int64_t i = 0; i < r; ++i) out.push_back(ins[i] ? 1 : s[j++]);
      }
      c.shape = out;
      return c;
    }
    if (op == "Transpose") {
      const Shape& s = C(0).shape;
      std::vector<int64_t> perm = n.attr_ints("perm", {});
      if (perm.empty()) for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) perm.push_back(i);
      Shape out(s.size());
      for (size_t i = 0; i < s.size(); ++i) out[i] = s[perm[i]];
      return gather_elems(C(0), out, [&](int64_t f) {
        auto oi = unravel(f, out);
        std::vector<int64_t> ii(s.size());
        for (size_t k = 0; k < s.size(); ++k) ii[perm[k]] = oi[k];
        return ravel(ii, s);
      });
    }
    if (op == "Concat") {
      std::vector<const Constant*> parts;
      for (size_t i = 0; i < in.size(); ++i) if (has(i)) parts.push_back(in[i].c);
      if (parts.empty()) return std::nullopt;
      const int64_t rank = static_cast<int64_t>(parts[0]->shape.size());
      if (rank == 0) return std::nullopt;
      int64_t ax = norm_axis(n.attr_int("axis", 0), rank, n);
      Shape out = parts[0]->shape;
      out[ax] = 0;
      for (auto* p : parts) {
        if (p->dtype != parts[0]->dtype || p->shape.size() != out.size()) fail(n, "constant inputs do not match");
        out[ax] += p->shape[ax];
      }
      Constant c = make(parts[0]->dtype, out);
      const size_t es = dtype_size(c.dtype);
      for (int64_t f = 0; f < c.elements(); ++f) {
        auto idx = unravel(f, out);
        int64_t a = idx[ax];
        for (auto* p : parts) {
          if (a < p->shape[ax]) {
            idx[ax] = a;
            std::memcpy(c.bytes.data() + f * es, p->bytes.data() + ravel(idx, p->shape) * es, es);
            break;
          }
          a -= p->shape[ax];
        }
      }
      return c;
    }
    if (op == "Gather") {
      const Constant& data = C(0);
      const int64_t rank = static_cast<int64_t>(data.shape.size());
      if (rank == 0) return std::nullopt;
      int64_t ax = norm_axis(n.attr_int("axis", 0), rank, n);
      std::vector<int64_t> idx = C(1).ints();
      for (auto& i : idx) {
        if (i < 0) i += data.shape[ax];
        if (i < 0 || i >= data.shape[ax]) fail(n, "constant index out of range");
      }
      Shape out(data.shape.begin(), data.shape.begin() + ax);
      out.insert(out.end(), C(1).shape.begin(), C(1).shape.end());
      out.insert(out.end(), data.shape.begin() + ax + 1, data.shape.end());
      const int64_t irank = static_cast<int64_t>(C(1).shape.size());
      return gather_elems(data, out, [&](int64_t f) {
        auto oi = unravel(f, out);
        std::vector<int64_t> ii(oi.begin(), oi.begin() + ax);
        std::vector<int64_t> qi(oi.begin() + ax, oi.begin() + ax + irank);
        ii.push_back(idx[ravel(qi, C(1).shape)]);
        ii.insert(ii.end(), oi.begin() + ax + irank, oi.end());
        return ravel(ii, data.shape);
      });
    }
    if (op == "Slice") {
      const Constant& x = C(0);
      const int64_t rank = static_cast<int64_t>(x.shape.size());
      std::vector<int64_t> starts, ends, axes, steps;
      if (n.attrs.contains("starts")) {
        starts = n.attr_ints("starts", {}), ends = n.attr_ints("ends", {}), axes = n.attr_ints("axes", {});
      } else {
        starts = C(1).ints(), ends = C(2).ints();
        if (has(3)) axes = C(3).ints();
        if (has(4)) steps = C(4).ints();
      }
      if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
      if (steps.empty()) steps.assign(starts.size(), 1);
      Shape st(rank, 0), sp(rank, 1), out = x.shape;
      for (size_t i = 0; i < starts.size(); ++i) {
        int64_t a = norm_axis(axes[i], rank, n), dim = x.shape[a], s = starts[i], e = ends[i], k = steps[i];
        if (k == 0) fail(n, "slice step 0");
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        if (k > 0) s = std::clamp<int64_t>(s, 0, dim), e = std::clamp<int64_t>(e, 0, dim);
        else s = std::clamp<int64_t>(s, 0, dim - 1), e = std::clamp<int64_t>(e, -1, dim - 1);
        st[a] = s, sp[a] = k;
        out[a] = std::max<int64_t>(0, k > 0 ? (e - s + k - 1) / k : (s - e - k - 1) / (-k));
      }
      return gather_elems(x, out, [&](int64_t f) {
        auto oi = unravel(f, out);
        for (int64_t d = 0; d < rank; ++d) oi[d] = st[d] + oi[d] * sp[d];
        return ravel(oi, x.shape);
      });
    }
    if (op == "Expand") {
      Shape out = bcast(C(0).shape, C(1).ints(), n);
      return gather_elems(C(0), out, [&](int64_t f) { return bindex(out, C(0).shape, f); });
    }
    if (op == "ConstantOfShape") {
      Shape s = C(0).ints();
      const float v = n.attr_float("value", 0.f);   // ONNX default: float 0
      const std::string dt = n.attr_string("value_dtype", "f32");
      const int64_t cnt = std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<int64_t>());
      if (dt == "f32") return Constant::of_floats(s, std::vector<float>(cnt, v));
      DataType t = dt == "i64" ? DataType::i64 : dt == "s32" ? DataType::s32 : dt == "bool" ? DataType::boolean : DataType::u8;
      return from_ints(t, s, std::vector<int64_t>(cnt, static_cast<int64_t>(v)));
    }
    if (op == "Range") {
      if (C(0).dtype == DataType::f32) {
        float s = C(0).floats()[0], l = C(1).floats()[0], d = C(2).floats()[0];
        if (d == 0) fail(n, "Range delta is 0");
        int64_t cnt = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
        std::vector<float> v(cnt);
        for (int64_t i = 0; i < cnt; ++i) v[i] = s + i * d;
        return Constant::of_floats({cnt}, v);
      }
      int64_t s = C(0).ints()[0], l = C(1).ints()[0], d = C(2).ints()[0];
      if (d == 0) fail(n, "Range delta is 0");
      int64_t cnt = std::max<int64_t>(0, (l - s + d + (d > 0 ? -1 : 1)) / d);
      std::vector<int64_t> v(cnt);
      for (int64_t i = 0; i < cnt; ++i) v[i] = s + i * d;
      return from_ints(C(0).dtype, {cnt}, v);
    }
    static const char* kBinary[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "And", "Or"};
    if (std::find(std::begin(kBinary), std::end(kBinary), op) != std::end(kBinary)) {
      if (in.size() != 2) return std::nullopt;
      const Constant &a = C(0), &b = C(1);
      Shape out = bcast(a.shape, b.shape, n);
      const int64_t cnt = std::accumulate(out.begin(), out.end(), int64_t(1), std::multiplies<int64_t>());
      const bool cmp = op == "Equal" || op == "Less" || op == "Greater" || op == "And" || op == "Or";
      if (is_int(a.dtype) && is_int(b.dtype)) {
        auto av = a.ints(), bv = b.ints();
        std::vector<int64_t> r(cnt);
        for (int64_t i = 0; i < cnt; ++i) {
          int64_t x = av[bindex(out, a.shape, i)], y = bv[bindex(out, b.shape, i)];
          r[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : op == "Div" ? (y ? x / y : 0)
               : op == "Pow" ? static_cast<int64_t>(std::pow(static_cast<double>(x), static_cast<double>(y)))
               : op == "Max" ? std::max(x, y) : op == "Min" ? std::min(x, y) : op == "Equal" ? x == y
               : op == "Less" ? x < y : op == "Greater" ? x > y : op == "And" ? (x && y) : (x || y);
        }
        return from_ints(cmp ? DataType::boolean : a.dtype, out, r);
      }
      auto av = a.floats(), bv = b.floats();
      std::vector<float> r(cnt);
      for (int64_t i = 0; i < cnt; ++i) {
        float x = av[bindex(out, a.shape, i)], y = bv[bindex(out, b.shape, i)];
        r[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : op == "Div" ? x / y
             : op == "Pow" ? std::pow(x, y) : op == "Max" ? std::max(x, y) : op == "Min" ? std::min(x, y)
             : op == "Equal" ? x == y : op == "Less" ? x < y : op == "Greater" ? x > y : 0.f;
      }
      if (cmp) {
        std::vector<int64_t> ri(r.begin(), r.end());
        return from_ints(DataType::boolean, out, ri);
      }
      return Constant::of_floats(out, r);
    }
    static const char* kUnary[] = {"Neg", "Sqrt", "Reciprocal", "Exp", "Log", "Abs", "Relu", "Sigmoid", "Tanh", "Floor", "Ceil", "Not", "Erf"};
    if (std::find(std::begin(kUnary), std::end(kUnary), op) != std::end(kUnary)) {
      const Constant& a = C(0);
      if (is_int(a.dtype)) {
        auto v = a.ints();
        for (auto& x : v) x = op == "Neg" ? -x : op == "Abs" ? std::llabs(x) : op == "Relu" ? std::max<int64_t>(x, 0) : op == "Not" ? !x : x;
        if (op != "Neg" && op != "Abs" && op != "Relu" && op != "Not" && op != "Floor" && op != "Ceil") return std::nullopt;
        return from_ints(a.dtype, a.shape, v);
      }
      auto v = a.floats();
      for (auto& x : v)
        x = op == "Neg" ? -x : op == "Sqrt" ? std::sqrt(x) : op == "Reciprocal" ? 1.f / x : op == "Exp" ? std::exp(x)
          : op == "Log" ? std::log(x) : op == "Abs" ? std::fabs(x) : op == "Relu" ? std::max(x, 0.f)
          : op == "Sigmoid" ? 1.f / (1.f + std::exp(-x)) : op == "Tanh" ? std::tanh(x) : op == "Floor" ? std::floor(x)
          : op == "Ceil" ? std::ceil(x) : op == "Erf" ? std::erf(x) : x;
      return Constant::of_floats(a.shape, v);
    }
    if (op == "Where") {
      const Constant &c = C(0), &x = C(1), &y = C(2);
      Shape out = bcast(bcast(c.shape, x.shape, n), y.shape, n);
      auto cv = c.ints();
      Constant r = make(x.dtype, out);
      const size_t es = dtype_size(x.dtype);
      for (int64_t i = 0; i < r.elements(); ++i) {
        const Constant& src = cv[bindex(out, c.shape, i)] ? x : y;
        std::memcpy(r.bytes.data() + i * es, src.bytes.data() + bindex(out, src.shape, i) * es, es);
      }
      return r;
    }
    if (op == "DequantizeLinear") {
      // Pre-quantized (QDQ) weights are dequantized and quantized again by octet.
      const Constant& x = C(0);
      auto sc = C(1).floats();
      std::vector<int64_t> zp = has(2) ? C(2).ints() : std::vector<int64_t>(sc.size(), 0);
      int64_t axis = sc.size() > 1 ? norm_axis(n.attr_int("axis", 1), static_cast<int64_t>(x.shape.size()), n) : -1;
      int64_t inner = 1;
      if (axis >= 0) for (size_t d = axis + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
      auto xv = x.ints();
      std::vector<float> r(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        size_t ch = axis >= 0 ? (i / inner) % x.shape[axis] : 0;
        r[i] = sc[ch] * static_cast<float>(xv[i] - zp[ch]);
      }
      return Constant::of_floats(x.shape, r);
    }
    return std::nullopt;
  }

 public:
  // Whether target entry i, the run-time size `s`, is dim i of the Reshape's own input x (then
  // the target can say 0: copy it): the same tensor and dim, or a dim of another tensor with the
  // same symbolic name (attention reshapes [batch, seq, heads, d] of q computed from Shape(x)).
  bool copies_input_dim(const std::string& x, size_t i, const SymInt& s) const {
    if (s.tensor == x && s.dim == static_cast<int64_t>(i)) return true;
    if (s.tensor.empty() || s.dim < 0) return false;
    const IrTensor& a = g_.tensor(x);
    const IrTensor& b = g_.tensor(s.tensor);
    if (!a.shape_known || !b.shape_known || i >= a.shape.size() || s.dim >= static_cast<int64_t>(b.shape.size())) return false;
    const Dim& da = a.shape[i];
    const Dim& db = b.shape[static_cast<size_t>(s.dim)];
    return !da.is_fixed() && !da.symbol.empty() && da.symbol == db.symbol;
  }

  // Reshape targets given as shape expressions become constants with 0 / -1. A target that names
  // two run-time sizes can only say 0 (copy) for them once the Reshape's input shape is known,
  // which may need the reshapes before it: resolve what can be, infer shapes again, repeat.
  void resolve_reshapes() {
    for (;;) {
      const Node* pending = nullptr;
      bool progress = false;
      for (Node& n : g_.nodes) {
        if ((n.op != "Reshape" && n.op != "Expand") || n.inputs.size() < 2) continue;
        auto it = sym_.find(n.inputs[1]);
        if (it == sym_.end() || g_.constant(n.inputs[1])) continue;
        const SymVec& v = it->second;
        if (n.op == "Expand") {
          // Expand to a shape made of the input's own dims (or 1) is a no-op broadcast: use 1s.
          std::vector<int64_t> shape;
          for (const SymInt& s : v) shape.push_back(s.known ? s.value : 1);
          n.inputs[1] = g_.add_constant(n.name + "_shape", Constant::of_ints({static_cast<int64_t>(shape.size())}, shape));
          progress = true;
          continue;
        }
        std::vector<int64_t> target;
        int unknown = 0;
        for (size_t i = 0; i < v.size(); ++i) {
          const SymInt& s = v[i];
          if (s.known) target.push_back(s.value);
          else if (copies_input_dim(n.inputs[0], i, s)) target.push_back(0);
          else target.push_back(-1), ++unknown;
        }
        if (unknown > 1) {
          if (!pending) pending = &n;
          continue;
        }
        n.inputs[1] = g_.add_constant(n.name + "_shape", Constant::of_ints({static_cast<int64_t>(target.size())}, target));
        stats_.add("shape computations folded into Reshape");
        progress = true;
      }
      if (!pending) return;
      if (!progress)
        fail(*pending, "the target shape depends on run-time sizes in a way octet cannot express (more than one unknown dimension)");
      infer_shapes(g_);
    }
  }

  // Zero fills given as the initial state of a recurrent node become omitted inputs.
  void drop_zero_initial_states() {
    for (Node& n : g_.nodes) {
      if (n.op != "LSTM" && n.op != "GRU" && n.op != "RNN") continue;
      for (size_t i : {size_t(5), size_t(6)}) {
        if (i >= n.inputs.size() || (i == 6 && n.op != "LSTM")) continue;
        auto it = fill_.find(n.inputs[i]);
        if (it == fill_.end() || it->second.value != 0.f) continue;
        n.inputs[i].clear();
        stats_.add("run-time-shaped zero initial states dropped (" + n.op + ")");
      }
    }
  }

  bool leftover(const std::string& t) const { return sym_.count(t) > 0; }
  const Fill* leftover_fill(const std::string& t) const {
    auto it = fill_.find(t);
    return it == fill_.end() ? nullptr : &it->second;
  }
};

}  // namespace

void fold_constants(Graph& g, PassStats& stats) {
  Folder f(g, stats);
  f.run();
  f.resolve_reshapes();
  f.drop_zero_initial_states();
  for (const Node& n : g.nodes)
    for (const auto& in : n.inputs) {
      if (const Fill* fill = f.leftover_fill(in))
        fail(n, "uses '" + in + "', a constant fill whose shape is computed at run time (from ConstantOfShape '" +
                    fill->source + "'); octet folds these only as the zero initial state of LSTM/GRU/RNN");
      if (f.leftover(in))
        fail(n, "uses a run-time shape computation ('" + in + "') that octet cannot fold; export the model with static shapes or a simpler reshape");
    }
  g.remove_dead();
}

}  // namespace octet::converter
