// export-qdq, elementwise ops and activations: binary and comparison ops (and Where) under their
// own names, unary ops (under their own name where ONNX opset 13 has the op: onnx form Same in
// the op table; the rest by translation), and the activations octet fuses into other ops.
#include <cmath>

#include <onnx/defs/schema.h>

#include "qdq/op_exporters.h"
#include "reference/unary_value.h"

namespace octet::qdq {

namespace {

std::string hardswish(QdqGraph& g, const std::string& x) {   // opset 13 has no HardSwish: x * HardSigmoid(x, 1/6, 0.5)
  onnx::NodeProto* n;
  g.op1("HardSigmoid", {x}, x + "_hsig", &n);
  attr_f(n, "alpha", 1.0f / 6);
  attr_f(n, "beta", 0.5f);
  return g.op1("Mul", {x, n->output(0)}, x + "_hswish");
}

std::string gelu(QdqGraph& g, const std::string& x, bool tanh_approx) {   // opset 13 has no Gelu
  if (!tanh_approx) {
    std::string e = g.op1("Div", {x, g.init_f("sqrt2", {std::sqrt(2.0f)}, true)}, x + "_gelu_div");
    e = g.op1("Erf", {e}, x + "_gelu_erf");
    e = g.op1("Add", {e, g.init_f("one", {1.0f}, true)}, x + "_gelu_add");
    e = g.op1("Mul", {x, e}, x + "_gelu_mul");
    return g.op1("Mul", {e, g.init_f("half", {0.5f}, true)}, x + "_gelu");
  }
  std::string x3 = g.op1("Mul", {x, g.op1("Mul", {x, x}, x + "_sq")}, x + "_cube");
  std::string inner = g.op1("Add", {x, g.op1("Mul", {x3, g.init_f("c", {0.044715f}, true)}, x + "_c3")}, x + "_in");
  inner = g.op1("Mul", {inner, g.init_f("k", {0.7978845608f}, true)}, x + "_k");
  std::string th = g.op1("Add", {g.op1("Tanh", {inner}, x + "_tanh"), g.init_f("one", {1.0f}, true)}, x + "_t1");
  return g.op1("Mul", {g.op1("Mul", {x, th}, x + "_xt"), g.init_f("half", {0.5f}, true)}, x + "_gelu");
}

// Whether ONNX opset kOpset has an op of this name (in the default domain).
bool onnx_has_op(const char* name) {
  return onnx::OpSchemaRegistry::Schema(name, QdqGraph::kOpset, "") != nullptr;
}

}  // namespace

std::string export_activation(QdqGraph& g, const std::string& x, const Activation& a, int t_out) {
  const auto& td = g.T(t_out);
  bool q = is8(td.dtype) && td.quant.axis < 0 && !td.quant.empty();
  float s = q ? td.quant.scale[0] : 0;
  int zp = q ? td.quant.zero_point[0] : 0;
  onnx::NodeProto* n;
  switch (a.kind) {
    case ActKind::None: return x;
    case ActKind::Relu:
      if (q && zp == qmin(td.dtype)) return x;
      return g.op1("Relu", {x}, x + "_relu");
    case ActKind::Clip: {
      if (q && s * (qmin(td.dtype) - zp) >= a.alpha && s * (qmax(td.dtype) - zp) <= a.beta + 0.5f * s) return x;
      std::string lo = g.init_f("clip_min", {a.alpha}, true), hi = g.init_f("clip_max", {a.beta}, true);
      return g.op1("Clip", {x, lo, hi}, x + "_clip");
    }
    case ActKind::LeakyRelu:
      g.op1("LeakyRelu", {x}, x + "_lrelu", &n);
      attr_f(n, "alpha", a.alpha);
      return n->output(0);
    case ActKind::HardSigmoid:
      g.op1("HardSigmoid", {x}, x + "_hsig", &n);
      attr_f(n, "alpha", a.alpha);
      attr_f(n, "beta", a.beta);
      return n->output(0);
    case ActKind::HardSwish: return hardswish(g, x);
    case ActKind::Sigmoid: return g.op1("Sigmoid", {x}, x + "_sigmoid");
    case ActKind::Tanh: return g.op1("Tanh", {x}, x + "_tanh");
    case ActKind::Gelu: return gelu(g, x, false);
  }
  return x;
}

void export_binary(QdqGraph& g, const NodeDef& n) {
  const std::string op = op_name(n.op);
  // NCHW when every non-constant input is held NCHW (rank 4) and the output is rank 4.
  bool all_nchw = g.T(g.out(0)).shape.size() == 4;
  bool any_var = false;
  for (int t : n.inputs) {
    if (t < 0) continue;
    if (g.T(t).is_constant()) continue;
    any_var = true;
    if (!g.held_nchw(t)) all_nchw = false;
  }
  if (!any_var) all_nchw = false;
  std::vector<std::string> ins;
  for (int t : n.inputs) {
    if (g.T(t).is_constant()) {
      bool scalar = g.T(t).data_bytes == dtype_size(g.T(t).dtype);
      std::string c = g.constant(t, all_nchw && !scalar);
      ins.push_back(is8(g.T(t).dtype) || g.T(t).dtype == DataType::s32 ? g.dq_named(c, t, false, g.T(t).name + "_dq") : c);
      if (all_nchw && !scalar && g.T(t).quant.axis >= 0) g.refuse("per-channel constant operand in NCHW");
    } else {
      ins.push_back(g.fin(t, all_nchw));
    }
  }
  onnx::NodeProto* nd = nullptr;
  std::string o = g.op1(op, ins, g.T(g.out(0)).name + "_" + op, &nd);
  if (n.op == OpKind::Mod) attr_i(nd, "fmod", n.attrs.get_int("fmod", 0));
  g.finish(export_activation(g, o, n.activation, g.out(0)), g.out(0), all_nchw);
}

void export_unary(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  bool nc = g.held_nchw(x);
  std::string xf = g.fin(x, nc);
  std::string base = g.T(y).name;
  onnx::NodeProto* nd = nullptr;
  std::string o;
  const auto& j = n.attrs.json();
  auto jf = [&](const char* k, float d) { return j.is_object() && j.contains(k) ? j.at(k).get<float>() : d; };
  const char* name = op_name(n.op);
  if (op_traits(n.op).onnx == OnnxForm::Same && onnx_has_op(name)) {
    o = g.op1(name, {xf}, base + "_" + name);   // the ONNX op of this name is the octet op
    return g.finish(o, y, nc);
  }
  switch (n.op) {
    case OpKind::HardSwish: o = hardswish(g, xf); break;
    case OpKind::Gelu: o = gelu(g, xf, n.attrs.get_string("approximate", "none") == "tanh"); break;
    case OpKind::Clip: {
      std::vector<std::string> ins = {xf};
      ins.push_back(j.contains("min") ? g.init_f("clip_min", {jf("min", 0)}, true) : "");
      if (j.contains("max")) ins.push_back(g.init_f("clip_max", {jf("max", 0)}, true));
      o = g.op1("Clip", ins, base + "_clip");
      break;
    }
    default:
      if (const auto fa = ref::unary_float_attrs(n.op); !fa.empty()) {   // LeakyRelu, Elu, Selu, ...: as in ONNX
        o = g.op1(name, {xf}, base + "_" + name, &nd);
        for (const ref::UnaryAttr& a : fa) attr_f(nd, a.name, jf(a.name, a.default_value));
        break;
      }
      if (op_traits(n.op).onnx == OnnxForm::Same)
        g.refuse(std::string("ONNX opset ") + std::to_string(QdqGraph::kOpset) + " has no " + name + " and export-qdq no translation of it");
      g.refuse("no ONNX translation for this op in export-qdq");
  }
  g.finish(o, y, nc);
}

}  // namespace octet::qdq
