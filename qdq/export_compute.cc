// export-qdq, compute and pooling ops: Conv, ConvTranspose, FullyConnected, MatMul (static int8 as QDQ groups,
// dynamic int8 in ONNX Runtime's dynamic form), MaxPool, AveragePool, GlobalAveragePool.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/params.h"
#include "qdq/op_exporters.h"

namespace octet::qdq {

namespace {

void conv(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), w = g.in(1), b = g.in(2), r = g.in(3), y = g.out(0);
  if (!g.T(w).is_constant()) g.refuse("weights are not a constant");
  if (n.precision == Precision::Int8Dynamic) g.refuse("int8_dynamic Conv has no ONNX Runtime dynamic form in export-qdq");
  std::string xf = g.fin(x, true);
  std::string wf = g.weight(w, g.ohwi_to_oihw(w));
  std::vector<std::string> ins = {xf, wf};
  if (b >= 0) ins.push_back(g.weight(b, g.constant(b)));
  onnx::NodeProto* nd;
  std::string o = g.op1("Conv", ins, g.T(y).name + "_conv", &nd);
  const auto& s = g.T(w).shape;
  attr_is(nd, "kernel_shape", {s[1], s[2]});
  attr_is(nd, "strides", n.attrs.get_ints("strides", {1, 1}));
  attr_is(nd, "pads", n.attrs.get_ints("pads", {0, 0, 0, 0}));
  attr_is(nd, "dilations", n.attrs.get_ints("dilations", {1, 1}));
  attr_i(nd, "group", n.attrs.get_int("group", 1));
  if (r >= 0) {
    if (g.is_static() && is8(g.T(y).dtype) && is8(g.T(r).dtype)) {
      // ONNX Runtime's QLinearConv needs a quantized conv output before the Add: a range that
      // never clips, derived from octet's ranges (y = act(c + r)).
      const auto& qy = g.T(y).quant;
      const auto& qr = g.T(r).quant;
      float ylo = qy.scale[0] * (qmin(g.T(y).dtype) - qy.zero_point[0]), yhi = qy.scale[0] * (qmax(g.T(y).dtype) - qy.zero_point[0]);
      float rlo = qr.scale[0] * (qmin(g.T(r).dtype) - qr.zero_point[0]), rhi = qr.scale[0] * (qmax(g.T(r).dtype) - qr.zero_point[0]);
      bool relu_like = n.activation.kind == ActKind::Relu || (n.activation.kind == ActKind::Clip && n.activation.alpha >= 0);
      float lo = relu_like ? std::min(0.0f, -rhi) : ylo - rhi;
      float hi = yhi - rlo;
      lo = std::min(lo, 0.0f);
      hi = std::max(hi, 0.0f);
      float sc = (hi - lo) / 255.0f;
      int zp = (int)std::lround(-lo / sc);
      zp = std::clamp(zp, 0, 255);
      std::string s_init = g.init_f(g.T(y).name + "_pre_add_scale", {sc}, true);
      std::string z_init = g.init_zp(g.T(y).name + "_pre_add_zp", DataType::u8, {zp}, true);
      std::string cq = g.op1("QuantizeLinear", {o, s_init, z_init}, g.T(y).name + "_pre_add_q");
      o = g.op1("DequantizeLinear", {cq, s_init, z_init}, g.T(y).name + "_pre_add_dq");
      g.note("fused residual Add: ONNX Runtime's int8 form quantizes the conv output before the Add (range derived from octet's, "
             "never clipping; a step of up to ~2x the output's), octet adds in float: about a step of difference there, which later layers can amplify");
    }
    o = g.op1("Add", {o, g.fin(r, true)}, g.T(y).name + "_add");
  }
  o = export_activation(g, o, n.activation, y);
  g.finish(o, y, true);
}

// octet's ConvTranspose weights [O, KH, KW, C/g] in ONNX's layout [C, O/g, KH, KW] (elements of
// `es` bytes): ONNX W[g Cg + c, o, kh, kw] = octet w[g Og + o, kh, kw, c].
std::vector<uint8_t> deconv_weights_to_onnx(const uint8_t* w, const Shape& s, int64_t group, size_t es) {
  const int64_t O = s[0], KH = s[1], KW = s[2], Cg = s[3], Og = O / group;
  std::vector<uint8_t> out(static_cast<size_t>(O * KH * KW * Cg) * es);
  for (int64_t g = 0; g < group; ++g)
    for (int64_t o = 0; o < Og; ++o)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw)
          for (int64_t c = 0; c < Cg; ++c)
            std::memcpy(&out[static_cast<size_t>((((g * Cg + c) * Og + o) * KH + kh) * KW + kw) * es],
                        w + static_cast<size_t>((((g * Og + o) * KH + kh) * KW + kw) * Cg + c) * es, es);
  return out;
}

// ConvTranspose as DequantizeLinear(x), DequantizeLinear(W), ConvTranspose, QuantizeLinear (no
// QLinear op: ONNX has none for it; ONNX Runtime fuses the group itself where it can). ONNX's
// weights hold the output channels on axis 1, one group's worth, so per-channel scales are
// expressible for one group only; grouped per-channel weights are written dequantized (float).
void conv_transpose(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), w = g.in(1), b = g.in(2), y = g.out(0);
  const TensorDef& tw = g.T(w);
  if (!tw.is_constant()) g.refuse("weights are not a constant");
  const ConvParams p = parse_conv(n);
  const Shape& s = tw.shape;
  const std::vector<int64_t> dims{s[3] * p.group, s[0] / p.group, s[1], s[2]};
  std::string wf;
  if (tw.dtype == DataType::f32 || tw.quant.axis < 0 || p.group == 1) {
    const std::vector<uint8_t> codes = deconv_weights_to_onnx(tw.data, s, p.group, dtype_size(tw.dtype));
    wf = g.init_raw(tw.name + "_iohw", onnx_type(tw.dtype), dims, codes.data(), codes.size());
    if (tw.dtype != DataType::f32) {
      QdqGraph::QParams q = g.qparams(w, false);
      onnx::NodeProto* nd;
      wf = g.op1("DequantizeLinear", {wf, q.scale, q.zp}, tw.name + "_dq", &nd);
      if (q.axis >= 0) attr_i(nd, "axis", 1);
    }
  } else {
    g.note("grouped ConvTranspose with per-channel weights: ONNX's DequantizeLinear cannot scale them per output channel "
           "(axis 1 holds one group's channels), so their dequantized values are written as float");
    const std::vector<float> real = g.dequantized(w);
    const std::vector<uint8_t> f = deconv_weights_to_onnx(reinterpret_cast<const uint8_t*>(real.data()), s, p.group, sizeof(float));
    wf = g.init_raw(tw.name + "_iohw", TensorProto::FLOAT, dims, f.data(), f.size());
  }
  std::vector<std::string> ins = {g.fin(x, true), wf};
  if (b >= 0) ins.push_back(g.weight(b, g.constant(b)));
  onnx::NodeProto* nd;
  std::string o = g.op1("ConvTranspose", ins, g.T(y).name + "_deconv", &nd);
  attr_is(nd, "kernel_shape", {s[1], s[2]});
  attr_is(nd, "strides", {p.stride_h, p.stride_w});
  attr_is(nd, "pads", {p.pad_t, p.pad_l, p.pad_b, p.pad_r});
  attr_is(nd, "dilations", {p.dil_h, p.dil_w});
  attr_is(nd, "output_padding", {p.out_pad_h, p.out_pad_w});
  attr_i(nd, "group", p.group);
  g.finish(export_activation(g, o, n.activation, y), y, true);
}

// DynamicQuantizeLinear(x) + MatMulInteger(xq, W^T codes) * (s_x * s_w[n]): what ONNX
// Runtime's quantize_dynamic emits (and fuses into DynamicQuantizeMatMul).
std::string dynamic_matmul(QdqGraph& g, const std::string& xf, int w, const std::string& base) {
  const auto& td = g.T(w);
  if (td.dtype != DataType::s8 || td.shape.size() != 2) g.refuse("dynamic weights must be s8 [N, K]");
  auto* dql = g.add_node("DynamicQuantizeLinear", {xf}, {g.fresh(base + "_xq"), g.fresh(base + "_xs"), g.fresh(base + "_xzp")},
                         base + "_DynamicQuantizeLinear");
  std::string wt = g.transposed_2d(w, "_t");
  std::string acc = g.op1("MatMulInteger", {dql->output(0), wt, dql->output(2)}, base + "_mmi");
  onnx::NodeProto* c;
  std::string accf = g.op1("Cast", {acc}, base + "_accf", &c);
  attr_i(c, "to", TensorProto::FLOAT);
  std::vector<float> ws = td.quant.scale;
  if (ws.size() == 1) ws.assign((size_t)td.shape[0], ws[0]);
  std::string sc = g.op1("Mul", {dql->output(1), g.init_f(td.name + "_wscale", ws, false)}, base + "_scale");
  return g.op1("Mul", {accf, sc}, base + "_deq");
}

void fully_connected(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), w = g.in(1), b = g.in(2), y = g.out(0);
  if (!g.T(w).is_constant()) g.refuse("weights are not a constant");
  int rank = (int)g.T(x).shape.size();
  if (n.precision == Precision::Int8Dynamic) {
    if (dynamic_input_per_row(n))
      g.note("dynamic FullyConnected nodes quantize their input per row in octet (--dynamic-input per-row) but per "
             "tensor in the export: ONNX's DynamicQuantizeLinear has one scale per tensor");
    std::string o = dynamic_matmul(g, g.fin(x, false), w, g.T(y).name);
    if (b >= 0) o = g.op1("Add", {o, b >= 0 && g.T(b).dtype == DataType::f32 ? g.constant(b) : g.weight(b, g.constant(b))}, g.T(y).name + "_bias");
    o = export_activation(g, o, n.activation, y);
    return g.finish(o, y, false);
  }
  // octet's layout: a flattened NCHW tensor would order its elements differently.
  std::string xf = g.fin(x, false);
  std::string o;
  if (rank == 2) {
    std::vector<std::string> ins = {xf, g.weight(w, g.constant(w))};
    if (b >= 0) ins.push_back(g.weight(b, g.constant(b)));
    onnx::NodeProto* nd;
    o = g.op1("Gemm", ins, g.T(y).name + "_gemm", &nd);
    attr_i(nd, "transB", 1);
  } else {
    // MatMul with W^T [K, N] (per-channel axis becomes 1), then the bias.
    std::string wt = g.transposed_2d(w, "_t");
    std::string wf = wt;
    if (g.T(w).dtype != DataType::f32) {
      QdqGraph::QParams p = g.qparams(w, false);
      onnx::NodeProto* nd;
      wf = g.op1("DequantizeLinear", {wt, p.scale, p.zp}, g.T(w).name + "_t_dq", &nd);
      if (p.axis >= 0) attr_i(nd, "axis", 1);
    }
    o = g.op1("MatMul", {xf, wf}, g.T(y).name + "_matmul");
    if (b >= 0) o = g.op1("Add", {o, g.weight(b, g.constant(b))}, g.T(y).name + "_bias");
  }
  o = export_activation(g, o, n.activation, y);
  g.finish(o, y, false);
}

void matmul(QdqGraph& g, const NodeDef& n) {
  int a = g.in(0), b = g.in(1), y = g.out(0);
  if (n.precision == Precision::Int8Dynamic && g.T(b).is_constant() && g.T(b).dtype == DataType::s8 && g.T(b).shape.size() == 2) {
    // B [K, N] codes; its per-channel axis is 1 (or per tensor).
    const auto& td = g.T(b);
    if (td.quant.axis == 0) g.refuse("dynamic MatMul with B quantized per row");
    auto* dql = g.add_node("DynamicQuantizeLinear", {g.fin(a, false)},
                           {g.fresh(td.name + "_xq"), g.fresh(td.name + "_xs"), g.fresh(td.name + "_xzp")},
                           g.T(y).name + "_DynamicQuantizeLinear");
    std::string acc = g.op1("MatMulInteger", {dql->output(0), g.constant(b), dql->output(2)}, g.T(y).name + "_mmi");
    onnx::NodeProto* c;
    std::string accf = g.op1("Cast", {acc}, g.T(y).name + "_accf", &c);
    attr_i(c, "to", TensorProto::FLOAT);
    std::vector<float> ws = td.quant.scale;
    std::string sc = g.op1("Mul", {dql->output(1), g.init_f(td.name + "_wscale", ws, ws.size() == 1)}, g.T(y).name + "_scale");
    std::string o = g.op1("Mul", {accf, sc}, g.T(y).name + "_deq");
    return g.finish(export_activation(g, o, n.activation, y), y, false);
  }
  std::string af = g.fin(a, false);
  std::string bf = g.T(b).is_constant() ? g.weight(b, g.constant(b)) : g.fin(b, false);
  if (n.precision == Precision::Int8Dynamic) {
    g.note("dynamic MatMul with a non-constant B: float MatMul in ONNX");
    if (g.T(b).is_constant()) bf = g.init_f(g.T(b).name + "_f", g.dequantized(b), false);
  }
  std::string o = g.op1("MatMul", {af, bf}, g.T(y).name + "_matmul");
  g.finish(export_activation(g, o, n.activation, y), y, false);
}

}  // namespace

void export_compute(QdqGraph& g, const NodeDef& n) {
  switch (n.op) {
    case OpKind::Conv: return conv(g, n);
    case OpKind::ConvTranspose: return conv_transpose(g, n);
    case OpKind::FullyConnected: return fully_connected(g, n);
    case OpKind::MatMul: return matmul(g, n);
    default: g.refuse("no ONNX translation for this op in export-qdq");
  }
}

void export_pool(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  const char* op = op_name(n.op);
  // MaxPool moves codes: run it on the 8-bit tensor (ONNX Runtime would drop the Q/DQ anyway).
  bool direct = n.op == OpKind::MaxPool && is8(g.T(x).dtype) && g.same_quant(x, y);
  std::string xi = direct ? g.nchw(x) : g.fin(x, true);
  onnx::NodeProto* nd;
  std::string o = g.op1(op, {xi}, g.T(y).name + "_pool", &nd);
  if (n.op != OpKind::GlobalAveragePool) {
    attr_is(nd, "kernel_shape", n.attrs.get_ints("kernel_shape"));
    attr_is(nd, "strides", n.attrs.get_ints("strides", {1, 1}));
    attr_is(nd, "pads", n.attrs.get_ints("pads", {0, 0, 0, 0}));
    if (n.attrs.get_int("ceil_mode", 0)) attr_i(nd, "ceil_mode", 1);
    auto dil = n.attrs.get_ints("dilations", {1, 1});
    if (n.op == OpKind::MaxPool) attr_is(nd, "dilations", dil);
    else if (dil != std::vector<int64_t>{1, 1}) g.refuse("AveragePool dilations need opset 19");
    if (n.op == OpKind::AveragePool && n.attrs.get_int("count_include_pad", 0)) attr_i(nd, "count_include_pad", 1);
  }
  if (direct) return g.alias(y, o, true);
  g.finish(export_activation(g, o, n.activation, y), y, true);
}

}  // namespace octet::qdq
