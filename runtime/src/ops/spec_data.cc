// Data movement ops (Concat, Split, Slice, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Pad,
// Resize, Gather, Expand, Tile, Cast, Where): validation and shape inference.
#include <algorithm>
#include <cmath>
#include <set>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

bool parse_dtype_name(const std::string& s, DT* t) {
  for (DT d : {DT::f32, DT::u8, DT::s8, DT::s32, DT::i64, DT::boolean})
    if (s == dtype_name(d)) return (*t = d), true;
  return false;
}

// Ops that only move or copy elements: output dtype and quantization equal input 0's.
void validate_move(const NodeDef& n, const detail::ModelData& m) {
  if (n.activation.kind != ActKind::None) node_error(n, "cannot carry a fused activation");
  if (n.precision == Precision::Int8Dynamic) node_error(n, "has no dynamic int8 form");
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    if (n.outputs[o] < 0) continue;   // an omitted optional output (Split)
    expect_same_dtype(n, m, 0, o);
    expect_same_quant(n, m, 0, o);
  }
  switch (n.op) {
    case OpKind::Slice: parse_slice(n); break;
    case OpKind::Resize: {
      ResizeParams p = parse_resize(n);
      if (p.mode != "nearest" && !(m.tensor(n.inputs[0]).dtype == DT::f32 || is_quantized(m.tensor(n.inputs[0]).dtype)))
        node_error(n, p.mode + " resize needs f32 or 8-bit input");
      break;
    }
    case OpKind::Pad: {
      auto mode = n.attrs.get_string("mode", "constant");
      if (mode != "constant" && mode != "reflect" && mode != "edge") n.attrs.fail("mode", "must be constant, reflect or edge");
      n.attrs.get_ints("pads");
      n.attrs.get_float("value", 0.f);
      break;
    }
    case OpKind::Gather: expect_dtype(n, m, 1, {DT::s32, DT::i64}, "indices"); break;
    case OpKind::Transpose: n.attrs.get_ints("perm", {}); break;
    case OpKind::Reshape: n.attrs.get_ints("shape"); break;
    case OpKind::Expand: n.attrs.get_ints("shape"); break;
    case OpKind::Tile:
      for (int64_t r : n.attrs.get_ints("repeats"))
        if (r < 0) n.attrs.fail("repeats", "must not be negative");
      break;
    case OpKind::Unsqueeze: n.attrs.get_ints("axes"); break;
    default: break;
  }
}

void validate_concat(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis");
  if (n.precision == Precision::Int8Dynamic) node_error(n, "has no dynamic int8 form");
  const DT t = m.tensor(n.outputs[0]).dtype;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) node_error(n, "inputs cannot be omitted");
    if (m.tensor(n.inputs[i]).dtype != t) node_error(n, "input '" + m.tensor(n.inputs[i]).name + "' has a different dtype than the output");
    if (is_quantized(t)) expect_per_tensor(n, m.tensor(n.inputs[i]));
  }
}

void validate_split(const NodeDef& n, const detail::ModelData& m) {
  n.attrs.get_int("axis", 0);
  auto split = n.attrs.get_ints("split", {});
  if (!split.empty() && split.size() != n.outputs.size()) n.attrs.fail("split", "must have one size per output");
  for (int64_t s : split) if (s < 0) n.attrs.fail("split", "sizes must not be negative");
  validate_move(n, m);
}

void validate_cast(const NodeDef& n, const detail::ModelData& m) {
  DT to;
  if (!parse_dtype_name(n.attrs.get_string("to", ""), &to)) n.attrs.fail("to", "must name a dtype (f32, s32, i64, ...)");
  if (m.tensor(n.outputs[0]).dtype != to) node_error(n, "output dtype differs from attribute 'to'");
  if (is_quantized(to) || is_quantized(m.tensor(n.inputs[0]).dtype))
    node_error(n, "Cast does not convert 8-bit quantized tensors; use QuantizeLinear/DequantizeLinear");
}

void validate_where(const NodeDef& n, const detail::ModelData& m) {
  expect_dtype(n, m, 0, {DT::boolean}, "condition");
  if (m.tensor(n.inputs[1]).dtype != m.tensor(n.inputs[2]).dtype) node_error(n, "X and Y must have the same dtype");
  if (m.tensor(n.outputs[0]).dtype != m.tensor(n.inputs[1]).dtype) node_error(n, "output dtype must match X");
  if (is_quantized(m.tensor(n.inputs[1]).dtype)) node_error(n, "Where does not take quantized inputs");
}

void infer_concat(InferCtx& c) {
  const Shape& first = c.input(0);
  int64_t ax = normalize_axis(c.node.attrs.get_int("axis"), static_cast<int64_t>(first.size()), c.node);
  Shape out = first;
  out[ax] = 0;
  for (size_t i = 0; i < c.in.size(); ++i) {
    const Shape& s = c.input(i);
    if (s.size() != first.size()) c.fail("inputs have different ranks");
    for (size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != ax && s[d] != first[d])
        c.fail("input " + std::to_string(i) + " shape " + shape_str(s) + " does not match " + shape_str(first) + " outside axis " + std::to_string(ax));
    out[ax] += s[ax];
  }
  c.out = {out};
}

void infer_split(InferCtx& c) {
  const Shape& x = c.input(0);
  int64_t ax = normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(x.size()), c.node);
  auto split = c.node.attrs.get_ints("split", {});
  const int64_t n = static_cast<int64_t>(c.node.outputs.size());
  if (split.empty()) {
    // ONNX 18 semantics: equal parts, the last one smaller if it does not divide.
    int64_t part = (x[ax] + n - 1) / n;
    for (int64_t i = 0; i < n; ++i) split.push_back(std::max<int64_t>(0, std::min(part, x[ax] - i * part)));
  }
  int64_t total = 0;
  for (int64_t s : split) total += s;
  if (total != x[ax]) c.fail("split sizes add up to " + std::to_string(total) + ", axis has " + std::to_string(x[ax]));
  c.out.clear();
  for (int64_t s : split) {
    Shape o = x;
    o[ax] = s;
    c.out.push_back(o);
  }
}

void infer_slice(InferCtx& c) {
  SliceDims d = resolve_slice(parse_slice(c.node), c.input(0), c.node);
  c.out = {d.count};
}

Shape reshape_shape(const Shape& x, const std::vector<int64_t>& spec, bool allowzero, const InferCtx& c) {
  Shape out(spec.size());
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t v = spec[i];
    if (v == -1) {
      if (infer_at >= 0) c.fail("shape has more than one -1");
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (v == 0 && !allowzero) {
      if (i >= x.size()) c.fail("shape copies dimension " + std::to_string(i) + " that the input " + shape_str(x) + " lacks");
      v = x[i];
    }
    if (v < 0) c.fail("shape has a negative dimension");
    out[i] = v;
    known *= v;
  }
  const int64_t total = shape_elements(x);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) c.fail("cannot reshape " + shape_str(x) + " into " + shape_str(spec));
    out[infer_at] = total / known;
  } else if (known != total) {
    c.fail("cannot reshape " + shape_str(x) + " (" + std::to_string(total) + " elements) into " + shape_str(out));
  }
  return out;
}

void infer_reshape(InferCtx& c) {
  c.out = {reshape_shape(c.input(0), c.node.attrs.get_ints("shape"), c.node.attrs.get_int("allowzero", 0) != 0, c)};
}

void infer_flatten(InferCtx& c) {
  const Shape& x = c.input(0);
  // ONNX: axis in [-r, r], a negative one counting from the back (-1 is r - 1, not r).
  const int64_t r = static_cast<int64_t>(x.size());
  int64_t ax = c.node.attrs.get_int("axis", 1);
  if (ax < 0) ax += r;
  if (ax < 0 || ax > r) c.fail("axis " + std::to_string(c.node.attrs.get_int("axis", 1)) + " is out of range for rank " + std::to_string(r));
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) (i < ax ? a : b) *= x[i];
  c.out = {{a, b}};
}

void infer_transpose(InferCtx& c) {
  const Shape& x = c.input(0);
  auto perm = c.node.attrs.get_ints("perm", {});
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(x.size()) - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != x.size()) c.fail("perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(x.size()));
  std::vector<bool> seen(x.size(), false);
  Shape out(x.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(x.size()) || seen[perm[i]]) c.fail("perm is not a permutation");
    seen[perm[i]] = true;
    out[i] = x[perm[i]];
  }
  c.out = {out};
}

void infer_squeeze(InferCtx& c) {
  const Shape& x = c.input(0);
  auto axes = c.node.attrs.get_ints("axes", {});
  std::set<int64_t> drop;
  for (int64_t a : axes) drop.insert(normalize_axis(a, static_cast<int64_t>(x.size()), c.node));
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    bool d = axes.empty() ? x[i] == 1 : drop.count(i) > 0;
    if (d && x[i] != 1) c.fail("cannot squeeze dimension " + std::to_string(i) + " of size " + std::to_string(x[i]));
    if (!d) out.push_back(x[i]);
  }
  c.out = {out};
}

void infer_unsqueeze(InferCtx& c) {
  const Shape& x = c.input(0);
  auto axes = c.node.attrs.get_ints("axes");
  const int64_t r = static_cast<int64_t>(x.size() + axes.size());
  std::set<int64_t> ins;
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, r, c.node);
    if (!ins.insert(n).second) c.fail("axes repeat");
  }
  Shape out;
  size_t j = 0;
  for (int64_t i = 0; i < r; ++i) out.push_back(ins.count(i) ? 1 : x[j++]);
  c.out = {out};
}

void infer_pad(InferCtx& c) {
  const Shape& x = c.input(0);
  auto pads = c.node.attrs.get_ints("pads");
  if (pads.size() != 2 * x.size()) c.fail("pads must have 2 x rank = " + std::to_string(2 * x.size()) + " values");
  Shape out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    out[i] = x[i] + pads[i] + pads[i + x.size()];
    if (out[i] < 0) c.fail("pads remove more than dimension " + std::to_string(i) + " has");
  }
  if (c.node.attrs.get_string("mode", "constant") == "reflect")
    for (size_t i = 0; i < x.size(); ++i)
      if (pads[i] >= x[i] || pads[i + x.size()] >= x[i]) c.fail("reflect padding must be smaller than the dimension");
  c.out = {out};
}

void infer_resize(InferCtx& c) {
  const Shape& x = c.input(0);
  ResizeParams p = parse_resize(c.node);
  Shape out(x.size());
  if (!p.sizes.empty()) {
    if (p.sizes.size() != x.size()) c.fail("sizes must have one value per dimension");
    out = p.sizes;
  } else {
    if (p.scales.size() != x.size()) c.fail("scales must have one value per dimension");
    for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<int64_t>(std::floor(static_cast<double>(x[i]) * p.scales[i]));
  }
  for (int64_t d : out) if (d < 1) c.fail("output would be empty");
  c.out = {out};
}

void infer_gather(InferCtx& c) {
  const Shape& x = c.input(0);
  const Shape& idx = c.input(1);
  int64_t ax = normalize_axis(c.node.attrs.get_int("axis", 0), static_cast<int64_t>(x.size()), c.node);
  Shape out(x.begin(), x.begin() + ax);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.begin() + ax + 1, x.end());
  c.out = {out};
}

void infer_expand(InferCtx& c) {
  Shape out;
  auto target = c.node.attrs.get_ints("shape");
  if (!broadcast_shapes(c.input(0), target, &out)) c.fail("cannot expand " + shape_str(c.input(0)) + " to " + shape_str(target));
  c.out = {out};
}

void infer_tile(InferCtx& c) {
  const Shape& x = c.input(0);
  auto reps = c.node.attrs.get_ints("repeats");
  if (reps.size() != x.size()) c.fail("repeats has " + std::to_string(reps.size()) + " values for rank " + std::to_string(x.size()));
  Shape out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * reps[i];
  c.out = {out};
}

void infer_where(InferCtx& c) {
  Shape a, b;
  if (!broadcast_shapes(c.input(0), c.input(1), &a) || !broadcast_shapes(a, c.input(2), &b))
    c.fail("condition, X and Y do not broadcast");
  c.out = {b};
}

void infer_same(InferCtx& c) { c.out = {c.input(0)}; }
}  // namespace

const OpSpec kConcatSpec{validate_concat, infer_concat};
const OpSpec kSplitSpec{validate_split, infer_split};
const OpSpec kSliceSpec{validate_move, infer_slice};
const OpSpec kReshapeSpec{validate_move, infer_reshape};
const OpSpec kFlattenSpec{validate_move, infer_flatten};
const OpSpec kTransposeSpec{validate_move, infer_transpose};
const OpSpec kSqueezeSpec{validate_move, infer_squeeze};
const OpSpec kUnsqueezeSpec{validate_move, infer_unsqueeze};
const OpSpec kPadSpec{validate_move, infer_pad};
const OpSpec kResizeSpec{validate_move, infer_resize};
const OpSpec kGatherSpec{validate_move, infer_gather};
const OpSpec kExpandSpec{validate_move, infer_expand};
const OpSpec kTileSpec{validate_move, infer_tile};
const OpSpec kCastSpec{validate_cast, infer_same};
const OpSpec kWhereSpec{validate_where, infer_where};

}  // namespace octet
