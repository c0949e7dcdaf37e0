// export-qdq, data movement: Transpose (octet's layout transposes vanish), Concat, Reshape,
// Flatten, Squeeze, Unsqueeze, Slice, Split, Gather, Expand (on the 8-bit codes where octet moves
// codes), Pad, Resize, Cast; Where is elementwise (export_binary).
#include "qdq/op_exporters.h"

namespace octet::qdq {

namespace {

void transpose(QdqGraph& g, const NodeDef& n) {
  auto perm = n.attrs.get_ints("perm");
  int x = g.in(0), y = g.out(0);
  Val v = g.value(x);
  if (perm == std::vector<int64_t>{0, 2, 3, 1} && !v.nchw && g.same_quant(x, y) && g.T(x).dtype == g.T(y).dtype)
    return g.alias(y, v.name, true);   // octet's to-NHWC: ONNX keeps NCHW
  if (perm == std::vector<int64_t>{0, 3, 1, 2} && v.nchw && g.same_quant(x, y) && g.T(x).dtype == g.T(y).dtype)
    return g.alias(y, v.name, false);   // and back
  std::string xi = g.octet_layout(x);
  if (!g.same_quant(x, y)) xi = g.fin(x, false);
  onnx::NodeProto* nd;
  std::string o = g.op1("Transpose", {xi}, g.T(y).name, &nd);
  attr_is(nd, "perm", perm);
  if (!g.same_quant(x, y)) g.finish(o, y, false);
  else g.alias(y, o, false);
}

void concat(QdqGraph& g, const NodeDef& n) {
  int rank = (int)g.T(g.out(0)).shape.size();
  int64_t axis = n.attrs.get_int("axis");
  if (axis < 0) axis += rank;
  bool all_nchw = rank == 4;
  for (int t : n.inputs)
    if (g.T(t).is_constant() || !g.value(t).nchw) all_nchw = false;
  std::vector<std::string> ins;
  for (int t : n.inputs) ins.push_back(g.fin(t, all_nchw));
  onnx::NodeProto* nd;
  std::string o = g.op1("Concat", ins, g.T(g.out(0)).name + "_concat", &nd);
  attr_i(nd, "axis", all_nchw ? kToNchwAxis[axis] : axis);
  g.finish(o, g.out(0), all_nchw);
}

// Ops that move codes (same quant in octet): applied to the 8-bit tensor directly.
void data_movement(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  bool codes = is8(g.T(x).dtype) && is8(g.T(y).dtype);
  for (int t : n.outputs)
    if (t >= 0 && codes && !g.same_quant(x, t)) codes = false;
  Val v = g.value(x);
  // An NCHW tensor with H = W = 1 has the same element order as its NHWC form.
  bool hw1 = v.nchw && g.T(x).shape.size() == 4 && g.T(x).shape[1] == 1 && g.T(x).shape[2] == 1;
  bool keep_nchw = false;
  if (hw1 && n.op == OpKind::Reshape) {
    auto shape = n.attrs.get_ints("shape");
    keep_nchw = true;
    for (size_t i = 1; i < shape.size(); ++i)
      if (shape[i] == 0) keep_nchw = false;
  }
  if (hw1 && n.op == OpKind::Flatten) {
    int64_t a = n.attrs.get_int("axis", 1);
    keep_nchw = a == 0 || a == 1 || a == 4 || a == -3 || a == -4;
  }
  std::string xi = keep_nchw ? v.name : (codes ? g.octet_layout(x) : g.fin(x, false));
  std::string base = g.T(y).name;
  onnx::NodeProto* nd;
  std::vector<std::string> outs;
  switch (n.op) {
    case OpKind::Reshape: {
      if (n.attrs.get_int("allowzero", 0)) g.refuse("Reshape allowzero=1 needs opset 14");
      outs.push_back(g.op1("Reshape", {xi, g.init_i64(base + "_shape", n.attrs.get_ints("shape"))}, base + "_reshape"));
      break;
    }
    case OpKind::Flatten:
      outs.push_back(g.op1("Flatten", {xi}, base + "_flatten", &nd));
      attr_i(nd, "axis", n.attrs.get_int("axis", 1));
      break;
    case OpKind::Squeeze:
    case OpKind::Unsqueeze: {
      std::vector<std::string> ins = {xi};
      if (n.attrs.has("axes")) ins.push_back(g.init_i64(base + "_axes", n.attrs.get_ints("axes")));
      outs.push_back(g.op1(op_name(n.op), ins, base + "_" + op_name(n.op)));
      break;
    }
    case OpKind::Slice: {
      std::vector<std::string> ins = {xi, g.init_i64(base + "_starts", n.attrs.get_ints("starts")),
                                      g.init_i64(base + "_ends", n.attrs.get_ints("ends"))};
      if (n.attrs.has("axes") || n.attrs.has("steps")) {
        std::vector<int64_t> axes = n.attrs.get_ints("axes", {});
        if (axes.empty())
          for (size_t i = 0; i < n.attrs.get_ints("starts").size(); ++i) axes.push_back((int64_t)i);
        ins.push_back(g.init_i64(base + "_axes", axes));
        if (n.attrs.has("steps")) ins.push_back(g.init_i64(base + "_steps", n.attrs.get_ints("steps")));
      }
      outs.push_back(g.op1("Slice", ins, base + "_slice"));
      break;
    }
    case OpKind::Split: {
      std::vector<std::string> ins = {xi};
      if (n.attrs.has("split")) ins.push_back(g.init_i64(base + "_split", n.attrs.get_ints("split")));
      std::vector<std::string> os;
      for (int t : n.outputs) os.push_back(g.fresh(t >= 0 ? g.T(t).name + (codes ? "" : "_f") : base + "_unused"));
      nd = g.add_node("Split", ins, os, base + "_Split");
      attr_i(nd, "axis", n.attrs.get_int("axis", 0));
      outs = os;
      break;
    }
    case OpKind::Gather: {
      std::string idx = g.octet_layout(g.in(1));
      outs.push_back(g.op1("Gather", {xi, idx}, base + "_gather", &nd));
      attr_i(nd, "axis", n.attrs.get_int("axis", 0));
      break;
    }
    case OpKind::Expand:
      outs.push_back(g.op1("Expand", {xi, g.init_i64(base + "_shape", n.attrs.get_ints("shape"))}, base + "_expand"));
      break;
    default: g.refuse("internal: not a data movement op");
  }
  for (size_t i = 0; i < outs.size() && i < n.outputs.size(); ++i) {
    int t = n.outputs[i];
    if (t < 0) continue;
    if (codes || !is8(g.T(t).dtype)) g.alias(t, outs[i], false);
    else g.finish(outs[i], t, false);
  }
}

void pad(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  std::string xf = g.fin(x, false);
  std::string mode = n.attrs.get_string("mode", "constant");
  if (!n.attrs.has("pads")) g.refuse("pads computed at run time: export-qdq writes constant pads only");
  std::vector<std::string> ins = {xf, g.init_i64(g.T(y).name + "_pads", n.attrs.get_ints("pads"))};
  if (mode == "constant") ins.push_back(g.init_f(g.T(y).name + "_value", {n.attrs.get_float("value", 0)}, true));
  onnx::NodeProto* nd;
  std::string o = g.op1("Pad", ins, g.T(y).name + "_pad", &nd);
  attr_s(nd, "mode", mode);
  g.finish(o, y, false);
}

void resize(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  bool nc = g.held_nchw(x);
  std::string xf = g.fin(x, nc);
  std::string base = g.T(y).name;
  std::string roi = g.init_f(base + "_roi", {}, false);
  std::vector<std::string> ins = {xf, roi};
  auto perm = [&](auto vec) {
    if (nc && vec.size() == 4) return decltype(vec){vec[0], vec[3], vec[1], vec[2]};
    return vec;
  };
  if (n.attrs.has("scales")) {
    ins.push_back(g.init_f(base + "_scales", perm(n.attrs.get_floats("scales", {})), false));
  } else {
    ins.push_back(g.init_f(base + "_scales", {}, false));
    ins.push_back(g.init_i64(base + "_sizes", perm(n.attrs.get_ints("sizes"))));
  }
  if (n.attrs.get_int("antialias", 0) || n.attrs.get_string("coordinate_transformation_mode", "") == "half_pixel_symmetric")
    g.refuse("antialias and half_pixel_symmetric are Resize-18/19 forms; export-qdq writes opset " + std::to_string(QdqGraph::kOpset));
  onnx::NodeProto* nd;
  std::string o = g.op1("Resize", ins, base + "_resize", &nd);
  attr_s(nd, "mode", n.attrs.get_string("mode", "nearest"));
  attr_s(nd, "coordinate_transformation_mode", n.attrs.get_string("coordinate_transformation_mode", "half_pixel"));
  attr_s(nd, "nearest_mode", n.attrs.get_string("nearest_mode", "round_prefer_floor"));
  if (n.attrs.get_string("mode", "nearest") == "cubic") {
    attr_f(nd, "cubic_coeff_a", n.attrs.get_float("cubic_coeff_a", -0.75f));
    attr_i(nd, "exclude_outside", n.attrs.get_int("exclude_outside", 0));
  }
  g.finish(o, y, nc);
}

void cast(QdqGraph& g, const NodeDef& n) {
  std::string x = g.fin(g.in(0), g.value(g.in(0)).nchw);
  onnx::NodeProto* nd;
  std::string o = g.op1("Cast", {x}, g.T(g.out(0)).name, &nd);
  attr_i(nd, "to", onnx_type(g.T(g.out(0)).dtype));
  g.finish(o, g.out(0), g.value(g.in(0)).nchw);
}

}  // namespace

void export_data(QdqGraph& g, const NodeDef& n) {
  switch (n.op) {
    case OpKind::Transpose: return transpose(g, n);
    case OpKind::Concat: return concat(g, n);
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::Slice:
    case OpKind::Split:
    case OpKind::Gather:
    case OpKind::Expand: return data_movement(g, n);
    case OpKind::Pad: return pad(g, n);
    case OpKind::Resize: return resize(g, n);
    case OpKind::Cast: return cast(g, n);
    case OpKind::Where: return export_binary(g, n);   // elementwise, numpy broadcasting
    default: g.refuse("no ONNX translation for this op in export-qdq");
  }
}

}  // namespace octet::qdq
