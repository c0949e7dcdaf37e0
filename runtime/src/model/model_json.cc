// Reads a model JSON into ModelData and validates everything a kernel will later rely on:
// the .bin (header, length, checksum), every tensor (dtype, shape, quantization, blob bounds),
// every node (op, arity, references, topological order, attributes, dtypes) and the shapes.
// Each failure is one octet::Error whose message names the file and the item.
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "model/model_data.h"
#include "octet/format.h"
#include "ops/op_spec.h"
#include "ops/operands.h"
#include "ops/shape_inference.h"

namespace octet::detail {

namespace {
using nlohmann::json;

struct Ctx {
  std::string label;
  [[noreturn]] void fail(const std::string& what) const { throw Error(label + ": " + what); }
};

const json& member(const Ctx& c, const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) c.fail(where + " has no '" + key + "'");
  return obj.at(key);
}

std::string get_string(const Ctx& c, const json& obj, const char* key, const std::string& where) {
  const json& v = member(c, obj, key, where);
  if (!v.is_string()) c.fail(where + ": '" + key + "' must be a string");
  return v.get<std::string>();
}

uint64_t get_u64(const Ctx& c, const json& obj, const char* key, const std::string& where) {
  const json& v = member(c, obj, key, where);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    c.fail(where + ": '" + key + "' must be a non-negative integer");
  return v.get<uint64_t>();
}

bool parse_dtype(const std::string& s, DataType* t) {
  for (DataType d : {DataType::f32, DataType::u8, DataType::s8, DataType::s32, DataType::i64, DataType::boolean})
    if (s == dtype_name(d)) return (*t = d), true;
  return false;
}

void qrange(DataType t, int64_t* lo, int64_t* hi) {
  switch (t) {
    case DataType::u8: *lo = 0, *hi = 255; return;
    case DataType::s8: *lo = -128, *hi = 127; return;
    default: *lo = std::numeric_limits<int32_t>::min(), *hi = std::numeric_limits<int32_t>::max();
  }
}

// Fails unless [off, off + len) lies after the header and inside the .bin (no overflow for any off).
void check_in_file(const Ctx& c, uint64_t off, uint64_t len, const WeightsFile& wf, const std::string& what) {
  if (off < format::kHeaderBytes || off > wf.size() || len > wf.size() - off)
    c.fail(what + " [" + std::to_string(off) + ", +" + std::to_string(len) + ") lies outside the weights file (" + std::to_string(wf.size()) + " bytes)");
}

// A long scale list stored in the .bin: {"dtype": "f32" or "bf16", "offset": O, "bytes": B}.
void read_scale_blob(const Ctx& c, const json& b, const WeightsFile& wf, const std::string& where, std::vector<float>* out) {
  const std::string dtype = get_string(c, b, "dtype", where + " scale");
  if (dtype != "f32" && dtype != "bf16") c.fail(where + ": scale dtype '" + dtype + "' must be f32 or bf16");
  const uint64_t size = dtype == "f32" ? 4 : 2;
  const uint64_t off = get_u64(c, b, "offset", where + " scale"), len = get_u64(c, b, "bytes", where + " scale");
  if (len % size != 0) c.fail(where + ": scale list of " + std::to_string(len) + " bytes is not a whole number of " + dtype + " values");
  check_in_file(c, off, len, wf, where + ": scale list");
  const uint8_t* p = wf.data() + off;
  for (uint64_t i = 0; i < len / size; ++i, p += size) {
    uint32_t u = 0;
    for (uint64_t k = 0; k < size; ++k) u |= static_cast<uint32_t>(p[k]) << (8 * (k + 4 - size));
    float v;
    std::memcpy(&v, &u, 4);
    out->push_back(v);
  }
}

QuantInfo parse_quant(const Ctx& c, const json& q, const TensorDef& t, const WeightsFile& wf, const std::string& where) {
  QuantInfo out;
  if (!q.is_object()) c.fail(where + ": 'quant' must be an object");
  const json& sc = member(c, q, "scale", where + " quant");
  const json& zp = q.contains("zero_point") ? q.at("zero_point") : json(0);
  out.axis = -1;
  if (q.contains("axis")) {
    if (!q.at("axis").is_number_integer()) c.fail(where + ": quant axis must be an integer");
    out.axis = q.at("axis").get<int>();
  }
  auto read_scales = [&](const json& v) {
    if (!v.is_number()) c.fail(where + ": scale must be a number (or, per channel, a list or a {dtype, offset, bytes} in the .bin)");
    double d = v.get<double>();
    if (!std::isfinite(d) || !(d > 0) || d > std::numeric_limits<float>::max())
      c.fail(where + ": scale " + v.dump() + " is not a positive finite number");
    out.scale.push_back(static_cast<float>(d));
    if (!(out.scale.back() > 0)) c.fail(where + ": scale " + v.dump() + " underflows to zero in float");
  };
  if (sc.is_array()) {
    for (const auto& v : sc) read_scales(v);
  } else if (sc.is_object()) {
    if (!q.contains("axis")) c.fail(where + ": a scale list in the .bin needs 'axis'");
    read_scale_blob(c, sc, wf, where, &out.scale);
    for (size_t i = 0; i < out.scale.size(); ++i)
      if (!std::isfinite(out.scale[i]) || !(out.scale[i] > 0))
        c.fail(where + ": scale #" + std::to_string(i) + " in the .bin (" + std::to_string(out.scale[i]) + ") is not a positive finite number");
  } else {
    read_scales(sc);
  }
  int64_t lo, hi;
  qrange(t.dtype, &lo, &hi);
  auto read_zp = [&](const json& v) {
    if (!v.is_number_integer()) c.fail(where + ": zero_point must be an integer");
    int64_t z = v.get<int64_t>();
    if (z < lo || z > hi) c.fail(where + ": zero_point " + std::to_string(z) + " is outside the range of " + dtype_name(t.dtype));
    out.zero_point.push_back(static_cast<int32_t>(z));
  };
  if (zp.is_array()) for (const auto& v : zp) read_zp(v);
  else read_zp(zp);
  if (out.scale.empty()) c.fail(where + ": scale list is empty");
  if (out.axis == -1) {
    if (out.scale.size() != 1 || out.zero_point.size() != 1) c.fail(where + ": per-tensor quantization needs exactly one scale and zero point (or give 'axis')");
  } else {
    if (out.axis < 0 || out.axis >= static_cast<int>(t.shape.size())) c.fail(where + ": quant axis " + std::to_string(out.axis) + " is out of range");
    int64_t dim = t.shape[out.axis];
    if (dim < 0) c.fail(where + ": per-channel axis " + std::to_string(out.axis) + " is symbolic");
    if (static_cast<int64_t>(out.scale.size()) != dim) c.fail(where + ": " + std::to_string(out.scale.size()) + " scales for " + std::to_string(dim) + " channels");
    if (out.zero_point.size() == 1) out.zero_point.assign(out.scale.size(), out.zero_point[0]);
    if (out.zero_point.size() != out.scale.size()) c.fail(where + ": zero_point count does not match scale count");
  }
  return out;
}

Activation parse_activation(const Ctx& c, const json& a, const std::string& where) {
  Activation act;
  if (a.is_null()) return act;
  if (!a.is_object()) c.fail(where + ": 'activation' must be an object like {\"op\": \"Relu\"}");
  std::string op = get_string(c, a, "op", where + " activation");
  auto num = [&](const char* k, float dflt) {
    if (!a.contains(k)) return dflt;
    if (!a.at(k).is_number()) c.fail(where + ": activation '" + k + "' must be a number");
    double d = a.at(k).get<double>();
    if (std::isnan(d)) c.fail(where + ": activation '" + k + "' is NaN");
    return static_cast<float>(d);
  };
  if (op == "Relu") act.kind = ActKind::Relu;
  else if (op == "Clip") act.kind = ActKind::Clip, act.alpha = num("min", -INFINITY), act.beta = num("max", INFINITY);
  else if (op == "LeakyRelu") act.kind = ActKind::LeakyRelu, act.alpha = num("alpha", 0.01f);
  else if (op == "HardSwish") act.kind = ActKind::HardSwish;
  else if (op == "HardSigmoid") act.kind = ActKind::HardSigmoid, act.alpha = num("alpha", 0.2f), act.beta = num("beta", 0.5f);
  else if (op == "Sigmoid") act.kind = ActKind::Sigmoid;
  else if (op == "Tanh") act.kind = ActKind::Tanh;
  else if (op == "Gelu") act.kind = ActKind::Gelu;
  else c.fail(where + ": unknown fused activation '" + op + "'");
  if (act.kind == ActKind::Clip && act.alpha > act.beta) c.fail(where + ": activation Clip has min > max");
  return act;
}

void parse_weights(const Ctx& c, const json& root, ModelData& m, std::unique_ptr<WeightsFile> given,
                   const std::string& json_dir, bool verify) {
  const json& w = member(c, root, "weights", "model");
  std::string file = get_string(c, w, "file", "weights");
  uint64_t bytes = get_u64(c, w, "bytes", "weights");
  if (w.contains("alignment") && get_u64(c, w, "alignment", "weights") != format::kAlignment)
    c.fail("weights alignment must be " + std::to_string(format::kAlignment));
  if (given) {
    m.weights = std::move(given);
  } else {
    if (file.empty() || file.find('/') != std::string::npos) c.fail("weights file name '" + file + "' must be a plain file name next to the JSON");
    m.weights = WeightsFile::map(json_dir.empty() ? file : json_dir + "/" + file);
  }
  const WeightsFile& wf = *m.weights;
  if (wf.size() != bytes)
    c.fail("weights file " + wf.path() + " is " + std::to_string(wf.size()) + " bytes, the model expects " + std::to_string(bytes) + " (truncated, resized or not this model's .bin)");
  wf.check_header();
  if (verify) {
    std::string want = get_string(c, w, "checksum", "weights");
    const std::string prefix = "xxh3_64:";
    if (want.rfind(prefix, 0) != 0) c.fail("weights checksum '" + want + "' is not of the form xxh3_64:<16 hex digits>");
    std::string got = checksum_hex(wf.data(), wf.size());
    if (want.substr(prefix.size()) != got)
      c.fail("weights file " + wf.path() + " fails its checksum (expected " + want.substr(prefix.size()) + ", got " + got + "): the file is corrupt or belongs to another model");
  }
}

void parse_tensors(const Ctx& c, const json& root, ModelData& m) {
  const json& ts = member(c, root, "tensors", "model");
  if (!ts.is_array()) c.fail("'tensors' must be a list");
  m.tensors.reserve(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    const json& tj = ts[i];
    std::string where = "tensor #" + std::to_string(i);
    TensorDef t;
    t.name = get_string(c, tj, "name", where);
    if (t.name.empty()) c.fail(where + " has an empty name");
    where = "tensor '" + t.name + "'";
    std::string dt = get_string(c, tj, "dtype", where);
    if (!parse_dtype(dt, &t.dtype)) c.fail(where + ": unknown dtype '" + dt + "'");
    const json& sh = tj.contains("shape") ? tj.at("shape") : json();
    if (sh.is_null()) t.shape_declared = false;
    else if (!sh.is_array()) c.fail(where + ": shape must be a list");
    if (sh.size() > static_cast<size_t>(format::kMaxRank)) c.fail(where + ": rank " + std::to_string(sh.size()) + " exceeds " + std::to_string(format::kMaxRank));
    for (const auto& d : (sh.is_array() ? sh : json::array())) {
      if (d.is_string()) {
        t.shape.push_back(-1);
        t.dim_names.push_back(d.get<std::string>().empty() ? "?" : d.get<std::string>());
      } else if (d.is_number_integer() && d.get<int64_t>() >= 0) {
        t.shape.push_back(d.get<int64_t>());
        t.dim_names.emplace_back();
      } else {
        c.fail(where + ": dimension " + d.dump() + " must be a non-negative integer or a name");
      }
    }
    if (tj.contains("quant") && !tj.at("quant").is_null()) t.quant = parse_quant(c, tj.at("quant"), t, *m.weights, where);
    if ((t.dtype == DataType::u8 || t.dtype == DataType::s8) && t.quant.empty())
      c.fail(where + ": 8-bit tensors need quantization parameters ('quant')");
    if (tj.contains("data")) {
      const json& d = tj.at("data");
      uint64_t off = get_u64(c, d, "offset", where + " data");
      uint64_t len = get_u64(c, d, "bytes", where + " data");
      int64_t elems = 1;
      for (int64_t v : t.shape) {
        if (v < 0) c.fail(where + ": a constant cannot have symbolic dimensions");
        if (v > 0 && elems > format::kMaxElements / v) c.fail(where + ": too many elements");
        elems *= v;
      }
      if (len != static_cast<uint64_t>(elems) * dtype_size(t.dtype))
        c.fail(where + ": data is " + std::to_string(len) + " bytes but shape and dtype need " + std::to_string(elems * dtype_size(t.dtype)));
      if (off % format::kAlignment != 0) c.fail(where + ": data offset " + std::to_string(off) + " is not 64-byte aligned");
      check_in_file(c, off, len, *m.weights, where + ": data");
      t.data = m.weights->data() + off;
      t.data_bytes = len;
      if (len == 0) t.data = m.weights->data();   // a valid, never dereferenced pointer
    }
    if (!m.tensor_index.emplace(t.name, static_cast<int>(m.tensors.size())).second) c.fail("tensor '" + t.name + "' is declared twice");
    m.tensors.push_back(std::move(t));
  }
}

std::vector<int> parse_io(const Ctx& c, const json& root, ModelData& m, const char* key) {
  const json& l = member(c, root, key, "model");
  if (!l.is_array() || l.empty()) c.fail(std::string("'") + key + "' must be a non-empty list of tensor names");
  std::vector<int> out;
  for (const auto& n : l) {
    if (!n.is_string()) c.fail(std::string("'") + key + "' must list tensor names");
    int i = m.find_tensor(n.get<std::string>());
    if (i < 0) c.fail(std::string("graph ") + (key[0] == 'i' ? "input" : "output") + " '" + n.get<std::string>() + "' is not a declared tensor");
    out.push_back(i);
  }
  return out;
}

void parse_nodes(const Ctx& c, const json& root, ModelData& m) {
  const json& ns = member(c, root, "nodes", "model");
  if (!ns.is_array()) c.fail("'nodes' must be a list");
  std::set<std::string> names;
  std::vector<bool> ready(m.tensors.size(), false);
  for (size_t i = 0; i < m.tensors.size(); ++i) ready[i] = m.tensors[i].is_constant();
  for (int i : m.inputs) {
    if (m.tensors[i].is_constant()) c.fail("graph input '" + m.tensors[i].name + "' is a constant");
    ready[i] = true;
    m.tensors[i].is_graph_input = true;
  }
  // Which node (by position) produces each tensor, to tell "out of order/cycle" from "dangling".
  std::vector<int> later_producer(m.tensors.size(), -1);
  for (size_t k = 0; k < ns.size(); ++k)
    if (ns[k].is_object() && ns[k].contains("outputs") && ns[k]["outputs"].is_array())
      for (const auto& o : ns[k]["outputs"])
        if (o.is_string()) {
          int t = m.find_tensor(o.get<std::string>());
          if (t >= 0 && later_producer[t] < 0) later_producer[t] = static_cast<int>(k);
        }

  for (size_t k = 0; k < ns.size(); ++k) {
    const json& nj = ns[k];
    std::string where = "node #" + std::to_string(k);
    NodeDef n;
    n.name = get_string(c, nj, "name", where);
    if (n.name.empty()) c.fail(where + " has an empty name");
    if (!names.insert(n.name).second) c.fail("node name '" + n.name + "' is used twice");
    where = "node '" + n.name + "'";
    std::string op = get_string(c, nj, "op", where);
    if (!op_from_name(op, &n.op)) c.fail(where + ": unknown op '" + op + "' (this runtime knows the ops listed in docs/format.md)");
    where += " (" + op + ")";
    const json& ins = member(c, nj, "inputs", where);
    const json& outs = member(c, nj, "outputs", where);
    if (!ins.is_array() || !outs.is_array()) c.fail(where + ": inputs and outputs must be lists of tensor names");
    for (const auto& v : ins) {
      if (!v.is_string()) c.fail(where + ": inputs must be tensor names");
      std::string s = v.get<std::string>();
      if (s.empty()) { n.inputs.push_back(-1); continue; }
      int t = m.find_tensor(s);
      if (t < 0) c.fail(where + ": input '" + s + "' is not a declared tensor (dangling name)");
      if (!ready[t]) {
        if (later_producer[t] >= static_cast<int>(k)) c.fail(where + ": input '" + s + "' is produced by a later node (cycle, or nodes not in topological order)");
        c.fail(where + ": input '" + s + "' is never produced (dangling tensor: not a graph input, constant or node output)");
      }
      n.inputs.push_back(t);
    }
    for (const auto& v : outs) {
      if (!v.is_string()) c.fail(where + ": outputs must be tensor names");
      std::string s = v.get<std::string>();
      if (s.empty()) { n.outputs.push_back(-1); continue; }
      int t = m.find_tensor(s);
      if (t < 0) c.fail(where + ": output '" + s + "' is not a declared tensor");
      if (ready[t] || m.tensors[t].producer >= 0) c.fail(where + ": output '" + s + "' already has a value (produced twice, or a constant or graph input)");
      m.tensors[t].producer = static_cast<int>(m.nodes.size());
      n.outputs.push_back(t);
    }
    const OpTraits& spec = op_traits(n.op);
    if (static_cast<int>(n.inputs.size()) < spec.min_inputs || static_cast<int>(n.inputs.size()) > spec.max_inputs)
      c.fail(where + ": has " + std::to_string(n.inputs.size()) + " inputs, expects " + std::to_string(spec.min_inputs) + (spec.max_inputs != spec.min_inputs ? " to " + std::to_string(spec.max_inputs) : ""));
    if (static_cast<int>(n.outputs.size()) < spec.min_outputs || static_cast<int>(n.outputs.size()) > spec.max_outputs)
      c.fail(where + ": has " + std::to_string(n.outputs.size()) + " outputs, expects " + std::to_string(spec.min_outputs) + (spec.max_outputs != spec.min_outputs ? " to " + std::to_string(spec.max_outputs) : ""));
    for (int i = 0; i < spec.min_inputs; ++i)
      if (n.inputs[i] < 0) c.fail(where + ": required input " + std::to_string(i) + " is omitted");
    if (!n.outputs.empty() && n.outputs[0] < 0) c.fail(where + ": output 0 cannot be omitted");
    for (int t : n.outputs) if (t >= 0) ready[t] = true;

    if (nj.contains("attrs")) {
      if (!nj.at("attrs").is_object()) c.fail(where + ": 'attrs' must be an object");
      n.attrs = Attrs(nj.at("attrs"), n.name);
    } else {
      n.attrs = Attrs(json::object(), n.name);
    }
    if (nj.contains("activation")) n.activation = parse_activation(c, nj.at("activation"), where);
    std::string prec = nj.contains("precision") ? get_string(c, nj, "precision", where) : "float";
    if (prec == "float") n.precision = Precision::Float;
    else if (prec == "int8_static") n.precision = Precision::Int8Static;
    else if (prec == "int8_dynamic") n.precision = Precision::Int8Dynamic;
    else c.fail(where + ": unknown precision '" + prec + "' (float, int8_static, int8_dynamic)");
    if (!spec.precisions.has(n.precision)) {
      std::string allowed;
      for (Precision p : {Precision::Float, Precision::Int8Static, Precision::Int8Dynamic})
        if (spec.precisions.has(p)) allowed += std::string(allowed.empty() ? "" : ", ") + precision_name(p);
      c.fail(where + ": has no " + prec + " form (" + spec.name + " runs " + allowed + ")");
    }
    m.nodes.push_back(std::move(n));
  }
  for (int o : m.outputs)
    if (!ready[o]) c.fail("graph output '" + m.tensors[o].name + "' is never produced");
  for (const TensorDef& t : m.tensors)
    if (!t.shape_declared && (t.is_constant() || t.is_graph_input)) c.fail("tensor '" + t.name + "' needs a shape");
}

// The shapes of every tensor with the graph inputs' symbolic dimensions bound to `value`.
std::vector<Shape> shapes_with_symbols(const ModelData& m, int64_t value, std::vector<bool>* known = nullptr) {
  std::vector<Shape> in;
  for (int i : m.inputs) {
    Shape s = m.tensors[i].shape;
    for (auto& d : s) if (d < 0) d = value;
    in.push_back(s);
  }
  return infer_shapes(m, in, known);
}

// Operands (ops/operands.h): a constant one becomes the attribute it gives (and the input is
// omitted, so the node reads as the converter writes it); a node left with operands computed at
// run time is validated by the session once it has their values. Operand dtypes are checked
// here, so a file that feeds, say, a u8 tensor into a Reshape's shape fails at load.
void fold_constant_operands(ModelData& m) {
  for (NodeDef& n : m.nodes) {
    std::vector<TensorView> constants(n.inputs.size());
    fold_operands(n, m, [&](size_t i) -> const TensorView* {
      const TensorDef& t = m.tensor(n.inputs[i]);
      if (!t.is_constant()) return nullptr;
      constants[i] = TensorView{t.dtype, t.shape, t.data};
      return &constants[i];
    });
  }
}

// Infers every shape once with symbolic dimensions bound to 1 and checks the declared fixed
// dimensions, so a file whose shapes do not fit together fails at load, naming the tensor.
// A tensor whose shape the file leaves to inference gets one here, so that kernels see its
// rank and fixed dimensions when they are created: a dimension that changes when the symbols
// are bound to 7 instead of 1 is symbolic ("?"); every dimension is when that second inference
// fails (a graph that only holds together at 1).
void check_shapes(const Ctx& c, ModelData& m) {
  std::vector<bool> known;
  std::vector<Shape> shapes = shapes_with_symbols(m, 1, &known);
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    if (known[t]) continue;
    TensorDef& td = m.tensors[t];
    td.shape_at_run_time = true;   // its declared fixed dims are checked by every run instead
    if (!td.shape_declared) td.shape.clear(), td.dim_names.clear();
  }
  std::vector<Shape> other;
  try {
    other = shapes_with_symbols(m, 7);
  } catch (const Error&) {
    other.clear();
  }
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    TensorDef& td = m.tensors[t];
    if (td.shape_declared || td.producer < 0 || td.shape_at_run_time) continue;
    td.shape = shapes[t];
    td.dim_names.assign(td.shape.size(), "");
    for (size_t d = 0; d < td.shape.size(); ++d)
      if (other.empty() || other[t].size() != td.shape.size() || other[t][d] != td.shape[d]) td.shape[d] = -1, td.dim_names[d] = "?";
  }
  for (const NodeDef& n : m.nodes) {
    for (int t : n.outputs) {
      if (t < 0) continue;
      const TensorDef& td = m.tensors[t];
      if (!td.shape_declared || td.shape_at_run_time) continue;
      const Shape& got = shapes[t];
      bool ok = got.size() == td.shape.size();
      for (size_t d = 0; ok && d < got.size(); ++d) ok = td.shape[d] < 0 || td.shape[d] == got[d];
      if (!ok) {
        std::string decl = "[";
        for (size_t d = 0; d < td.shape.size(); ++d) decl += (d ? "," : "") + (td.shape[d] < 0 ? td.dim_names[d] : std::to_string(td.shape[d]));
        c.fail("tensor '" + td.name + "' is declared with shape " + decl + "] but node '" + n.name + "' (" + op_name(n.op) + ") produces " + shape_str(got) + " (symbolic dims taken as 1)");
      }
    }
  }
}
}  // namespace

TensorInfo ModelData::info(int i) const {
  const TensorDef& t = tensor(i);
  return TensorInfo{t.name, t.dtype, t.shape, t.dim_names, t.quant};
}

std::unique_ptr<ModelData> parse_model(const std::string& text, const std::string& label,
                                       std::unique_ptr<WeightsFile> weights, const std::string& json_dir,
                                       bool verify_checksum) {
  Ctx c{label};
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double (e.g. 1e999) throws out_of_range
    // (found by tests/unit/test_loader.cc; it used to escape as a non-octet exception).
    c.fail(std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) c.fail("not an octet model (the top level must be an object)");
  if (!root.contains("format") || root["format"] != format::kFormatName) c.fail("not an octet model ('format' is not \"octet\")");
  const json& ver = member(c, root, "format_version", "model");
  if (!ver.is_array() || ver.size() != 2 || !ver[0].is_number_integer() || !ver[1].is_number_integer())
    c.fail("'format_version' must be [major, minor]");
  const std::string version = std::to_string(ver[0].get<int>()) + "." + std::to_string(ver[1].get<int>());
  if (ver[0].get<int>() != format::kFormatMajor)
    c.fail("format version " + version + " is not supported (this runtime reads " + std::to_string(format::kFormatMajor) + ".x)");
  if (ver[1].get<int>() > format::kFormatMinor)
    c.fail("format version " + version + " is newer than this runtime (it reads " + std::to_string(format::kFormatMajor) +
           ".0 to " + std::to_string(format::kFormatMajor) + "." + std::to_string(format::kFormatMinor) + "): update octet");

  auto m = std::make_unique<ModelData>();
  m->path = label;
  if (root.contains("producer") && root["producer"].is_string()) m->producer = root["producer"].get<std::string>();
  if (root.contains("source") && root["source"].is_object() && root["source"].contains("file") && root["source"]["file"].is_string())
    m->source = root["source"]["file"].get<std::string>();

  try {
    parse_weights(c, root, *m, std::move(weights), json_dir, verify_checksum);
    parse_tensors(c, root, *m);
    m->inputs = parse_io(c, root, *m, "inputs");
    m->outputs = parse_io(c, root, *m, "outputs");
    parse_nodes(c, root, *m);
    fold_constant_operands(*m);
    for (const NodeDef& n : m->nodes)
      if (!n.has_runtime_operands) op_spec(n.op).validate(n, *m);
    check_shapes(c, *m);
  } catch (const nlohmann::json::exception& e) {
    c.fail(std::string("malformed model: ") + e.what());
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(label, 0) == 0) throw;
    c.fail(msg);
  }
  for (int i : m->inputs) m->input_infos.push_back(m->info(i));
  for (int i : m->outputs) m->output_infos.push_back(m->info(i));
  return m;
}

}  // namespace octet::detail
