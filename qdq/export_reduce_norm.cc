// export-qdq, reductions and normalization: ReduceMean, ReduceSum, ReduceMax, Softmax, and
// LayerNormalization (decomposed: opset 13 has none).
#include "qdq/op_exporters.h"

namespace octet::qdq {

namespace {

void softmax(QdqGraph& g, const NodeDef& n) {
  std::string x = g.fin(g.in(0), false);
  onnx::NodeProto* nd;
  std::string o = g.op1("Softmax", {x}, g.T(g.out(0)).name, &nd);
  attr_i(nd, "axis", n.attrs.get_int("axis", -1));
  g.finish(o, g.out(0), false);
}

void layernorm(QdqGraph& g, const NodeDef& n) {   // opset 13 has no LayerNormalization: decompose
  int x = g.in(0), sc = g.in(1), b = g.in(2), y = g.out(0);
  int64_t axis = n.attrs.get_int("axis", -1);
  int rank = (int)g.T(x).shape.size();
  if (axis < 0) axis += rank;
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
  std::string xf = g.fin(x, false), base = g.T(y).name;
  onnx::NodeProto* nd;
  std::string mean = g.op1("ReduceMean", {xf}, base + "_mean", &nd);
  attr_is(nd, "axes", axes);
  std::string d = g.op1("Sub", {xf, mean}, base + "_centered");
  std::string var = g.op1("ReduceMean", {g.op1("Mul", {d, d}, base + "_sq")}, base + "_var", &nd);
  attr_is(nd, "axes", axes);
  std::string den = g.op1("Sqrt", {g.op1("Add", {var, g.init_f(base + "_eps", {n.attrs.get_float("epsilon", 1e-5f)}, true)}, base + "_ve")},
                          base + "_std");
  std::string o = g.op1("Mul", {g.op1("Div", {d, den}, base + "_norm"), g.fin(sc, false)}, base + "_scaled");
  if (b >= 0) o = g.op1("Add", {o, g.fin(b, false)}, base + "_ln");
  g.finish(o, y, false);
}

}  // namespace

void export_reduce(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  std::string xf = g.fin(x, false);
  std::string base = g.T(y).name;
  onnx::NodeProto* nd;
  std::string o;
  if (n.op == OpKind::ArgMax || n.op == OpKind::ArgMin) {
    o = g.op1(op_name(n.op), {xf}, base + "_arg", &nd);
    attr_i(nd, "axis", n.attrs.get_int("axis", 0));
    attr_i(nd, "select_last_index", n.attrs.get_int("select_last_index", 0));
  } else if (n.op == OpKind::ReduceSum) {   // opset 13: axes of ReduceSum are an input, of the others an attribute
    std::vector<std::string> ins = {xf};
    if (n.attrs.has("axes")) ins.push_back(g.init_i64(base + "_axes", n.attrs.get_ints("axes")));
    o = g.op1("ReduceSum", ins, base + "_reduce", &nd);
  } else {
    o = g.op1(op_name(n.op), {xf}, base + "_reduce", &nd);
    if (n.attrs.has("axes")) attr_is(nd, "axes", n.attrs.get_ints("axes"));
  }
  attr_i(nd, "keepdims", n.attrs.get_int("keepdims", 1));
  g.finish(o, y, false);
}

void export_norm(QdqGraph& g, const NodeDef& n) {
  switch (n.op) {
    case OpKind::Softmax: return softmax(g, n);
    case OpKind::LayerNormalization: return layernorm(g, n);
    default: g.refuse("no ONNX translation for this op in export-qdq");
  }
}

}  // namespace octet::qdq
