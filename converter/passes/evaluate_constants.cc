// Constant evaluation (evaluate_constants.h): one evaluator per op, on f32 and integer data.
#include "passes/evaluate_constants.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>

#include "ops/op_traits.h"
#include "reference/unary_value.h"

namespace octet::converter {

namespace {

using Shape = std::vector<int64_t>;
using Inputs = std::vector<const Constant*>;
using Evaluator = std::optional<Constant> (*)(const Node& n, const Inputs& in);

const Constant& C(const Inputs& in, size_t i) { return *in.at(i); }
bool has(const Inputs& in, size_t i) { return i < in.size() && in[i]; }

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

// The flat index into a broadcast input `in` of output element `flat`.
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

// ---- data movement ------------------------------------------------------------------------
std::optional<Constant> identity(const Node&, const Inputs& in) { return C(in, 0); }

std::optional<Constant> reshape(const Node& n, const Inputs& in) {
  Shape target = C(in, 1).ints(), out(target.size());
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) { infer = static_cast<int64_t>(i); continue; }
    out[i] = target[i] == 0 && !n.attr_int("allowzero", 0) ? C(in, 0).shape.at(i) : target[i];
    known *= out[i];
  }
  if (infer >= 0) out[infer] = known ? C(in, 0).elements() / known : 0;
  Constant c = C(in, 0);
  c.shape = out;
  if (c.elements() != C(in, 0).elements()) fail(n, "cannot reshape constant");
  return c;
}

std::optional<Constant> flatten(const Node& n, const Inputs& in) {
  int64_t ax = n.attr_int("axis", 1);
  if (ax < 0) ax += static_cast<int64_t>(C(in, 0).shape.size());
  int64_t a = 1;
  for (int64_t i = 0; i < ax; ++i) a *= C(in, 0).shape[i];
  Constant c = C(in, 0);
  c.shape = {a, a ? c.elements() / a : 0};
  return c;
}

std::optional<Constant> squeeze_unsqueeze(const Node& n, const Inputs& in) {
  std::vector<int64_t> axes = n.attrs.contains("axes") ? n.attr_ints("axes", {}) : (has(in, 1) ? C(in, 1).ints() : std::vector<int64_t>{});
  Constant c = C(in, 0);
  Shape s = c.shape, out;
  if (n.op == "Squeeze") {
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

std::optional<Constant> transpose(const Node& n, const Inputs& in) {
  const Shape& s = C(in, 0).shape;
  std::vector<int64_t> perm = n.attr_ints("perm", {});
  if (perm.empty()) for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) perm.push_back(i);
  Shape out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[perm[i]];
  return gather_elems(C(in, 0), out, [&](int64_t f) {
    auto oi = unravel(f, out);
    std::vector<int64_t> ii(s.size());
    for (size_t k = 0; k < s.size(); ++k) ii[perm[k]] = oi[k];
    return ravel(ii, s);
  });
}

std::optional<Constant> concat(const Node& n, const Inputs& in) {
  std::vector<const Constant*> parts;
  for (size_t i = 0; i < in.size(); ++i) if (has(in, i)) parts.push_back(in[i]);
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

std::optional<Constant> gather(const Node& n, const Inputs& in) {
  const Constant& data = C(in, 0);
  const int64_t rank = static_cast<int64_t>(data.shape.size());
  if (rank == 0) return std::nullopt;
  int64_t ax = norm_axis(n.attr_int("axis", 0), rank, n);
  std::vector<int64_t> idx = C(in, 1).ints();
  for (auto& i : idx) {
    if (i < 0) i += data.shape[ax];
    if (i < 0 || i >= data.shape[ax]) fail(n, "constant index out of range");
  }
  Shape out(data.shape.begin(), data.shape.begin() + ax);
  out.insert(out.end(), C(in, 1).shape.begin(), C(in, 1).shape.end());
  out.insert(out.end(), data.shape.begin() + ax + 1, data.shape.end());
  const int64_t irank = static_cast<int64_t>(C(in, 1).shape.size());
  return gather_elems(data, out, [&](int64_t f) {
    auto oi = unravel(f, out);
    std::vector<int64_t> ii(oi.begin(), oi.begin() + ax);
    std::vector<int64_t> qi(oi.begin() + ax, oi.begin() + ax + irank);
    ii.push_back(idx[ravel(qi, C(in, 1).shape)]);
    ii.insert(ii.end(), oi.begin() + ax + irank, oi.end());
    return ravel(ii, data.shape);
  });
}

std::optional<Constant> slice(const Node& n, const Inputs& in) {
  const Constant& x = C(in, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.attrs.contains("starts")) {
    starts = n.attr_ints("starts", {}), ends = n.attr_ints("ends", {}), axes = n.attr_ints("axes", {});
  } else {
    starts = C(in, 1).ints(), ends = C(in, 2).ints();
    if (has(in, 3)) axes = C(in, 3).ints();
    if (has(in, 4)) steps = C(in, 4).ints();
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

std::optional<Constant> expand(const Node& n, const Inputs& in) {
  Shape out = bcast(C(in, 0).shape, C(in, 1).ints(), n);
  return gather_elems(C(in, 0), out, [&](int64_t f) { return bindex(out, C(in, 0).shape, f); });
}

std::optional<Constant> where(const Node& n, const Inputs& in) {
  const Constant &c = C(in, 0), &x = C(in, 1), &y = C(in, 2);
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

// ---- generators and conversions -----------------------------------------------------------
std::optional<Constant> cast(const Node& n, const Inputs& in) {
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
  if (to == DataType::f32) return Constant::of_floats(C(in, 0).shape, C(in, 0).floats());
  if (C(in, 0).dtype == DataType::f32) return from_floats(to, C(in, 0).shape, C(in, 0).floats());
  return from_ints(to, C(in, 0).shape, C(in, 0).ints());
}

std::optional<Constant> constant_of_shape(const Node& n, const Inputs& in) {
  Shape s = C(in, 0).ints();
  const float v = n.attr_float("value", 0.f);   // ONNX default: float 0
  const std::string dt = n.attr_string("value_dtype", "f32");
  const int64_t cnt = std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<int64_t>());
  if (dt == "f32") return Constant::of_floats(s, std::vector<float>(cnt, v));
  DataType t = dt == "i64" ? DataType::i64 : dt == "s32" ? DataType::s32 : dt == "bool" ? DataType::boolean : DataType::u8;
  return from_ints(t, s, std::vector<int64_t>(cnt, static_cast<int64_t>(v)));
}

std::optional<Constant> range(const Node& n, const Inputs& in) {
  if (C(in, 0).dtype == DataType::f32) {
    float s = C(in, 0).floats()[0], l = C(in, 1).floats()[0], d = C(in, 2).floats()[0];
    if (d == 0) fail(n, "Range delta is 0");
    int64_t cnt = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
    std::vector<float> v(cnt);
    for (int64_t i = 0; i < cnt; ++i) v[i] = s + i * d;
    return Constant::of_floats({cnt}, v);
  }
  int64_t s = C(in, 0).ints()[0], l = C(in, 1).ints()[0], d = C(in, 2).ints()[0];
  if (d == 0) fail(n, "Range delta is 0");
  int64_t cnt = std::max<int64_t>(0, (l - s + d + (d > 0 ? -1 : 1)) / d);
  std::vector<int64_t> v(cnt);
  for (int64_t i = 0; i < cnt; ++i) v[i] = s + i * d;
  return from_ints(C(in, 0).dtype, {cnt}, v);
}

// Pre-quantized (QDQ) weights are dequantized and quantized again by octet.
std::optional<Constant> dequantize_linear(const Node& n, const Inputs& in) {
  const Constant& x = C(in, 0);
  auto sc = C(in, 1).floats();
  std::vector<int64_t> zp = has(in, 2) ? C(in, 2).ints() : std::vector<int64_t>(sc.size(), 0);
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

// ---- arithmetic -----------------------------------------------------------------------------
// ONNX's binary arithmetic, comparisons and logic (integer data stays integer).
std::optional<Constant> binary(const Node& n, const Inputs& in) {
  const std::string& op = n.op;
  if (in.size() != 2) return std::nullopt;
  const Constant &a = C(in, 0), &b = C(in, 1);
  Shape out = bcast(a.shape, b.shape, n);
  const int64_t cnt = std::accumulate(out.begin(), out.end(), int64_t(1), std::multiplies<int64_t>());
  const bool cmp = op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" || op == "GreaterOrEqual" ||
                   op == "And" || op == "Or" || op == "Xor";
  const bool fmod = n.attr_int("fmod", 0) != 0;
  if (is_int(a.dtype) && is_int(b.dtype)) {
    auto av = a.ints(), bv = b.ints();
    std::vector<int64_t> r(cnt);
    for (int64_t i = 0; i < cnt; ++i) {
      int64_t x = av[bindex(out, a.shape, i)], y = bv[bindex(out, b.shape, i)];
      if ((op == "Div" || op == "Mod") && y == -1) {   // lowest / -1 would trap
        r[i] = op == "Div" ? static_cast<int64_t>(0 - static_cast<uint64_t>(x)) : 0;
        continue;
      }
      r[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : op == "Div" ? (y ? x / y : 0)
           : op == "Pow" ? static_cast<int64_t>(std::pow(static_cast<double>(x), static_cast<double>(y)))
           : op == "Max" ? std::max(x, y) : op == "Min" ? std::min(x, y) : op == "Equal" ? x == y
           : op == "Less" ? x < y : op == "Greater" ? x > y : op == "LessOrEqual" ? x <= y : op == "GreaterOrEqual" ? x >= y
           : op == "And" ? (x && y) : op == "Or" ? (x || y) : op == "Xor" ? (!x != !y)
           : op == "Mod" ? (y == 0 ? 0 : x % y != 0 && !fmod && ((x % y < 0) != (y < 0)) ? x % y + y : x % y) : 0;
    }
    return from_ints(cmp ? DataType::boolean : a.dtype, out, r);
  }
  auto av = a.floats(), bv = b.floats();
  std::vector<float> r(cnt);
  for (int64_t i = 0; i < cnt; ++i) {
    float x = av[bindex(out, a.shape, i)], y = bv[bindex(out, b.shape, i)];
    r[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : op == "Div" ? x / y
         : op == "Pow" ? std::pow(x, y) : op == "Max" ? std::max(x, y) : op == "Min" ? std::min(x, y)
         : op == "Equal" ? x == y : op == "Less" ? x < y : op == "Greater" ? x > y : op == "LessOrEqual" ? x <= y
         : op == "GreaterOrEqual" ? x >= y : op == "Mod" ? std::fmod(x, y) : 0.f;
  }
  if (cmp) {
    std::vector<int64_t> ri(r.begin(), r.end());
    return from_ints(DataType::boolean, out, ri);
  }
  return Constant::of_floats(out, r);
}

// A unary op on integer data (index arithmetic): the ones that keep integers integers.
std::optional<Constant> unary_int(const Node& n, const Constant& a) {
  const std::string& op = n.op;
  if (op != "Neg" && op != "Abs" && op != "Relu" && op != "Not" && op != "Floor" && op != "Ceil" && op != "Round" && op != "Sign")
    return std::nullopt;
  auto v = a.ints();
  for (auto& x : v)
    x = op == "Neg" ? -x : op == "Abs" ? std::llabs(x) : op == "Relu" ? std::max<int64_t>(x, 0) : op == "Not" ? !x
      : op == "Sign" ? (x > 0) - (x < 0) : x;
  return from_ints(a.dtype, a.shape, v);
}

// A unary op of the op table, with the reference kernel's function. Before lowering only the
// ops whose ONNX form is the octet op (onnx form Same); the others have ONNX attributes or
// inputs of their own (Clip's bounds) and fold once lowered.
std::optional<Constant> octet_unary(const Node& n, const Inputs& in, OpKind op) {
  if (!n.lowered && op_traits(op).onnx != OnnxForm::Same) return std::nullopt;
  if (ref::unary_gives_bool(op)) return std::nullopt;   // left to run: not worth a boolean constant path
  const Constant& a = C(in, 0);
  if (is_int(a.dtype)) return unary_int(n, a);
  const ref::UnaryParams p = ref::unary_params(op, Attrs(n.attrs, n.name));
  auto v = a.floats();
  for (auto& x : v) x = ref::unary_value(op, x, p);
  return Constant::of_floats(a.shape, v);
}

const std::map<std::string, Evaluator>& evaluators() {
  static const std::map<std::string, Evaluator> k = {
      {"Identity", identity}, {"Reshape", reshape}, {"Flatten", flatten}, {"Squeeze", squeeze_unsqueeze},
      {"Unsqueeze", squeeze_unsqueeze}, {"Transpose", transpose}, {"Concat", concat}, {"Gather", gather},
      {"Slice", slice}, {"Expand", expand}, {"Where", where}, {"Cast", cast}, {"ConstantOfShape", constant_of_shape},
      {"Range", range}, {"DequantizeLinear", dequantize_linear},
      {"Add", binary}, {"Sub", binary}, {"Mul", binary}, {"Div", binary}, {"Pow", binary}, {"Max", binary},
      {"Min", binary}, {"Equal", binary}, {"Less", binary}, {"Greater", binary}, {"And", binary}, {"Or", binary},
      {"GreaterOrEqual", binary}, {"LessOrEqual", binary}, {"Xor", binary}, {"Mod", binary},
  };
  return k;
}

// Lowered nodes (after lower_ops) carry octet's attributes: the ONNX evaluators above read them
// only for ops whose lowered form is the ONNX one (Reshape, Slice, Squeeze, Expand, Cast... moved
// operands into attributes or renamed them, so they are not folded once lowered).
bool onnx_form_when_lowered(const std::string& op) {
  static const char* k[] = {"Transpose", "Concat", "Gather", "Where", "Flatten", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min",
                            "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod"};
  return std::find(std::begin(k), std::end(k), op) != std::end(k);
}

}  // namespace

std::optional<Constant> evaluate_constant(const Node& n, const std::vector<const Constant*>& in) {
  auto it = evaluators().find(n.op);
  if (it != evaluators().end() && n.lowered && !onnx_form_when_lowered(n.op)) return std::nullopt;
  if (it != evaluators().end()) return it->second(n, in);
  OpKind op;
  if (op_from_name(n.op, &op) && op_traits(op).family == OpFamily::Unary) return octet_unary(n, in, op);
  return std::nullopt;
}

}  // namespace octet::converter
