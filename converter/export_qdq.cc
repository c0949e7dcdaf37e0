// octet model -> ONNX opset 13 in QDQ form. See export_qdq.h for the mapping.
//
// Every octet tensor gets an ONNX value (`Val`): 8-bit activations stay 8-bit (the output of a
// QuantizeLinear, or of data movement applied to the codes), float ones float. `nchw` marks a
// rank-4 octet NHWC tensor held in ONNX as NCHW (its transpose [0,3,1,2]). Spatial ops want
// NCHW; ops that do not care about layout pass the flag through; everything else gets octet's
// layout back through an explicit Transpose.
#include "export_qdq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "model/model_data.h"
#include "ops/params.h"
#include "octet/octet.h"

namespace octet::converter {

namespace {

using onnx::TensorProto;

int onnx_type(DataType t) {
  switch (t) {
    case DataType::f32: return TensorProto::FLOAT;
    case DataType::u8: return TensorProto::UINT8;
    case DataType::s8: return TensorProto::INT8;
    case DataType::s32: return TensorProto::INT32;
    case DataType::i64: return TensorProto::INT64;
    case DataType::boolean: return TensorProto::BOOL;
  }
  return TensorProto::UNDEFINED;
}

bool is8(DataType t) { return t == DataType::u8 || t == DataType::s8; }
int qmin(DataType t) { return t == DataType::u8 ? 0 : -128; }
int qmax(DataType t) { return t == DataType::u8 ? 255 : 127; }

// NHWC axis -> NCHW axis.
const int64_t kToNchwAxis[4] = {0, 2, 3, 1};

struct Val {
  std::string name;
  bool nchw = false;
  bool set = false;
};

class Exporter {
 public:
  Exporter(const detail::ModelData& m, QdqExportReport* rep) : m_(m), rep_(rep), vals_(m.tensors.size()) {
    model_.set_ir_version(8);
    model_.set_producer_name("octet export-qdq");
    model_.set_producer_version(octet::version());
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(13);
    g_ = model_.mutable_graph();
    g_->set_name("octet_qdq");
  }

  onnx::ModelProto run() {
    for (int t : m_.inputs) {
      const auto& td = m_.tensor(t);
      add_io(g_->add_input(), td, td.name);
      used_.insert(td.name);
      vals_[t] = {td.name, false, true};
    }
    // Graph output names are reserved for the final values.
    for (int t : m_.outputs) reserved_.insert(m_.tensor(t).name);
    for (const auto& n : m_.nodes) node(n);
    for (int t : m_.outputs) {
      const auto& td = m_.tensor(t);
      std::string v = octet_layout(t);
      if (v != td.name) {
        used_.insert(td.name);
        add_node("Identity", {v}, {td.name}, td.name + "_out");
      }
      add_io(g_->add_output(), td, td.name);
    }
    rep_->onnx_nodes = g_->node_size();
    if (rep_->uses_contrib) {
      auto* op = model_.add_opset_import();
      op->set_domain("com.microsoft");
      op->set_version(1);
    }
    return std::move(model_);
  }

 private:
  const detail::ModelData& m_;
  QdqExportReport* rep_;
  onnx::ModelProto model_;
  onnx::GraphProto* g_ = nullptr;
  std::vector<Val> vals_;
  std::set<std::string> used_, reserved_, notes_;
  std::map<std::string, std::string> cache_;   // memoized initializers / transposes
  const NodeDef* cur_ = nullptr;

  // ---- names, nodes, initializers -------------------------------------------------------
  std::string fresh(const std::string& base) {
    std::string b = base.empty() ? "t" : base;
    if (!used_.count(b) && !reserved_.count(b)) {
      used_.insert(b);
      return b;
    }
    for (int i = 1;; ++i) {
      std::string s = b + "_" + std::to_string(i);
      if (!used_.count(s) && !reserved_.count(s)) {
        used_.insert(s);
        return s;
      }
    }
  }

  [[noreturn]] void refuse(const std::string& why) const {
    throw Error("node '" + cur_->name + "' (" + op_name(cur_->op) + ", " + precision_name(cur_->precision) +
                "): " + why);
  }

  void note(const std::string& s) {
    if (notes_.insert(s).second) rep_->notes.push_back(s);
  }

  onnx::NodeProto* add_node(const std::string& op, const std::vector<std::string>& ins, const std::vector<std::string>& outs,
                            const std::string& name, const std::string& domain = "") {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(fresh(name));
    if (!domain.empty()) n->set_domain(domain);
    for (const auto& i : ins) n->add_input(i);
    for (const auto& o : outs) n->add_output(o);
    return n;
  }
  // One new output named after `base`.
  std::string op1(const std::string& op, const std::vector<std::string>& ins, const std::string& base,
                  onnx::NodeProto** node_out = nullptr, const std::string& domain = "") {
    std::string out = fresh(base);
    auto* n = add_node(op, ins, {out}, base + "_" + op, domain);
    if (node_out) *node_out = n;
    return out;
  }
  static void attr_i(onnx::NodeProto* n, const char* k, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_f(onnx::NodeProto* n, const char* k, float v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_s(onnx::NodeProto* n, const char* k, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr_is(onnx::NodeProto* n, const char* k, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void attr_ss(onnx::NodeProto* n, const char* k, const std::vector<std::string>& v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& x : v) a->add_strings(x);
  }

  std::string init_raw(const std::string& base, int type, const std::vector<int64_t>& dims, const void* data, size_t bytes) {
    auto* t = g_->add_initializer();
    std::string name = fresh(base);
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(static_cast<const char*>(data), bytes));
    return name;
  }
  std::string init_f(const std::string& base, const std::vector<float>& v, bool scalar) {
    return init_raw(base, TensorProto::FLOAT, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{(int64_t)v.size()}, v.data(),
                    v.size() * 4);
  }
  std::string init_i64(const std::string& base, const std::vector<int64_t>& v, bool scalar = false) {
    return init_raw(base, TensorProto::INT64, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{(int64_t)v.size()}, v.data(),
                    v.size() * 8);
  }
  std::string init_zp(const std::string& base, DataType dt, const std::vector<int32_t>& zp, bool scalar) {
    std::vector<int64_t> dims = scalar ? std::vector<int64_t>{} : std::vector<int64_t>{(int64_t)zp.size()};
    if (dt == DataType::u8) {
      std::vector<uint8_t> v(zp.begin(), zp.end());
      return init_raw(base, TensorProto::UINT8, dims, v.data(), v.size());
    }
    if (dt == DataType::s8) {
      std::vector<int8_t> v(zp.begin(), zp.end());
      return init_raw(base, TensorProto::INT8, dims, v.data(), v.size());
    }
    return init_raw(base, TensorProto::INT32, dims, zp.data(), zp.size() * 4);
  }

  void add_io(onnx::ValueInfoProto* vi, const TensorDef& td, const std::string& name) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx_type(td.dtype));
    auto* sh = tt->mutable_shape();
    for (size_t i = 0; i < td.shape.size(); ++i) {
      auto* d = sh->add_dim();
      if (td.shape[i] >= 0 && (td.dim_names.size() <= i || td.dim_names[i].empty()))
        d->set_dim_value(td.shape[i]);
      else
        d->set_dim_param(td.dim_names.size() > i && !td.dim_names[i].empty() && td.dim_names[i] != "?" ? td.dim_names[i]
                                                                                                      : name + "_d" + std::to_string(i));
    }
  }

  // ---- tensors --------------------------------------------------------------------------
  const TensorDef& T(int t) const { return m_.tensor(t); }
  int in(size_t i) const { return i < cur_->inputs.size() ? cur_->inputs[i] : -1; }
  int out(size_t i) const { return i < cur_->outputs.size() ? cur_->outputs[i] : -1; }

  // A constant as an initializer in octet's layout (or NCHW for rank-4 data when nchw).
  std::string constant(int t, bool nchw = false) {
    std::string key = "const:" + std::to_string(t) + (nchw ? ":nchw" : "");
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const auto& td = T(t);
    std::string name;
    if (!nchw) {
      name = init_raw(td.name, onnx_type(td.dtype), td.shape, td.data, td.data_bytes);
    } else {
      // Right-align to rank 4 (numpy broadcasting), then permute [0,3,1,2].
      Shape s = td.shape;
      while (s.size() < 4) s.insert(s.begin(), 1);
      Shape o = {s[0], s[3], s[1], s[2]};
      size_t es = dtype_size(td.dtype);
      std::vector<uint8_t> buf(td.data_bytes);
      for (int64_t n = 0; n < s[0]; ++n)
        for (int64_t h = 0; h < s[1]; ++h)
          for (int64_t w = 0; w < s[2]; ++w)
            for (int64_t c = 0; c < s[3]; ++c) {
              size_t src = (((n * s[1] + h) * s[2] + w) * s[3] + c) * es;
              size_t dst = (((n * s[3] + c) * s[1] + h) * s[2] + w) * es;
              std::memcpy(&buf[dst], td.data + src, es);
            }
      name = init_raw(td.name + "_nchw", onnx_type(td.dtype), o, buf.data(), buf.size());
    }
    cache_[key] = name;
    return name;
  }

  Val value(int t) {
    if (vals_[t].set) return vals_[t];
    const auto& td = T(t);
    if (td.is_constant()) return {constant(t), false, true};
    throw Error("tensor '" + td.name + "' is used before it is produced");
  }

  std::string transpose(const std::string& x, const std::vector<int64_t>& perm, const std::string& base) {
    std::string key = "tr:" + x + ":" + std::to_string(perm[1]);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    onnx::NodeProto* n;
    std::string o = op1("Transpose", {x}, base, &n);
    attr_is(n, "perm", perm);
    cache_[key] = o;
    return o;
  }
  // The tensor in octet's layout.
  std::string octet_layout(int t) {
    Val v = value(t);
    if (!v.nchw) return v.name;
    return transpose(v.name, {0, 2, 3, 1}, T(t).name + "_nhwc");
  }
  // A rank-4 NHWC octet tensor as NCHW.
  std::string nchw(int t) {
    const auto& td = T(t);
    if (td.is_constant()) return constant(t, true);
    Val v = value(t);
    if (v.nchw) return v.name;
    if (td.shape.size() != 4) refuse("input '" + td.name + "' is not rank 4");
    return transpose(v.name, {0, 3, 1, 2}, td.name + "_nchw");
  }
  std::string layout(int t, bool want_nchw) { return want_nchw ? nchw(t) : octet_layout(t); }

  // Scale and zero point initializers of an 8-bit/s32 tensor (axis remapped when NCHW).
  struct QParams {
    std::string scale, zp;
    int axis = -1;
  };
  QParams qparams(int t, bool nchw_axis) {
    const auto& td = T(t);
    const auto& q = td.quant;
    if (q.empty()) refuse("tensor '" + td.name + "' has no quantization parameters");
    std::string key = "q:" + std::to_string(t) + (nchw_axis ? ":n" : "");
    QParams p;
    p.axis = q.axis;
    if (q.axis >= 0 && nchw_axis) {
      int rank = (int)td.shape.size();
      int a = q.axis + (4 - rank);
      p.axis = (int)kToNchwAxis[a];
    }
    auto it = cache_.find(key + ":s");
    if (it != cache_.end()) {
      p.scale = it->second;
      p.zp = cache_[key + ":z"];
      return p;
    }
    bool scalar = q.axis < 0;
    std::vector<int32_t> zp = q.zero_point;
    if (!scalar && zp.size() == 1) zp.assign(q.scale.size(), zp[0]);
    p.scale = cache_[key + ":s"] = init_f(td.name + "_scale", q.scale, scalar);
    p.zp = cache_[key + ":z"] = init_zp(td.name + "_zp", td.dtype, zp, scalar);
    return p;
  }

  std::string dq_named(const std::string& x, int t, bool nchw_axis, const std::string& base) {
    QParams p = qparams(t, nchw_axis);
    onnx::NodeProto* n;
    std::string o = op1("DequantizeLinear", {x, p.scale, p.zp}, base, &n);
    if (p.axis >= 0) attr_i(n, "axis", p.axis);
    return o;
  }
  // Input i as float, in the requested layout (a dedicated DequantizeLinear per use).
  std::string fin(int t, bool want_nchw) {
    const auto& td = T(t);
    std::string x = layout(t, want_nchw);
    if (!is8(td.dtype) && td.dtype != DataType::s32) return x;
    if (td.quant.empty()) refuse("8-bit tensor '" + td.name + "' has no quantization parameters");
    return dq_named(x, t, want_nchw, td.name + "_dq");
  }

  // Finish an output: quantize into an 8-bit octet tensor, or take the float value as is.
  void finish(const std::string& x, int t, bool is_nchw) {
    const auto& td = T(t);
    if (is8(td.dtype)) {
      QParams p = qparams(t, is_nchw && td.shape.size() == 4);
      std::string o = fresh(td.name);
      auto* n = add_node("QuantizeLinear", {x, p.scale, p.zp}, {o}, td.name + "_QuantizeLinear");
      if (p.axis >= 0) attr_i(n, "axis", p.axis);
      vals_[t] = {o, is_nchw, true};
    } else {
      // Name the producing node's output after the octet tensor when it is still free.
      auto* last = g_->mutable_node(g_->node_size() - 1);
      if (last->output_size() >= 1 && last->output(0) == x && !used_.count(td.name) && !reserved_.count(td.name)) {
        used_.insert(td.name);
        last->set_output(0, td.name);
        vals_[t] = {td.name, is_nchw, true};
      } else {
        vals_[t] = {x, is_nchw, true};
      }
    }
  }
  void alias(int t_out, const std::string& name, bool is_nchw) { vals_[t_out] = {name, is_nchw, true}; }

  // ---- activations ---------------------------------------------------------------------
  // Applies `a` to float x. With an 8-bit output whose quantization clamps exactly what the
  // activation would (Relu/Clip with the zero point at the bottom), the activation is left to
  // QuantizeLinear, as ONNX Runtime's own quantizer does.
  std::string act(const std::string& x, const Activation& a, int t_out) {
    const auto& td = T(t_out);
    bool q = is8(td.dtype) && td.quant.axis < 0 && !td.quant.empty();
    float s = q ? td.quant.scale[0] : 0;
    int zp = q ? td.quant.zero_point[0] : 0;
    onnx::NodeProto* n;
    switch (a.kind) {
      case ActKind::None: return x;
      case ActKind::Relu:
        if (q && zp == qmin(td.dtype)) return x;
        return op1("Relu", {x}, x + "_relu");
      case ActKind::Clip: {
        if (q && s * (qmin(td.dtype) - zp) >= a.alpha && s * (qmax(td.dtype) - zp) <= a.beta + 0.5f * s) return x;
        std::string lo = init_f("clip_min", {a.alpha}, true), hi = init_f("clip_max", {a.beta}, true);
        return op1("Clip", {x, lo, hi}, x + "_clip");
      }
      case ActKind::LeakyRelu:
        op1("LeakyRelu", {x}, x + "_lrelu", &n);
        attr_f(n, "alpha", a.alpha);
        return n->output(0);
      case ActKind::HardSigmoid:
        op1("HardSigmoid", {x}, x + "_hsig", &n);
        attr_f(n, "alpha", a.alpha);
        attr_f(n, "beta", a.beta);
        return n->output(0);
      case ActKind::HardSwish: return hardswish(x);
      case ActKind::Sigmoid: return op1("Sigmoid", {x}, x + "_sigmoid");
      case ActKind::Tanh: return op1("Tanh", {x}, x + "_tanh");
      case ActKind::Gelu: return gelu(x, false);
    }
    return x;
  }
  std::string hardswish(const std::string& x) {   // opset 13 has no HardSwish: x * HardSigmoid(x, 1/6, 0.5)
    onnx::NodeProto* n;
    op1("HardSigmoid", {x}, x + "_hsig", &n);
    attr_f(n, "alpha", 1.0f / 6);
    attr_f(n, "beta", 0.5f);
    return op1("Mul", {x, n->output(0)}, x + "_hswish");
  }
  std::string gelu(const std::string& x, bool tanh_approx) {   // opset 13 has no Gelu
    if (!tanh_approx) {
      std::string e = op1("Div", {x, init_f("sqrt2", {std::sqrt(2.0f)}, true)}, x + "_gelu_div");
      e = op1("Erf", {e}, x + "_gelu_erf");
      e = op1("Add", {e, init_f("one", {1.0f}, true)}, x + "_gelu_add");
      e = op1("Mul", {x, e}, x + "_gelu_mul");
      return op1("Mul", {e, init_f("half", {0.5f}, true)}, x + "_gelu");
    }
    std::string x3 = op1("Mul", {x, op1("Mul", {x, x}, x + "_sq")}, x + "_cube");
    std::string inner = op1("Add", {x, op1("Mul", {x3, init_f("c", {0.044715f}, true)}, x + "_c3")}, x + "_in");
    inner = op1("Mul", {inner, init_f("k", {0.7978845608f}, true)}, x + "_k");
    std::string th = op1("Add", {op1("Tanh", {inner}, x + "_tanh"), init_f("one", {1.0f}, true)}, x + "_t1");
    return op1("Mul", {op1("Mul", {x, th}, x + "_xt"), init_f("half", {0.5f}, true)}, x + "_gelu");
  }

  // ---- nodes ---------------------------------------------------------------------------
  void count() {
    if (cur_->precision == Precision::Int8Static) ++rep_->nodes_qdq;
    else if (cur_->precision == Precision::Int8Dynamic) ++rep_->nodes_dynamic;
    else ++rep_->nodes_float;
  }

  bool same_quant(int a, int b) const {
    const auto& x = T(a).quant;
    const auto& y = T(b).quant;
    return T(a).dtype == T(b).dtype && x.scale == y.scale && x.zero_point == y.zero_point && x.axis == y.axis;
  }

  void node(const NodeDef& n) {
    cur_ = &n;
    count();
    const auto& j = n.attrs.json();
    switch (n.op) {
      case OpKind::QuantizeLinear: {
        Val v = value(in(0));
        std::string x = v.name;
        if (T(in(0)).dtype != DataType::f32) x = fin(in(0), v.nchw);
        finish(x, out(0), v.nchw);
        return;
      }
      case OpKind::DequantizeLinear: {
        Val v = value(in(0));
        std::string x = dq_named(v.name, in(0), v.nchw && T(in(0)).shape.size() == 4, T(out(0)).name);
        finish(x, out(0), v.nchw);
        return;
      }
      case OpKind::Transpose: return transpose_node(n);
      case OpKind::Conv: return conv(n);
      case OpKind::FullyConnected: return fully_connected(n);
      case OpKind::MatMul: return matmul(n);
      case OpKind::MaxPool:
      case OpKind::AveragePool:
      case OpKind::GlobalAveragePool: return pool(n);
      case OpKind::Add:
      case OpKind::Sub:
      case OpKind::Mul:
      case OpKind::Div:
      case OpKind::Pow:
      case OpKind::Max:
      case OpKind::Min:
      case OpKind::Where:
      case OpKind::Equal: return elementwise(n, op_name(n.op));
      case OpKind::Relu:
      case OpKind::LeakyRelu:
      case OpKind::Clip:
      case OpKind::Sigmoid:
      case OpKind::Tanh:
      case OpKind::HardSwish:
      case OpKind::HardSigmoid:
      case OpKind::Gelu:
      case OpKind::Erf:
      case OpKind::Exp:
      case OpKind::Log:
      case OpKind::Sqrt:
      case OpKind::Neg:
      case OpKind::Abs:
      case OpKind::Reciprocal: return unary(n);
      case OpKind::Concat: return concat(n);
      case OpKind::Reshape:
      case OpKind::Flatten:
      case OpKind::Squeeze:
      case OpKind::Unsqueeze:
      case OpKind::Slice:
      case OpKind::Split:
      case OpKind::Gather:
      case OpKind::Expand: return data_movement(n);
      case OpKind::Pad: return pad(n);
      case OpKind::Resize: return resize(n);
      case OpKind::Cast: {
        std::string x = fin(in(0), value(in(0)).nchw);
        onnx::NodeProto* nd;
        std::string o = op1("Cast", {x}, T(out(0)).name, &nd);
        attr_i(nd, "to", onnx_type(T(out(0)).dtype));
        finish(o, out(0), value(in(0)).nchw);
        return;
      }
      case OpKind::ReduceMean:
      case OpKind::ReduceMax:
      case OpKind::ReduceSum: return reduce(n);
      case OpKind::Softmax: {
        std::string x = fin(in(0), false);
        onnx::NodeProto* nd;
        std::string o = op1("Softmax", {x}, T(out(0)).name, &nd);
        attr_i(nd, "axis", n.attrs.get_int("axis", -1));
        finish(o, out(0), false);
        return;
      }
      case OpKind::LayerNormalization: return layernorm(n);
      case OpKind::LSTM:
      case OpKind::GRU:
      case OpKind::RNN: return recurrent(n);
      default: break;
    }
    (void)j;
    refuse("no ONNX translation for this op in export-qdq");
  }

  void transpose_node(const NodeDef& n) {
    auto perm = n.attrs.get_ints("perm");
    Val v = value(in(0));
    if (perm == std::vector<int64_t>{0, 2, 3, 1} && !v.nchw && same_quant(in(0), out(0)) && T(in(0)).dtype == T(out(0)).dtype)
      return alias(out(0), v.name, true);   // octet's to-NHWC: ONNX keeps NCHW
    if (perm == std::vector<int64_t>{0, 3, 1, 2} && v.nchw && same_quant(in(0), out(0)) && T(in(0)).dtype == T(out(0)).dtype)
      return alias(out(0), v.name, false);   // and back
    std::string x = octet_layout(in(0));
    if (!same_quant(in(0), out(0))) x = fin(in(0), false);
    onnx::NodeProto* nd;
    std::string o = op1("Transpose", {x}, T(out(0)).name, &nd);
    attr_is(nd, "perm", perm);
    if (!same_quant(in(0), out(0))) finish(o, out(0), false);
    else alias(out(0), o, false);
  }

  bool is_static() const { return cur_->precision == Precision::Int8Static; }

  // A constant 8-bit/s32 tensor as a DequantizeLinear of its codes (or the float constant).
  std::string weight(int t, const std::string& codes_init) {
    const auto& td = T(t);
    if (td.dtype == DataType::f32) return codes_init;
    return dq_named(codes_init, t, false, td.name + "_dq");
  }

  // OHWI -> OIHW (any element size).
  std::string ohwi_to_oihw(int t) {
    const auto& td = T(t);
    const auto& s = td.shape;
    int64_t O = s[0], H = s[1], W = s[2], I = s[3];
    size_t es = dtype_size(td.dtype);
    std::vector<uint8_t> buf(td.data_bytes);
    for (int64_t o = 0; o < O; ++o)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t i = 0; i < I; ++i)
            std::memcpy(&buf[(((o * I + i) * H + h) * W + w) * es], td.data + (((o * H + h) * W + w) * I + i) * es, es);
    return init_raw(td.name + "_oihw", onnx_type(td.dtype), {O, I, H, W}, buf.data(), buf.size());
  }

  // [rows, cols] -> [cols, rows] (any element size).
  std::string transposed_2d(int t, const std::string& suffix) {
    const auto& td = T(t);
    int64_t R = td.shape[0], C = td.shape[1];
    size_t es = dtype_size(td.dtype);
    std::vector<uint8_t> buf(td.data_bytes);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) std::memcpy(&buf[(c * R + r) * es], td.data + (r * C + c) * es, es);
    return init_raw(td.name + suffix, onnx_type(td.dtype), {C, R}, buf.data(), buf.size());
  }

  // Float weights dequantized from octet's codes (for dynamic nodes ONNX has no int8 form for).
  std::vector<float> dequantized(int t) {
    const auto& td = T(t);
    size_t count = td.data_bytes / dtype_size(td.dtype);
    std::vector<float> out(count);
    if (td.dtype == DataType::f32) {
      std::memcpy(out.data(), td.data, td.data_bytes);
      return out;
    }
    const auto& q = td.quant;
    size_t inner = 1, ch = 1;
    if (q.axis >= 0) {
      ch = (size_t)td.shape[q.axis];
      for (size_t d = q.axis + 1; d < td.shape.size(); ++d) inner *= (size_t)td.shape[d];
    }
    for (size_t i = 0; i < count; ++i) {
      size_t c = q.axis >= 0 ? (i / inner) % ch : 0;
      float s = q.scale[q.axis >= 0 ? c : 0];
      int32_t z = q.zero_point.size() > 1 ? q.zero_point[c] : q.zero_point[0];
      int32_t v = td.dtype == DataType::s8 ? (int32_t)((const int8_t*)td.data)[i]
                  : td.dtype == DataType::u8 ? (int32_t)td.data[i]
                                              : ((const int32_t*)td.data)[i];
      out[i] = s * (float)(v - z);
    }
    return out;
  }

  void conv(const NodeDef& n) {
    int x = in(0), w = in(1), b = in(2), r = in(3), y = out(0);
    if (!T(w).is_constant()) refuse("weights are not a constant");
    if (cur_->precision == Precision::Int8Dynamic) refuse("int8_dynamic Conv has no ONNX Runtime dynamic form in export-qdq");
    std::string xf = fin(x, true);
    std::string wf = weight(w, ohwi_to_oihw(w));
    std::vector<std::string> ins = {xf, wf};
    if (b >= 0) ins.push_back(weight(b, constant(b)));
    onnx::NodeProto* nd;
    std::string o = op1("Conv", ins, T(y).name + "_conv", &nd);
    const auto& s = T(w).shape;
    attr_is(nd, "kernel_shape", {s[1], s[2]});
    attr_is(nd, "strides", n.attrs.get_ints("strides", {1, 1}));
    attr_is(nd, "pads", n.attrs.get_ints("pads", {0, 0, 0, 0}));
    attr_is(nd, "dilations", n.attrs.get_ints("dilations", {1, 1}));
    attr_i(nd, "group", n.attrs.get_int("group", 1));
    if (r >= 0) {
      if (is_static() && is8(T(y).dtype) && is8(T(r).dtype)) {
        // ONNX Runtime's QLinearConv needs a quantized conv output before the Add: a range that
        // never clips, derived from octet's ranges (y = act(c + r)).
        const auto& qy = T(y).quant;
        const auto& qr = T(r).quant;
        float ylo = qy.scale[0] * (qmin(T(y).dtype) - qy.zero_point[0]), yhi = qy.scale[0] * (qmax(T(y).dtype) - qy.zero_point[0]);
        float rlo = qr.scale[0] * (qmin(T(r).dtype) - qr.zero_point[0]), rhi = qr.scale[0] * (qmax(T(r).dtype) - qr.zero_point[0]);
        bool relu_like = n.activation.kind == ActKind::Relu || (n.activation.kind == ActKind::Clip && n.activation.alpha >= 0);
        float lo = relu_like ? std::min(0.0f, -rhi) : ylo - rhi;
        float hi = yhi - rlo;
        lo = std::min(lo, 0.0f);
        hi = std::max(hi, 0.0f);
        float sc = (hi - lo) / 255.0f;
        int zp = (int)std::lround(-lo / sc);
        zp = std::clamp(zp, 0, 255);
        std::string s_init = init_f(T(y).name + "_pre_add_scale", {sc}, true);
        std::string z_init = init_zp(T(y).name + "_pre_add_zp", DataType::u8, {zp}, true);
        std::string cq = op1("QuantizeLinear", {o, s_init, z_init}, T(y).name + "_pre_add_q");
        o = op1("DequantizeLinear", {cq, s_init, z_init}, T(y).name + "_pre_add_dq");
        note("fused residual Add: ONNX Runtime's int8 form quantizes the conv output before the Add (range derived from octet's, "
             "never clipping; a step of up to ~2x the output's), octet adds in float: about a step of difference there, which later layers can amplify");
      }
      o = op1("Add", {o, fin(r, true)}, T(y).name + "_add");
    }
    o = act(o, n.activation, y);
    finish(o, y, true);
  }

  void fully_connected(const NodeDef& n) {
    int x = in(0), w = in(1), b = in(2), y = out(0);
    if (!T(w).is_constant()) refuse("weights are not a constant");
    int rank = (int)T(x).shape.size();
    Val xv = value(x);
    bool x_nchw_ok = xv.nchw && rank == 4;   // flattened order matters: use octet's layout
    (void)x_nchw_ok;
    if (cur_->precision == Precision::Int8Dynamic) {
      if (dynamic_input_per_row(n))
        note("dynamic FullyConnected nodes quantize their input per row in octet (--dynamic-input per-row) but per "
             "tensor in the export: ONNX's DynamicQuantizeLinear has one scale per tensor");
      std::string o = dynamic_matmul(fin(x, false), w, T(y).name);
      if (b >= 0) o = op1("Add", {o, b >= 0 && T(b).dtype == DataType::f32 ? constant(b) : weight(b, constant(b))}, T(y).name + "_bias");
      o = act(o, n.activation, y);
      return finish(o, y, false);
    }
    std::string xf = fin(x, false);
    std::string o;
    if (rank == 2) {
      std::vector<std::string> ins = {xf, weight(w, constant(w))};
      if (b >= 0) ins.push_back(weight(b, constant(b)));
      onnx::NodeProto* nd;
      o = op1("Gemm", ins, T(y).name + "_gemm", &nd);
      attr_i(nd, "transB", 1);
    } else {
      // MatMul with W^T [K, N] (per-channel axis becomes 1), then the bias.
      std::string wt = transposed_2d(w, "_t");
      std::string wf = wt;
      if (T(w).dtype != DataType::f32) {
        QParams p = qparams(w, false);
        onnx::NodeProto* nd;
        wf = op1("DequantizeLinear", {wt, p.scale, p.zp}, T(w).name + "_t_dq", &nd);
        if (p.axis >= 0) attr_i(nd, "axis", 1);
      }
      o = op1("MatMul", {xf, wf}, T(y).name + "_matmul");
      if (b >= 0) o = op1("Add", {o, weight(b, constant(b))}, T(y).name + "_bias");
    }
    o = act(o, n.activation, y);
    finish(o, y, false);
  }

  // DynamicQuantizeLinear(x) + MatMulInteger(xq, W^T codes) * (s_x * s_w[n]): what ONNX
  // Runtime's quantize_dynamic emits (and fuses into DynamicQuantizeMatMul).
  std::string dynamic_matmul(const std::string& xf, int w, const std::string& base) {
    const auto& td = T(w);
    if (td.dtype != DataType::s8 || td.shape.size() != 2) refuse("dynamic weights must be s8 [N, K]");
    auto* dql = add_node("DynamicQuantizeLinear", {xf}, {fresh(base + "_xq"), fresh(base + "_xs"), fresh(base + "_xzp")},
                         base + "_DynamicQuantizeLinear");
    std::string wt = transposed_2d(w, "_t");
    std::string acc = op1("MatMulInteger", {dql->output(0), wt, dql->output(2)}, base + "_mmi");
    onnx::NodeProto* c;
    std::string accf = op1("Cast", {acc}, base + "_accf", &c);
    attr_i(c, "to", TensorProto::FLOAT);
    std::vector<float> ws = td.quant.scale;
    if (ws.size() == 1) ws.assign((size_t)td.shape[0], ws[0]);
    std::string sc = op1("Mul", {dql->output(1), init_f(td.name + "_wscale", ws, false)}, base + "_scale");
    return op1("Mul", {accf, sc}, base + "_deq");
  }

  void matmul(const NodeDef& n) {
    int a = in(0), b = in(1), y = out(0);
    if (cur_->precision == Precision::Int8Dynamic && T(b).is_constant() && T(b).dtype == DataType::s8 && T(b).shape.size() == 2) {
      // B [K, N] codes; its per-channel axis is 1 (or per tensor).
      const auto& td = T(b);
      if (td.quant.axis == 0) refuse("dynamic MatMul with B quantized per row");
      auto* dql = add_node("DynamicQuantizeLinear", {fin(a, false)}, {fresh(td.name + "_xq"), fresh(td.name + "_xs"), fresh(td.name + "_xzp")},
                           T(y).name + "_DynamicQuantizeLinear");
      std::string acc = op1("MatMulInteger", {dql->output(0), constant(b), dql->output(2)}, T(y).name + "_mmi");
      onnx::NodeProto* c;
      std::string accf = op1("Cast", {acc}, T(y).name + "_accf", &c);
      attr_i(c, "to", TensorProto::FLOAT);
      std::vector<float> ws = td.quant.scale;
      std::string sc = op1("Mul", {dql->output(1), init_f(td.name + "_wscale", ws, ws.size() == 1)}, T(y).name + "_scale");
      std::string o = op1("Mul", {accf, sc}, T(y).name + "_deq");
      return finish(act(o, n.activation, y), y, false);
    }
    std::string af = fin(a, false);
    std::string bf = T(b).is_constant() ? weight(b, constant(b)) : fin(b, false);
    if (cur_->precision == Precision::Int8Dynamic) {
      note("dynamic MatMul with a non-constant B: float MatMul in ONNX");
      if (T(b).is_constant()) bf = init_f(T(b).name + "_f", dequantized(b), false);
    }
    std::string o = op1("MatMul", {af, bf}, T(y).name + "_matmul");
    finish(act(o, n.activation, y), y, false);
  }

  void pool(const NodeDef& n) {
    int x = in(0), y = out(0);
    const char* op = n.op == OpKind::MaxPool ? "MaxPool" : n.op == OpKind::AveragePool ? "AveragePool" : "GlobalAveragePool";
    // MaxPool moves codes: run it on the 8-bit tensor (ONNX Runtime would drop the Q/DQ anyway).
    bool direct = n.op == OpKind::MaxPool && is8(T(x).dtype) && same_quant(x, y);
    std::string xi = direct ? nchw(x) : fin(x, true);
    onnx::NodeProto* nd;
    std::string o = op1(op, {xi}, T(y).name + "_pool", &nd);
    if (n.op != OpKind::GlobalAveragePool) {
      attr_is(nd, "kernel_shape", n.attrs.get_ints("kernel_shape"));
      attr_is(nd, "strides", n.attrs.get_ints("strides", {1, 1}));
      attr_is(nd, "pads", n.attrs.get_ints("pads", {0, 0, 0, 0}));
      if (n.attrs.get_int("ceil_mode", 0)) attr_i(nd, "ceil_mode", 1);
      auto dil = n.attrs.get_ints("dilations", {1, 1});
      if (n.op == OpKind::MaxPool) attr_is(nd, "dilations", dil);
      else if (dil != std::vector<int64_t>{1, 1}) refuse("AveragePool dilations need opset 19");
      if (n.op == OpKind::AveragePool && n.attrs.get_int("count_include_pad", 0)) attr_i(nd, "count_include_pad", 1);
    }
    if (direct) return alias(y, o, true);
    finish(act(o, n.activation, y), y, true);
  }

  void elementwise(const NodeDef& n, const std::string& op) {
    // NCHW when every non-constant input is held NCHW (rank 4) and the output is rank 4.
    bool all_nchw = T(out(0)).shape.size() == 4;
    bool any_var = false;
    for (int t : n.inputs) {
      if (t < 0) continue;
      if (T(t).is_constant()) continue;
      any_var = true;
      if (!(value(t).nchw && T(t).shape.size() == 4)) all_nchw = false;
    }
    if (!any_var) all_nchw = false;
    std::vector<std::string> ins;
    for (int t : n.inputs) {
      if (T(t).is_constant()) {
        bool scalar = T(t).data_bytes == dtype_size(T(t).dtype);
        std::string c = constant(t, all_nchw && !scalar);
        ins.push_back(is8(T(t).dtype) || T(t).dtype == DataType::s32 ? dq_named(c, t, false, T(t).name + "_dq") : c);
        if (all_nchw && !scalar && T(t).quant.axis >= 0) refuse("per-channel constant operand in NCHW");
      } else {
        ins.push_back(fin(t, all_nchw));
      }
    }
    std::string o = op1(op, ins, T(out(0)).name + "_" + op);
    finish(act(o, n.activation, out(0)), out(0), all_nchw);
  }

  void unary(const NodeDef& n) {
    int x = in(0), y = out(0);
    Val v = value(x);
    bool nc = v.nchw && T(x).shape.size() == 4;
    std::string xf = fin(x, nc);
    std::string base = T(y).name;
    onnx::NodeProto* nd = nullptr;
    std::string o;
    const auto& j = n.attrs.json();
    auto jf = [&](const char* k, float d) { return j.is_object() && j.contains(k) ? j.at(k).get<float>() : d; };
    switch (n.op) {
      case OpKind::HardSwish: o = hardswish(xf); break;
      case OpKind::Gelu: o = gelu(xf, n.attrs.get_string("approximate", "none") == "tanh"); break;
      case OpKind::Clip: {
        std::vector<std::string> ins = {xf};
        ins.push_back(j.contains("min") ? init_f("clip_min", {jf("min", 0)}, true) : "");
        if (j.contains("max")) ins.push_back(init_f("clip_max", {jf("max", 0)}, true));
        o = op1("Clip", ins, base + "_clip");
        break;
      }
      case OpKind::LeakyRelu:
        o = op1("LeakyRelu", {xf}, base + "_lrelu", &nd);
        attr_f(nd, "alpha", jf("alpha", 0.01f));
        break;
      case OpKind::HardSigmoid:
        o = op1("HardSigmoid", {xf}, base + "_hsig", &nd);
        attr_f(nd, "alpha", jf("alpha", 0.2f));
        attr_f(nd, "beta", jf("beta", 0.5f));
        break;
      default: o = op1(op_name(n.op), {xf}, base + "_" + op_name(n.op)); break;
    }
    finish(o, y, nc);
  }

  void concat(const NodeDef& n) {
    int rank = (int)T(out(0)).shape.size();
    int64_t axis = n.attrs.get_int("axis");
    if (axis < 0) axis += rank;
    bool all_nchw = rank == 4;
    for (int t : n.inputs)
      if (T(t).is_constant() || !value(t).nchw) all_nchw = false;
    std::vector<std::string> ins;
    for (int t : n.inputs) ins.push_back(fin(t, all_nchw));
    onnx::NodeProto* nd;
    std::string o = op1("Concat", ins, T(out(0)).name + "_concat", &nd);
    attr_i(nd, "axis", all_nchw ? kToNchwAxis[axis] : axis);
    finish(o, out(0), all_nchw);
  }

  // Ops that move codes (same quant in octet): applied to the 8-bit tensor directly.
  void data_movement(const NodeDef& n) {
    int x = in(0), y = out(0);
    bool codes = is8(T(x).dtype) && is8(T(y).dtype);
    for (int t : n.outputs)
      if (t >= 0 && codes && !same_quant(x, t)) codes = false;
    Val v = value(x);
    // An NCHW tensor with H = W = 1 has the same element order as its NHWC form.
    bool hw1 = v.nchw && T(x).shape.size() == 4 && T(x).shape[1] == 1 && T(x).shape[2] == 1;
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
    std::string xi = keep_nchw ? v.name : (codes ? octet_layout(x) : fin(x, false));
    std::string base = T(y).name;
    onnx::NodeProto* nd;
    std::vector<std::string> outs;
    switch (n.op) {
      case OpKind::Reshape: {
        if (n.attrs.get_int("allowzero", 0)) refuse("Reshape allowzero=1 needs opset 14");
        outs.push_back(op1("Reshape", {xi, init_i64(base + "_shape", n.attrs.get_ints("shape"))}, base + "_reshape"));
        break;
      }
      case OpKind::Flatten:
        outs.push_back(op1("Flatten", {xi}, base + "_flatten", &nd));
        attr_i(nd, "axis", n.attrs.get_int("axis", 1));
        break;
      case OpKind::Squeeze:
      case OpKind::Unsqueeze: {
        std::vector<std::string> ins = {xi};
        if (n.attrs.has("axes")) ins.push_back(init_i64(base + "_axes", n.attrs.get_ints("axes")));
        outs.push_back(op1(op_name(n.op), ins, base + "_" + op_name(n.op)));
        break;
      }
      case OpKind::Slice: {
        std::vector<std::string> ins = {xi, init_i64(base + "_starts", n.attrs.get_ints("starts")),
                                        init_i64(base + "_ends", n.attrs.get_ints("ends"))};
        if (n.attrs.has("axes") || n.attrs.has("steps")) {
          std::vector<int64_t> axes = n.attrs.get_ints("axes", {});
          if (axes.empty())
            for (size_t i = 0; i < n.attrs.get_ints("starts").size(); ++i) axes.push_back((int64_t)i);
          ins.push_back(init_i64(base + "_axes", axes));
          if (n.attrs.has("steps")) ins.push_back(init_i64(base + "_steps", n.attrs.get_ints("steps")));
        }
        outs.push_back(op1("Slice", ins, base + "_slice"));
        break;
      }
      case OpKind::Split: {
        std::vector<std::string> ins = {xi};
        if (n.attrs.has("split")) ins.push_back(init_i64(base + "_split", n.attrs.get_ints("split")));
        std::vector<std::string> os;
        for (int t : n.outputs) os.push_back(fresh(t >= 0 ? T(t).name + (codes ? "" : "_f") : base + "_unused"));
        nd = add_node("Split", ins, os, base + "_Split");
        attr_i(nd, "axis", n.attrs.get_int("axis", 0));
        outs = os;
        break;
      }
      case OpKind::Gather: {
        std::string idx = octet_layout(in(1));
        outs.push_back(op1("Gather", {xi, idx}, base + "_gather", &nd));
        attr_i(nd, "axis", n.attrs.get_int("axis", 0));
        break;
      }
      case OpKind::Expand:
        outs.push_back(op1("Expand", {xi, init_i64(base + "_shape", n.attrs.get_ints("shape"))}, base + "_expand"));
        break;
      default: refuse("internal: not a data movement op");
    }
    for (size_t i = 0; i < outs.size() && i < n.outputs.size(); ++i) {
      int t = n.outputs[i];
      if (t < 0) continue;
      if (codes || !is8(T(t).dtype)) alias(t, outs[i], false);
      else finish(outs[i], t, false);
    }
  }

  void pad(const NodeDef& n) {
    int x = in(0), y = out(0);
    std::string xf = fin(x, false);
    std::string mode = n.attrs.get_string("mode", "constant");
    std::vector<std::string> ins = {xf, init_i64(T(y).name + "_pads", n.attrs.get_ints("pads"))};
    if (mode == "constant") ins.push_back(init_f(T(y).name + "_value", {n.attrs.get_float("value", 0)}, true));
    onnx::NodeProto* nd;
    std::string o = op1("Pad", ins, T(y).name + "_pad", &nd);
    attr_s(nd, "mode", mode);
    finish(o, y, false);
  }

  void resize(const NodeDef& n) {
    int x = in(0), y = out(0);
    Val v = value(x);
    bool nc = v.nchw && T(x).shape.size() == 4;
    std::string xf = fin(x, nc);
    std::string base = T(y).name;
    std::string roi = init_f(base + "_roi", {}, false);
    std::vector<std::string> ins = {xf, roi};
    auto perm = [&](auto vec) {
      if (nc && vec.size() == 4) return decltype(vec){vec[0], vec[3], vec[1], vec[2]};
      return vec;
    };
    if (n.attrs.has("scales")) {
      ins.push_back(init_f(base + "_scales", perm(n.attrs.get_floats("scales", {})), false));
    } else {
      ins.push_back(init_f(base + "_scales", {}, false));
      ins.push_back(init_i64(base + "_sizes", perm(n.attrs.get_ints("sizes"))));
    }
    onnx::NodeProto* nd;
    std::string o = op1("Resize", ins, base + "_resize", &nd);
    attr_s(nd, "mode", n.attrs.get_string("mode", "nearest"));
    attr_s(nd, "coordinate_transformation_mode", n.attrs.get_string("coordinate_transformation_mode", "half_pixel"));
    attr_s(nd, "nearest_mode", n.attrs.get_string("nearest_mode", "round_prefer_floor"));
    finish(o, y, nc);
  }

  void reduce(const NodeDef& n) {
    int x = in(0), y = out(0);
    std::string xf = fin(x, false);
    std::string base = T(y).name;
    onnx::NodeProto* nd;
    std::string o;
    if (n.op == OpKind::ReduceSum) {
      std::vector<std::string> ins = {xf};
      if (n.attrs.has("axes")) ins.push_back(init_i64(base + "_axes", n.attrs.get_ints("axes")));
      o = op1("ReduceSum", ins, base + "_reduce", &nd);
    } else {
      o = op1(op_name(n.op), {xf}, base + "_reduce", &nd);
      if (n.attrs.has("axes")) attr_is(nd, "axes", n.attrs.get_ints("axes"));
    }
    attr_i(nd, "keepdims", n.attrs.get_int("keepdims", 1));
    finish(o, y, false);
  }

  void layernorm(const NodeDef& n) {   // opset 13 has no LayerNormalization: decompose
    int x = in(0), sc = in(1), b = in(2), y = out(0);
    int64_t axis = n.attrs.get_int("axis", -1);
    int rank = (int)T(x).shape.size();
    if (axis < 0) axis += rank;
    std::vector<int64_t> axes;
    for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
    std::string xf = fin(x, false), base = T(y).name;
    onnx::NodeProto* nd;
    std::string mean = op1("ReduceMean", {xf}, base + "_mean", &nd);
    attr_is(nd, "axes", axes);
    std::string d = op1("Sub", {xf, mean}, base + "_centered");
    std::string var = op1("ReduceMean", {op1("Mul", {d, d}, base + "_sq")}, base + "_var", &nd);
    attr_is(nd, "axes", axes);
    std::string den = op1("Sqrt", {op1("Add", {var, init_f(base + "_eps", {n.attrs.get_float("epsilon", 1e-5f)}, true)}, base + "_ve")},
                          base + "_std");
    std::string o = op1("Mul", {op1("Div", {d, den}, base + "_norm"), fin(sc, false)}, base + "_scaled");
    if (b >= 0) o = op1("Add", {o, fin(b, false)}, base + "_ln");
    finish(o, y, false);
  }

  // ONNX's B is [Wb, Rb] per direction: octet's summed [D, G*H] form becomes [sum, 0].
  std::string onnx_bias(int b, int64_t D, int64_t GH) {
    const auto& td = T(b);
    if (td.shape.back() == 2 * GH) return constant(b);
    std::vector<float> v(static_cast<size_t>(D * 2 * GH), 0.f);
    const float* src = reinterpret_cast<const float*>(td.data);
    for (int64_t d = 0; d < D; ++d) std::copy(src + d * GH, src + (d + 1) * GH, v.begin() + d * 2 * GH);
    return init_raw(td.name + "_wb_rb", TensorProto::FLOAT, {D, 2 * GH}, v.data(), v.size() * 4);
  }

  void recurrent(const NodeDef& n) {
    const char* op = op_name(n.op);
    int x = in(0), w = in(1), r = in(2), b = in(3), sl = in(4), h0 = in(5), c0 = n.op == OpKind::LSTM ? in(6) : -1;
    int64_t H = n.attrs.get_int("hidden_size");
    std::string dir = n.attrs.get_string("direction", "forward");
    int64_t D = dir == "bidirectional" ? 2 : 1;
    int64_t G = n.op == OpKind::LSTM ? 4 : n.op == OpKind::GRU ? 3 : 1;
    int64_t layout = n.attrs.get_int("layout", 0);
    std::string base = cur_->name;
    std::string xf = fin(x, false);
    std::string seq = "";
    if (sl >= 0) {
      seq = octet_layout(sl);
      if (T(sl).dtype != DataType::s32) {
        onnx::NodeProto* c;
        seq = op1("Cast", {seq}, base + "_seq_lens", &c);
        attr_i(c, "to", TensorProto::INT32);
      }
    }
    std::string bi = b >= 0 ? (T(b).is_constant() ? onnx_bias(b, D, G * H) : fin(b, false)) : "", hi = h0 >= 0 ? fin(h0, false) : "", ci = c0 >= 0 ? fin(c0, false) : "";
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
      outs.push_back(n.outputs[i] >= 0 ? fresh(T(n.outputs[i]).name) : std::string());
    auto bind_outputs = [&]() {
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i] >= 0) alias(n.outputs[i], outs[i], false);
    };
    bool dynamic = cur_->precision == Precision::Int8Dynamic && T(w).dtype == DataType::s8;
    if (dynamic && dynamic_input_per_row(n))
      note("recurrent nodes quantize X per row in octet (--dynamic-input per-row); ONNX Runtime's kernels choose "
           "their own activation quantization");
    if (dynamic && n.op == OpKind::LSTM && layout == 0) {
      // com.microsoft.DynamicQuantizeLSTM: W [D, I, 4H], R [D, H, 4H] (transposed per direction),
      // scales and zero points [D, 4H] per gate row.
      auto packed = [&](int t, std::string* codes, std::string* scale, std::string* zp) {
        const auto& td = T(t);
        int64_t rows = D * G * H, K = (int64_t)(td.data_bytes) / rows;
        std::vector<int8_t> buf((size_t)(rows * K));
        const int8_t* src = (const int8_t*)td.data;
        for (int64_t d = 0; d < D; ++d)
          for (int64_t g = 0; g < G * H; ++g)
            for (int64_t k = 0; k < K; ++k) buf[(size_t)((d * K + k) * G * H + g)] = src[(d * G * H + g) * K + k];
        *codes = init_raw(td.name + "_t", TensorProto::INT8, {D, K, G * H}, buf.data(), buf.size());
        std::vector<float> s = td.quant.scale;
        if (s.size() == 1) s.assign((size_t)rows, s[0]);
        *scale = init_raw(td.name + "_scale", TensorProto::FLOAT, {D, G * H}, s.data(), s.size() * 4);
        std::vector<int8_t> z((size_t)rows, 0);
        *zp = init_raw(td.name + "_zp", TensorProto::INT8, {D, G * H}, z.data(), z.size());
      };
      std::string wq, ws, wz, rq, rs, rz;
      packed(w, &wq, &ws, &wz);
      packed(r, &rq, &rs, &rz);
      auto* nd = add_node("DynamicQuantizeLSTM", {xf, wq, rq, bi, seq, hi, ci, "", ws, wz, rs, rz}, outs, base, "com.microsoft");
      common_attrs(nd);
      rep_->uses_contrib = true;
      return bind_outputs();
    }
    if (dynamic) {
      --rep_->nodes_dynamic;
      ++rep_->nodes_float;
      note(std::string(op) + " int8_dynamic: ONNX Runtime has no quantized " + op +
           (n.op == OpKind::LSTM ? " for layout=1" : "") + "; exported with float weights dequantized from octet's int8 codes");
    }
    auto fweights = [&](int t) {
      const auto& td = T(t);
      int64_t K = (int64_t)(td.data_bytes / dtype_size(td.dtype)) / (D * G * H);
      return init_raw(td.name + "_f", TensorProto::FLOAT, {D, G * H, K}, dequantized(t).data(), (size_t)(D * G * H * K) * 4);
    };
    std::string wf = fweights(w), rf = fweights(r);
    std::vector<std::string> ins = {xf, wf, rf, bi, seq, hi};
    if (n.op == OpKind::LSTM) ins.push_back(ci);
    while (!ins.empty() && ins.back().empty()) ins.pop_back();
    auto* nd = add_node(op, ins, outs, base);
    common_attrs(nd);
    if (layout) attr_i(nd, "layout", layout);   // opset 14 attribute: refused below for opset 13
    if (layout) refuse("layout=1 needs opset 14");
    if (n.op == OpKind::GRU) attr_i(nd, "linear_before_reset", n.attrs.get_int("linear_before_reset", 0));
    bind_outputs();
  }
};

}  // namespace

QdqExportReport export_qdq(const std::string& model_json, const std::string& onnx_path) {
  auto model = Model::load(model_json);
  QdqExportReport rep;
  Exporter ex(model->data(), &rep);
  onnx::ModelProto proto = ex.run();
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw Error("protobuf serialization failed");
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw Error("internal error, ONNX checker rejects the exported model: " + msg.substr(0, msg.find('\n')));
  }
  std::string tmp = onnx_path + ".tmp.export";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw Error(onnx_path + ": cannot write");
    f.write(bytes.data(), (std::streamsize)bytes.size());
    if (!f) throw Error(onnx_path + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, onnx_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(onnx_path + ": cannot write");
  }
  return rep;
}

void check_onnx_file(const std::string& onnx_path) {
  std::ifstream f(onnx_path, std::ios::binary);
  if (!f) throw Error(onnx_path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::ModelProto proto;
  if (!proto.ParseFromString(ss.str())) throw Error(onnx_path + ": not a valid ONNX model");
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw Error(onnx_path + ": ONNX checker: " + msg.substr(0, msg.find('\n')));
  }
}

}  // namespace octet::converter
