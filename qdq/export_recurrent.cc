// export-qdq, recurrent ops: LSTM, GRU, RNN with ONNX's own semantics (docs/format.md "Recurrent
// ops"). int8_dynamic LSTM (layout 0) becomes ONNX Runtime's com.microsoft.DynamicQuantizeLSTM;
// GRU and RNN, which ONNX Runtime has no quantized form of, get float weights dequantized from
// octet's codes.
#include <algorithm>

#include "ops/params.h"
#include "qdq/op_exporters.h"

namespace octet::qdq {

namespace {

// ONNX's B is [Wb, Rb] per direction: octet's summed [D, G*H] form becomes [sum, 0].
std::string onnx_bias(QdqGraph& g, int b, int64_t D, int64_t GH) {
  const auto& td = g.T(b);
  if (td.shape.back() == 2 * GH) return g.constant(b);
  std::vector<float> v(static_cast<size_t>(D * 2 * GH), 0.f);
  const float* src = reinterpret_cast<const float*>(td.data);
  for (int64_t d = 0; d < D; ++d) std::copy(src + d * GH, src + (d + 1) * GH, v.begin() + d * 2 * GH);
  return g.init_raw(td.name + "_wb_rb", TensorProto::FLOAT, {D, 2 * GH}, v.data(), v.size() * 4);
}

}  // namespace

void export_recurrent(QdqGraph& g, const NodeDef& n) {
  const char* op = op_name(n.op);
  int x = g.in(0), w = g.in(1), r = g.in(2), b = g.in(3), sl = g.in(4), h0 = g.in(5), c0 = n.op == OpKind::LSTM ? g.in(6) : -1;
  int64_t H = n.attrs.get_int("hidden_size");
  std::string dir = n.attrs.get_string("direction", "forward");
  int64_t D = dir == "bidirectional" ? 2 : 1;
  int64_t G = n.op == OpKind::LSTM ? 4 : n.op == OpKind::GRU ? 3 : 1;
  int64_t layout = n.attrs.get_int("layout", 0);
  std::string base = n.name;
  std::string xf = g.fin(x, false);
  std::string seq = "";
  if (sl >= 0) {
    seq = g.octet_layout(sl);
    if (g.T(sl).dtype != DataType::s32) {
      onnx::NodeProto* c;
      seq = g.op1("Cast", {seq}, base + "_seq_lens", &c);
      attr_i(c, "to", TensorProto::INT32);
    }
  }
  std::string bi = b >= 0 ? (g.T(b).is_constant() ? onnx_bias(g, b, D, G * H) : g.fin(b, false)) : "", hi = h0 >= 0 ? g.fin(h0, false) : "",
              ci = c0 >= 0 ? g.fin(c0, false) : "";
  auto common_attrs = [&](onnx::NodeProto* nd) {
    attr_i(nd, "hidden_size", H);
    attr_s(nd, "direction", dir);
    if (n.attrs.has("clip")) attr_f(nd, "clip", n.attrs.get_float("clip", 0));
    if (n.attrs.has("activations")) {
      std::vector<std::string> acts;
      for (const auto& a : n.attrs.json().at("activations")) acts.push_back(a.get<std::string>());
      attr_ss(nd, "activations", acts);
    }
  };
  std::vector<std::string> outs;
  for (size_t i = 0; i < n.outputs.size(); ++i)
    outs.push_back(n.outputs[i] >= 0 ? g.fresh(g.T(n.outputs[i]).name) : std::string());
  auto bind_outputs = [&]() {
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) g.alias(n.outputs[i], outs[i], false);
  };
  bool dynamic = n.precision == Precision::Int8Dynamic && g.T(w).dtype == DataType::s8;
  if (dynamic && dynamic_input_per_row(n))
    g.note("recurrent nodes quantize X per row in octet (--dynamic-input per-row); ONNX Runtime's kernels choose "
           "their own activation quantization");
  if (dynamic && n.op == OpKind::LSTM && layout == 0) {
    // com.microsoft.DynamicQuantizeLSTM: W [D, I, 4H], R [D, H, 4H] (transposed per direction),
    // scales and zero points [D, 4H] per gate row.
    auto packed = [&](int t, std::string* codes, std::string* scale, std::string* zp) {
      const auto& td = g.T(t);
      int64_t rows = D * G * H, K = (int64_t)(td.data_bytes) / rows;
      std::vector<int8_t> buf((size_t)(rows * K));
      const int8_t* src = (const int8_t*)td.data;
      for (int64_t d = 0; d < D; ++d)
        for (int64_t gr = 0; gr < G * H; ++gr)
          for (int64_t k = 0; k < K; ++k) buf[(size_t)((d * K + k) * G * H + gr)] = src[(d * G * H + gr) * K + k];
      *codes = g.init_raw(td.name + "_t", TensorProto::INT8, {D, K, G * H}, buf.data(), buf.size());
      std::vector<float> s = td.quant.scale;
      if (s.size() == 1) s.assign((size_t)rows, s[0]);
      *scale = g.init_raw(td.name + "_scale", TensorProto::FLOAT, {D, G * H}, s.data(), s.size() * 4);
      std::vector<int8_t> z((size_t)rows, 0);
      *zp = g.init_raw(td.name + "_zp", TensorProto::INT8, {D, G * H}, z.data(), z.size());
    };
    std::string wq, ws, wz, rq, rs, rz;
    packed(w, &wq, &ws, &wz);
    packed(r, &rq, &rs, &rz);
    auto* nd = g.add_node("DynamicQuantizeLSTM", {xf, wq, rq, bi, seq, hi, ci, "", ws, wz, rs, rz}, outs, base, "com.microsoft");
    common_attrs(nd);
    g.report().uses_contrib = true;
    return bind_outputs();
  }
  if (dynamic) {
    --g.report().nodes_dynamic;
    ++g.report().nodes_float;
    g.note(std::string(op) + " int8_dynamic: ONNX Runtime has no quantized " + op +
           (n.op == OpKind::LSTM ? " for layout=1" : "") + "; exported with float weights dequantized from octet's int8 codes");
  }
  auto fweights = [&](int t) {
    const auto& td = g.T(t);
    int64_t K = (int64_t)(td.data_bytes / dtype_size(td.dtype)) / (D * G * H);
    return g.init_raw(td.name + "_f", TensorProto::FLOAT, {D, G * H, K}, g.dequantized(t).data(), (size_t)(D * G * H * K) * 4);
  };
  std::string wf = fweights(w), rf = fweights(r);
  std::vector<std::string> ins = {xf, wf, rf, bi, seq, hi};
  if (n.op == OpKind::LSTM) ins.push_back(ci);
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  auto* nd = g.add_node(op, ins, outs, base);
  common_attrs(nd);
  if (layout) attr_i(nd, "layout", layout);   // opset 14 attribute: refused below for opset 13
  if (layout) g.refuse("layout=1 needs opset 14");
  if (n.op == OpKind::GRU) attr_i(nd, "linear_before_reset", n.attrs.get_int("linear_before_reset", 0));
  bind_outputs();
}

}  // namespace octet::qdq
