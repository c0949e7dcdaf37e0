// Static int8 quantization of the fused NHWC float graph, given calibrated ranges.
//
// Precision plan, in topological order, by each op's quantization role (the quant column of
// runtime/src/ops/op_table.def):
//  - Anchor ops (Conv, ConvTranspose, FullyConnected) run in int8 (unless the user keeps them in
//    float);
//  - ops that are cheap in int8 (Rescale: Add/Sub/Mul, Concat, ReduceMean; Lookup: any unary op
//    via a lookup table; Keep: pooling, data movement, ReduceMax) run in int8 when one of their
//    inputs already is int8, so int8 regions grow from the heavy ops and no op is quantized just
//    to be dequantized again;
//  - everything else (Float) runs in float.
// Where a tensor crosses between regions a QuantizeLinear or DequantizeLinear is inserted (once
// per tensor, shared by all consumers). Graph outputs stay float under their ONNX names.
// Weights become s8 symmetric per output channel, in [-127, 127] by default (weight_max), biases
// s32 in units of s_x * s_w[c],
// activations u8 asymmetric per tensor from their calibrated range; ops that only move codes
// keep their input's parameters.
#include "quantize/quantize.h"

#include <algorithm>
#include <cmath>

#include "octet_ops.h"
#include "quant/quant.h"

namespace octet::converter {

namespace {
// The op's role in static int8: the quant column of the op table. Boundary (QuantizeLinear /
// DequantizeLinear) is this pass's own output; the lowered graph has none, and an op the table
// does not have stays float.
QuantRole role_of(const std::string& op) {
  const OpTraits* t = octet_op(op);
  if (!t || t->quant == QuantRole::Boundary) return QuantRole::Float;
  return t->quant;
}

QuantInfo u8_params(std::pair<float, float> r) {
  q::Params p = q::choose_params<uint8_t>(r.first, r.second);
  return QuantInfo{{p.scale}, {p.zero_point}, -1};
}

class StaticQuantizer {
 public:
  StaticQuantizer(Graph& g, const Ranges& ranges, const QuantizeOptions& o, PassStats& s)
      : g_(g), ranges_(ranges), opts_(o), stats_(s) {}

  void run() {
    for (const auto& name : g_.inputs) float_[name] = name;
    std::vector<Node> out;
    for (Node& n : g_.nodes) {
      if (is_embedding(n)) quantize_embedding(n, out);
      else if (wants_int8(n)) quantize_node(n, out);
      else keep_float(n, out);
    }
    g_.nodes = std::move(out);
    finish_outputs();
    g_.remove_dead();
  }

 private:
  Graph& g_;
  const Ranges& ranges_;
  const QuantizeOptions& opts_;
  PassStats& stats_;
  std::map<std::string, std::string> int8_, float_;   // original tensor -> its int8 / float version

  bool user_float(const Node& n) const {
    if (opts_.float_ops.count(n.op)) return true;
    if (opts_.float_nodes.count(n.name)) return true;
    for (const auto& o : n.origin) if (opts_.float_nodes.count(o)) return true;
    return false;
  }

  // Activation inputs (not constants) that carry data (Gather's indices do not).
  std::vector<size_t> data_inputs(const Node& n) const {
    std::vector<size_t> idx;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!n.has_input(i) || g_.is_constant(n.inputs[i])) continue;
      if (n.op == "Gather" && i == 1) continue;
      if (is_operand_input(n.op, i)) continue;   // an attribute's value
      if (role_of(n.op) == QuantRole::Anchor && (i == 1 || i == 2)) continue;   // weights, bias
      idx.push_back(i);
    }
    return idx;
  }

  bool wants_int8(const Node& n) const {
    if (user_float(n)) return false;
    const QuantRole r = role_of(n.op);
    if (r == QuantRole::Float) return false;
    auto ins = data_inputs(n);
    if (ins.empty()) return false;
    // Float tensors only (an int8 producer has already retyped its output to u8).
    for (size_t i : ins)
      if (g_.tensor(n.inputs[i]).dtype != DataType::f32 && !int8_.count(n.inputs[i])) return false;
    for (const auto& o : n.outputs)
      if (!o.empty() && g_.tensor(o).dtype != DataType::f32) return false;
    if (r == QuantRole::Anchor) {
      // Weights (and bias) computed at run time keep the node in float.
      const Constant* w = g_.constant(n.inputs[1]);
      return w && w->dtype == DataType::f32 && (!n.has_input(2) || g_.is_constant(n.inputs[2]));
    }
    for (size_t i : ins)
      if (int8_.count(n.inputs[i])) return true;
    return false;
  }

  // A Gather from a constant float table (token, position, character embeddings): the table is
  // stored in 8 bits (4x smaller; in a BERT it is most of the file) and the gathered rows are
  // dequantized right away, so nothing downstream changes precision because of it.
  bool is_embedding(const Node& n) const {
    if (n.op != "Gather" || user_float(n) || !n.has_input(0) || n.outputs.empty()) return false;
    const Constant* table = g_.constant(n.inputs[0]);
    return table && table->dtype == DataType::f32 && table->shape.size() == 2 && g_.tensor(n.outputs[0]).dtype == DataType::f32;
  }

  void quantize_embedding(Node& n, std::vector<Node>& out) {
    n.inputs[0] = quantize_constant_u8(n.inputs[0]);
    for (auto& in : n.inputs)
      if (!in.empty() && &in != &n.inputs[0]) in = as_float(in, n, out);   // the indices
    const std::string y = n.outputs[0];
    IrTensor q = g_.tensor(y);
    q.name = g_.unique_name(y + "_q");
    q.dtype = DataType::u8;
    q.quant = g_.tensor(n.inputs[0]).quant;
    const std::string qname = q.name;
    g_.add_tensor(std::move(q));
    n.outputs[0] = qname;
    n.precision = "int8_static";
    const Node near = n;
    out.push_back(std::move(n));
    out.push_back(aux("DequantizeLinear", qname, y, near));
    float_[y] = y;
    stats_.add("embedding tables stored int8 (Gather + DequantizeLinear)");
  }

  std::pair<float, float> range_of(const std::string& t) const {
    auto it = ranges_.find(t);
    if (it == ranges_.end()) throw Error("internal: no calibration range for tensor '" + t + "'");
    return it->second;
  }

  Node aux(const std::string& op, const std::string& in, const std::string& out, const Node& near) {
    Node n{g_.unique_name(out + "_" + (op == "QuantizeLinear" ? "quantize" : "dequantize")), op, {in}, {out}};
    n.lowered = true;
    n.origin = near.origin;
    n.precision = op == "QuantizeLinear" ? "int8_static" : "float";
    return n;
  }

  // The int8 version of activation `t`, inserting a QuantizeLinear if needed.
  std::string as_int8(const std::string& t, const Node& consumer, std::vector<Node>& out) {
    auto it = int8_.find(t);
    if (it != int8_.end()) return it->second;
    IrTensor q;
    q.name = g_.unique_name(t + "_q");
    q.dtype = DataType::u8;
    q.quant = u8_params(range_of(t));
    std::string name = q.name;
    g_.add_tensor(std::move(q));
    out.push_back(aux("QuantizeLinear", float_.count(t) ? float_[t] : t, name, consumer));
    stats_.add("QuantizeLinear inserted");
    int8_[t] = name;
    return name;
  }

  // The float version of `t`, inserting a DequantizeLinear if only int8 exists.
  std::string as_float(const std::string& t, const Node& consumer, std::vector<Node>& out) {
    if (g_.is_constant(t) || float_.count(t)) return g_.is_constant(t) ? t : float_[t];
    auto it = int8_.find(t);
    if (it == int8_.end()) return t;
    IrTensor f;
    f.name = g_.unique_name(t + "_f32");
    f.dtype = DataType::f32;
    std::string name = f.name;
    g_.add_tensor(std::move(f));
    out.push_back(aux("DequantizeLinear", it->second, name, consumer));
    stats_.add("DequantizeLinear inserted");
    float_[t] = name;
    return name;
  }

  void keep_float(Node& n, std::vector<Node>& out) {
    const bool shape_only = reads_only_shape(n.op);
    for (auto& in : n.inputs) {
      if (in.empty()) continue;
      // Shape/Size read no elements: any version of the input will do, no dequantize for them.
      if (shape_only && int8_.count(in) && !float_.count(in)) in = int8_[in];
      else in = as_float(in, n, out);
    }
    for (const auto& o : n.outputs) if (!o.empty()) float_[o] = o;
    n.precision = "float";
    stats_.add("nodes float");
    out.push_back(std::move(n));
  }

  std::string quantize_constant_u8(const std::string& name) {
    const Constant& c = *g_.constant(name);
    auto v = c.floats();
    float lo = 0, hi = 0;
    for (float x : v) if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
    QuantInfo qi = u8_params({lo, hi});
    Constant qc{DataType::u8, c.shape, std::vector<uint8_t>(v.size())};
    for (size_t i = 0; i < v.size(); ++i) qc.bytes[i] = q::quantize<uint8_t>(v[i], 1.f / qi.scale[0], qi.zero_point[0]);
    std::string qn = g_.add_constant(name + "_q", std::move(qc));
    g_.tensor(qn).quant = qi;
    return qn;
  }

  // Weights [O, ...] -> s8 per output channel; returns the scales.
  std::vector<float> quantize_weights(Node& n) {
    const Constant& w = *g_.constant(n.inputs[1]);
    auto v = w.floats();
    const int64_t oc = w.shape[0], per = static_cast<int64_t>(v.size()) / std::max<int64_t>(oc, 1);
    std::vector<float> scales(oc);
    const int qmax = weight_max(opts_.weight_bits);
    const float fmax = static_cast<float>(qmax);
    Constant qw{DataType::s8, w.shape, std::vector<uint8_t>(v.size())};
    for (int64_t o = 0; o < oc; ++o) {
      float amax = 0;
      for (int64_t k = 0; k < per; ++k) amax = std::max(amax, std::fabs(v[o * per + k]));
      scales[o] = amax > 0 && std::isfinite(amax) ? amax / static_cast<float>(qmax) : 1.f;
      const float inv = 1.f / scales[o];
      for (int64_t k = 0; k < per; ++k) {
        float qv = std::nearbyint(v[o * per + k] * inv);
        qw.as<int8_t>()[o * per + k] = static_cast<int8_t>(std::clamp(qv, -fmax, fmax));
      }
    }
    std::string qn = g_.add_constant(n.inputs[1] + "_q", std::move(qw));
    g_.tensor(qn).quant = QuantInfo{scales, std::vector<int32_t>(scales.size(), 0), 0};
    n.inputs[1] = qn;
    return scales;
  }

  void quantize_bias(Node& n, float sx, const std::vector<float>& sw) {
    if (!n.has_input(2)) return;
    auto b = g_.constant(n.inputs[2])->floats();
    std::vector<int32_t> qb(b.size());
    std::vector<float> bs(b.size());
    for (size_t c = 0; c < b.size(); ++c) {
      bs[c] = sx * sw[c];
      qb[c] = q::saturate_round_s32(static_cast<double>(b[c]) / static_cast<double>(bs[c]));
    }
    Constant qc{DataType::s32, {static_cast<int64_t>(b.size())}, std::vector<uint8_t>(b.size() * 4)};
    std::memcpy(qc.bytes.data(), qb.data(), qc.bytes.size());
    std::string qn = g_.add_constant(n.inputs[2] + "_q", std::move(qc));
    g_.tensor(qn).quant = QuantInfo{bs, std::vector<int32_t>(bs.size(), 0), 0};
    n.inputs[2] = qn;
  }

  void quantize_node(Node& n, std::vector<Node>& out) {
    const QuantRole role = role_of(n.op);
    for (size_t i : data_inputs(n)) n.inputs[i] = as_int8(n.inputs[i], n, out);
    for (size_t i = 0; i < n.inputs.size(); ++i)   // operands computed at run time are real values
      if (n.has_input(i) && is_operand_input(n.op, i)) n.inputs[i] = as_float(n.inputs[i], n, out);
    if (role == QuantRole::Anchor) {
      std::vector<float> sw = quantize_weights(n);
      quantize_bias(n, g_.tensor(n.inputs[0]).quant.scale[0], sw);
    } else {
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (g_.is_constant(n.inputs[i]) && !(n.op == "Gather" && i == 1) && g_.constant(n.inputs[i])->dtype == DataType::f32)
          n.inputs[i] = quantize_constant_u8(n.inputs[i]);
    }
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      IrTensor& t = g_.tensor(o);
      t.dtype = DataType::u8;
      // Keep moves codes (the input's scale); Rescale and Lookup get their own output range.
      t.quant = role == QuantRole::Keep ? g_.tensor(n.inputs[0]).quant : u8_params(range_of(o));
      int8_[o] = o;
    }
    n.precision = "int8_static";
    stats_.add("nodes int8_static");
    out.push_back(std::move(n));
  }

  // Graph outputs stay float and keep their names: an int8 output is renamed "<name>_q" and a
  // DequantizeLinear writes the original name.
  void finish_outputs() {
    for (auto& out : g_.outputs) {
      if (float_.count(out) && float_[out] == out) continue;
      if (!int8_.count(out)) continue;
      const std::string qname = g_.unique_name(out + "_q");
      IrTensor t = g_.tensor(out);
      t.name = qname;
      g_.add_tensor(t);
      for (Node& n : g_.nodes) {
        for (auto& o : n.outputs) if (o == out) o = qname;
        for (auto& i : n.inputs) if (i == out) i = qname;
      }
      IrTensor& f = g_.tensor(out);
      f.dtype = DataType::f32;
      f.quant = {};
      Node dq{g_.unique_name(out + "_dequantize"), "DequantizeLinear", {qname}, {out}};
      dq.lowered = true;
      g_.nodes.push_back(dq);
      stats_.add("DequantizeLinear inserted");
    }
  }
};
}  // namespace

int weight_max(int bits) {
  if (bits == 7) return 64;
  if (bits == 8) return 127;
  throw Error("weight bits must be 7 or 8 (got " + std::to_string(bits) + ")");
}

void quantize_static(Graph& g, const Ranges& ranges, const QuantizeOptions& opts, PassStats& stats) {
  StaticQuantizer(g, ranges, opts, stats).run();
}

}  // namespace octet::converter
