// The ONNX graph under construction (qdq_graph.h).
#include "qdq/qdq_graph.h"

#include <cstring>

#include "octet/octet.h"

namespace octet::qdq {

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

void attr_i(onnx::NodeProto* n, const char* k, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void attr_f(onnx::NodeProto* n, const char* k, float v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void attr_s(onnx::NodeProto* n, const char* k, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
void attr_is(onnx::NodeProto* n, const char* k, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
void attr_ss(onnx::NodeProto* n, const char* k, const std::vector<std::string>& v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const auto& x : v) a->add_strings(x);
}

QdqGraph::QdqGraph(const detail::ModelData& m, QdqExportReport* rep) : m_(m), rep_(rep), vals_(m.tensors.size()) {
  model_.set_ir_version(8);
  model_.set_producer_name("octet export-qdq");
  model_.set_producer_version(octet::version());
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(kOpset);
  g_ = model_.mutable_graph();
  g_->set_name("octet_qdq");
}

void QdqGraph::add_inputs() {
  for (int t : m_.inputs) {
    const auto& td = m_.tensor(t);
    add_io(g_->add_input(), td, td.name);
    used_.insert(td.name);
    vals_[t] = {td.name, false, true};
  }
  // Graph output names are reserved for the final values.
  for (int t : m_.outputs) reserved_.insert(m_.tensor(t).name);
}

void QdqGraph::begin_node(const NodeDef& n) {
  cur_ = &n;
  if (n.precision == Precision::Int8Static) ++rep_->nodes_qdq;
  else if (n.precision == Precision::Int8Dynamic) ++rep_->nodes_dynamic;
  else ++rep_->nodes_float;
}

onnx::ModelProto QdqGraph::finish_model() {
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

// ---- names, nodes, initializers -------------------------------------------------------------
std::string QdqGraph::fresh(const std::string& base) {
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

void QdqGraph::refuse(const std::string& why) const {
  throw Error("node '" + cur_->name + "' (" + op_name(cur_->op) + ", " + precision_name(cur_->precision) + "): " + why);
}

void QdqGraph::note(const std::string& s) {
  if (notes_.insert(s).second) rep_->notes.push_back(s);
}

onnx::NodeProto* QdqGraph::add_node(const std::string& op, const std::vector<std::string>& ins,
                                    const std::vector<std::string>& outs, const std::string& name, const std::string& domain) {
  auto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(fresh(name));
  if (!domain.empty()) n->set_domain(domain);
  for (const auto& i : ins) n->add_input(i);
  for (const auto& o : outs) n->add_output(o);
  return n;
}

std::string QdqGraph::op1(const std::string& op, const std::vector<std::string>& ins, const std::string& base,
                          onnx::NodeProto** node_out, const std::string& domain) {
  std::string out = fresh(base);
  auto* n = add_node(op, ins, {out}, base + "_" + op, domain);
  if (node_out) *node_out = n;
  return out;
}

std::string QdqGraph::init_raw(const std::string& base, int type, const std::vector<int64_t>& dims, const void* data, size_t bytes) {
  auto* t = g_->add_initializer();
  std::string name = fresh(base);
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(std::string(static_cast<const char*>(data), bytes));
  return name;
}
std::string QdqGraph::init_f(const std::string& base, const std::vector<float>& v, bool scalar) {
  return init_raw(base, TensorProto::FLOAT, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{(int64_t)v.size()}, v.data(),
                  v.size() * 4);
}
std::string QdqGraph::init_i64(const std::string& base, const std::vector<int64_t>& v, bool scalar) {
  return init_raw(base, TensorProto::INT64, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{(int64_t)v.size()}, v.data(),
                  v.size() * 8);
}
std::string QdqGraph::init_zp(const std::string& base, DataType dt, const std::vector<int32_t>& zp, bool scalar) {
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

void QdqGraph::add_io(onnx::ValueInfoProto* vi, const TensorDef& td, const std::string& name) {
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

bool QdqGraph::same_quant(int a, int b) const {
  const auto& x = T(a).quant;
  const auto& y = T(b).quant;
  return T(a).dtype == T(b).dtype && x.scale == y.scale && x.zero_point == y.zero_point && x.axis == y.axis;
}

// ---- values and layouts ----------------------------------------------------------------------
std::string QdqGraph::constant(int t, bool nchw) {
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

Val QdqGraph::value(int t) {
  if (vals_[t].set) return vals_[t];
  const auto& td = T(t);
  if (td.is_constant()) return {constant(t), false, true};
  throw Error("tensor '" + td.name + "' is used before it is produced");
}

std::string QdqGraph::transpose(const std::string& x, const std::vector<int64_t>& perm, const std::string& base) {
  std::string key = "tr:" + x + ":" + std::to_string(perm[1]);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  onnx::NodeProto* n;
  std::string o = op1("Transpose", {x}, base, &n);
  attr_is(n, "perm", perm);
  cache_[key] = o;
  return o;
}

std::string QdqGraph::octet_layout(int t) {
  Val v = value(t);
  if (!v.nchw) return v.name;
  return transpose(v.name, {0, 2, 3, 1}, T(t).name + "_nhwc");
}

std::string QdqGraph::nchw(int t) {
  const auto& td = T(t);
  if (td.is_constant()) return constant(t, true);
  Val v = value(t);
  if (v.nchw) return v.name;
  if (td.shape.size() != 4) refuse("input '" + td.name + "' is not rank 4");
  return transpose(v.name, {0, 3, 1, 2}, td.name + "_nchw");
}

// ---- quantization ----------------------------------------------------------------------------
QdqGraph::QParams QdqGraph::qparams(int t, bool nchw_axis) {
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

std::string QdqGraph::dq_named(const std::string& x, int t, bool nchw_axis, const std::string& base) {
  QParams p = qparams(t, nchw_axis);
  onnx::NodeProto* n;
  std::string o = op1("DequantizeLinear", {x, p.scale, p.zp}, base, &n);
  if (p.axis >= 0) attr_i(n, "axis", p.axis);
  return o;
}

std::string QdqGraph::fin(int t, bool want_nchw) {
  const auto& td = T(t);
  std::string x = layout(t, want_nchw);
  if (!is8(td.dtype) && td.dtype != DataType::s32) return x;
  if (td.quant.empty()) refuse("8-bit tensor '" + td.name + "' has no quantization parameters");
  return dq_named(x, t, want_nchw, td.name + "_dq");
}

void QdqGraph::finish(const std::string& x, int t, bool is_nchw) {
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

// ---- weights ---------------------------------------------------------------------------------
std::string QdqGraph::weight(int t, const std::string& codes_init) {
  const auto& td = T(t);
  if (td.dtype == DataType::f32) return codes_init;
  return dq_named(codes_init, t, false, td.name + "_dq");
}

std::string QdqGraph::ohwi_to_oihw(int t) {
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

std::string QdqGraph::transposed_2d(int t, const std::string& suffix) {
  const auto& td = T(t);
  int64_t R = td.shape[0], C = td.shape[1];
  size_t es = dtype_size(td.dtype);
  std::vector<uint8_t> buf(td.data_bytes);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) std::memcpy(&buf[(c * R + r) * es], td.data + (r * C + c) * es, es);
  return init_raw(td.name + suffix, onnx_type(td.dtype), {C, R}, buf.data(), buf.size());
}

std::vector<float> QdqGraph::dequantized(int t) {
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

}  // namespace octet::qdq
