// ONNX -> converter IR. Parses with ONNX's own protobuf classes, validates with its checker,
// infers shapes with its shape inference, and copies the graph as it is: initializers and
// Constant nodes become constants, attributes become JSON. No rewriting happens here.
#include "onnx_import.h"
#include "onnx_new_opsets.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

namespace octet::converter {

namespace {

// Opsets octet reads directly; older models are upgraded to kUpgradeOpset first.
constexpr int kOldestReadOpset = 9;
constexpr int kUpgradeOpset = 13;

bool map_dtype(int onnx_type, DataType* out) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: case onnx::TensorProto::DOUBLE: case onnx::TensorProto::FLOAT16:
      *out = DataType::f32; return true;
    case onnx::TensorProto::UINT8: *out = DataType::u8; return true;
    case onnx::TensorProto::INT8: *out = DataType::s8; return true;
    case onnx::TensorProto::INT32: case onnx::TensorProto::INT16: case onnx::TensorProto::UINT16:
      *out = DataType::s32; return true;
    case onnx::TensorProto::INT64: case onnx::TensorProto::UINT32: *out = DataType::i64; return true;
    case onnx::TensorProto::BOOL: *out = DataType::boolean; return true;
    default: return false;
  }
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else {
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) mant <<= 1, --exp;
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Raw bytes of a tensor, from raw_data, the typed fields or external data.
std::string tensor_bytes(const onnx::TensorProto& t, const std::string& model_dir, const std::string& file) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    }
    if (location.empty() || location.find("..") != std::string::npos || location[0] == '/')
      throw Error(file + ": initializer '" + t.name() + "' has an unusable external data location '" + location + "'");
    std::string path = model_dir.empty() ? location : model_dir + "/" + location;
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(file + ": cannot open external data file " + path + " of initializer '" + t.name() + "'");
    f.seekg(0, std::ios::end);
    int64_t size = f.tellg();
    if (length < 0) length = size - offset;
    if (offset < 0 || length < 0 || offset + length > size)
      throw Error(path + ": external data of initializer '" + t.name() + "' lies outside the file");
    std::string out(static_cast<size_t>(length), '\0');
    f.seekg(offset);
    f.read(out.data(), length);
    return out;
  }
  return t.raw_data();
}

Constant to_constant(const onnx::TensorProto& t, const std::string& model_dir, const std::string& file) {
  Constant c;
  if (!map_dtype(t.data_type(), &c.dtype))
    throw Error(file + ": tensor '" + t.name() + "' has an unsupported data type (" + std::to_string(t.data_type()) + ")");
  for (auto d : t.dims()) {
    if (d < 0) throw Error(file + ": tensor '" + t.name() + "' has a negative dimension");
    c.shape.push_back(d);
  }
  const int64_t n = c.elements();
  if (n > (int64_t(1) << 33)) throw Error(file + ": tensor '" + t.name() + "' is too large");
  c.bytes.resize(static_cast<size_t>(n) * dtype_size(c.dtype));
  std::string raw = tensor_bytes(t, model_dir, file);
  const bool has_raw = t.has_raw_data() || t.data_location() == onnx::TensorProto::EXTERNAL;
  auto need = [&](size_t bytes_per) {
    if (raw.size() != static_cast<size_t>(n) * bytes_per)
      throw Error(file + ": tensor '" + t.name() + "' holds " + std::to_string(raw.size()) + " bytes, its shape needs " +
                  std::to_string(n * bytes_per));
  };
  // An empty tensor's buffers may be null, which memcpy must not be given even for 0 bytes.
  auto copy_raw = [&] { if (!raw.empty()) std::memcpy(c.bytes.data(), raw.data(), raw.size()); };
  auto typed_count = [&](int64_t have) {
    if (have != n) throw Error(file + ": tensor '" + t.name() + "' holds " + std::to_string(have) + " values, its shape needs " + std::to_string(n));
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (has_raw) need(4), copy_raw();
      else { typed_count(t.float_data_size()); for (int64_t i = 0; i < n; ++i) c.as<float>()[i] = t.float_data(i); }
      break;
    case onnx::TensorProto::DOUBLE:
      if (has_raw) { need(8); for (int64_t i = 0; i < n; ++i) { double d; std::memcpy(&d, raw.data() + 8 * i, 8); c.as<float>()[i] = static_cast<float>(d); } }
      else { typed_count(t.double_data_size()); for (int64_t i = 0; i < n; ++i) c.as<float>()[i] = static_cast<float>(t.double_data(i)); }
      break;
    case onnx::TensorProto::FLOAT16:
      if (has_raw) { need(2); for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, raw.data() + 2 * i, 2); c.as<float>()[i] = half_to_float(h); } }
      else { typed_count(t.int32_data_size()); for (int64_t i = 0; i < n; ++i) c.as<float>()[i] = half_to_float(static_cast<uint16_t>(t.int32_data(i))); }
      break;
    case onnx::TensorProto::UINT8: case onnx::TensorProto::INT8: case onnx::TensorProto::BOOL:
      if (has_raw) need(1), copy_raw();
      else { typed_count(t.int32_data_size()); for (int64_t i = 0; i < n; ++i) c.bytes[i] = static_cast<uint8_t>(t.int32_data(i)); }
      break;
    case onnx::TensorProto::INT16: case onnx::TensorProto::UINT16:
      if (has_raw) {
        need(2);
        for (int64_t i = 0; i < n; ++i) {
          uint16_t v; std::memcpy(&v, raw.data() + 2 * i, 2);
          c.as<int32_t>()[i] = t.data_type() == onnx::TensorProto::INT16 ? static_cast<int16_t>(v) : v;
        }
      } else { typed_count(t.int32_data_size()); for (int64_t i = 0; i < n; ++i) c.as<int32_t>()[i] = t.int32_data(i); }
      break;
    case onnx::TensorProto::INT32:
      if (has_raw) need(4), copy_raw();
      else { typed_count(t.int32_data_size()); for (int64_t i = 0; i < n; ++i) c.as<int32_t>()[i] = t.int32_data(i); }
      break;
    case onnx::TensorProto::INT64:
      if (has_raw) need(8), copy_raw();
      else { typed_count(t.int64_data_size()); for (int64_t i = 0; i < n; ++i) c.as<int64_t>()[i] = t.int64_data(i); }
      break;
    case onnx::TensorProto::UINT32:
      if (has_raw) { need(4); for (int64_t i = 0; i < n; ++i) { uint32_t v; std::memcpy(&v, raw.data() + 4 * i, 4); c.as<int64_t>()[i] = v; } }
      else { typed_count(t.uint64_data_size()); for (int64_t i = 0; i < n; ++i) c.as<int64_t>()[i] = static_cast<int64_t>(t.uint64_data(i)); }
      break;
  }
  return c;
}

std::vector<Dim> to_dims(const onnx::TypeProto& tp, bool* known) {
  std::vector<Dim> dims;
  *known = false;
  if (!tp.has_tensor_type() || !tp.tensor_type().has_shape()) return dims;
  *known = true;
  for (const auto& d : tp.tensor_type().shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) dims.push_back(Dim::fixed(d.dim_value()));
    else if (d.has_dim_param() && !d.dim_param().empty()) dims.push_back(Dim::sym(d.dim_param()));
    else dims.push_back(Dim::sym("?"));
  }
  return dims;
}

nlohmann::json to_json(const onnx::AttributeProto& a, const Node& n) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return a.i();
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case onnx::AttributeProto::GRAPH: case onnx::AttributeProto::GRAPHS:
      fail(n, "subgraphs (control flow such as If/Loop/Scan) are not supported");
    default:
      return nullptr;
  }
}

std::string read_whole_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  if (bytes.empty()) throw Error(path + ": file is empty");
  return bytes;
}

}  // namespace

Constant read_tensor_file(const std::string& path, int* onnx_type) {
  onnx::TensorProto t;
  if (!t.ParseFromString(read_whole_file(path))) throw Error(path + ": not a serialized ONNX tensor (protobuf parse failed)");
  if (onnx_type) *onnx_type = t.data_type();
  return to_constant(t, std::filesystem::path(path).parent_path().string(), path);
}

bool octet_dtype_holding(int onnx_type, DataType* out) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: *out = DataType::f32; return true;
    case onnx::TensorProto::UINT8: *out = DataType::u8; return true;
    case onnx::TensorProto::INT8: *out = DataType::s8; return true;
    case onnx::TensorProto::INT32: *out = DataType::s32; return true;
    case onnx::TensorProto::INT64: *out = DataType::i64; return true;
    case onnx::TensorProto::BOOL: *out = DataType::boolean; return true;
    default: return false;
  }
}

// ONNX types octet computes in another type (DOUBLE and FLOAT16 in f32, INT16/UINT16 in s32,
// UINT32 in i64): the converted model's input or output has octet's type; the user is told.
static void note_io_type(Graph& g, const char* what, const std::string& name, int onnx_type, DataType octet_type) {
  DataType exact;
  if (octet_dtype_holding(onnx_type, &exact)) return;
  g.notes.push_back(std::string("graph ") + what + " '" + name + "' is " + onnx_type_name(onnx_type) + " in ONNX; octet's model " +
                    (what[0] == 'i' ? "takes" : "gives") + " it as " + dtype_name(octet_type));
}

std::string onnx_type_name(int onnx_type) {
  return onnx::TensorProto_DataType_IsValid(onnx_type)
             ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(onnx_type))
             : "type " + std::to_string(onnx_type);
}

OnnxSignature read_onnx_signature(const std::string& path) {
  onnx::ModelProto model;
  if (!model.ParseFromString(read_whole_file(path))) throw Error(path + ": not a valid ONNX model (protobuf parse failed)");
  std::set<std::string> inits;
  for (const auto& init : model.graph().initializer()) inits.insert(init.name());
  OnnxSignature s;
  for (const auto& in : model.graph().input())
    if (!inits.count(in.name())) s.inputs.push_back(in.name());
  for (const auto& out : model.graph().output()) s.outputs.push_back(out.name());
  return s;
}

// IR version 3 and older required every initializer to be a graph input too; some exporters of
// that time did not list them, and ONNX's checker refuses such files although their meaning is
// plain (ONNX Runtime runs them). They get the missing inputs, typed as the initializers.
static void list_initializers_as_inputs(onnx::ModelProto& model) {
  if (model.ir_version() >= 4) return;
  onnx::GraphProto* g = model.mutable_graph();
  std::set<std::string> inputs;
  for (const auto& in : g->input()) inputs.insert(in.name());
  for (const auto& init : g->initializer()) {
    if (inputs.count(init.name())) continue;
    onnx::ValueInfoProto* v = g->add_input();
    v->set_name(init.name());
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(init.data_type());
    for (auto d : init.dims()) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
}

// Nodes out of topological order (some converters write them so) are sorted, stably, rather
// than refused; a node whose input nothing produces, or that sits on a cycle, is an error naming
// it. Subgraph nodes (If/Loop/Scan) may read outer names implicitly and keep their place.
static void sort_nodes(const std::string& path, onnx::GraphProto* g) {
  std::set<std::string> known = {""};
  for (const auto& in : g->input()) known.insert(in.name());
  for (const auto& init : g->initializer()) known.insert(init.name());
  const int n = g->node_size();
  std::vector<bool> placed(static_cast<size_t>(n), false);
  std::vector<int> order;
  bool sorted = true;
  for (bool progress = true; progress && static_cast<int>(order.size()) < n;) {
    progress = false;
    for (int i = 0; i < n; ++i) {
      if (placed[i]) continue;
      const onnx::NodeProto& nd = g->node(i);
      bool ready = true;
      for (const auto& in : nd.input()) ready &= known.count(in) > 0;
      for (const auto& a : nd.attribute()) ready &= !a.has_g() && a.graphs_size() == 0;
      if (!ready) continue;
      if (!order.empty() && i < order.back()) sorted = false;
      placed[i] = true, order.push_back(i), progress = true;
      for (const auto& out : nd.output()) known.insert(out);
    }
  }
  if (static_cast<int>(order.size()) < n) {
    for (int i = 0; i < n; ++i) {
      if (placed[i]) continue;
      const onnx::NodeProto& nd = g->node(i);
      bool subgraph = false;
      for (const auto& a : nd.attribute()) subgraph |= a.has_g() || a.graphs_size() > 0;
      if (subgraph) return;   // left to the checker and to the importer's refusal of control flow
      for (const auto& in : nd.input())
        if (!known.count(in))
          throw Error(path + ": node '" + nd.name() + "' (" + nd.op_type() + "): input '" + in +
                      "' is never produced (no node, input or initializer makes it, or it is on a cycle)");
    }
  }
  if (sorted) return;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i : order) *nodes.Add() = g->node(i);
  g->mutable_node()->Swap(&nodes);
}

Graph import_onnx(const std::string& path, ImportInfo* info) {
  std::string bytes = read_whole_file(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) throw Error(path + ": not a valid ONNX model (protobuf parse failed)");
  if (!model.has_graph()) throw Error(path + ": ONNX model has no graph");

  int opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  if (opset < 0) throw Error(path + ": ONNX model imports no default-domain opset");
  if (opset < 1 || opset > kNewestOpset)
    throw Error(path + ": ONNX opset " + std::to_string(opset) + " is not supported (octet reads opsets 1 to " + std::to_string(kNewestOpset) + ")");
  sort_nodes(path, model.mutable_graph());
  if (opset > 17) rewrite_new_opset_forms(model, opset, path);   // onnx 1.12 knows opsets up to 17
  // IR versions 9 and 10 (opsets 19-21) add float8/int4 element types, which the importer refuses
  // by type; otherwise the file is what IR 8 describes, so onnx 1.12's checker reads it as that.
  if (model.ir_version() > onnx::IR_VERSION) model.set_ir_version(onnx::IR_VERSION);
  if (opset < kOldestReadOpset) {
    // Older models are upgraded with ONNX's own version converter rather than adapters of our
    // own: its per-op adapters are what ONNX defines the upgrade to be.
    try {
      // The converter's adapters for Add/Gemm broadcasting need input shapes: infer them first
      // (best effort; an old model it cannot type is left to the converter's own message).
      try {
        onnx::shape_inference::InferShapes(model);
      } catch (const std::exception&) {
      }
      model = onnx::version_conversion::ConvertVersion(model, kUpgradeOpset);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      throw Error(path + ": ONNX's version converter cannot upgrade opset " + std::to_string(opset) + " to " +
                  std::to_string(kUpgradeOpset) + ": " + msg.substr(0, msg.find('\n')));
    }
    opset = kUpgradeOpset;
  }

  list_initializers_as_inputs(model);   // also those the version converter made
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    auto nl = msg.find('\n');
    throw Error(path + ": ONNX checker rejects the model: " + msg.substr(0, nl));
  }
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    auto nl = msg.find('\n');
    throw Error(path + ": ONNX shape inference fails: " + msg.substr(0, nl));
  }

  const std::string dir = std::filesystem::path(path).parent_path().string();

  Graph g;
  g.opset = opset;
  g.source_file = std::filesystem::path(path).filename().string();
  if (info) {
    info->opset = opset;
    info->producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
    info->bytes = bytes.size();
  }
  const onnx::GraphProto& gp = model.graph();

  for (const auto& init : gp.initializer()) {
    if (g.has_tensor(init.name())) throw Error(path + ": initializer '" + init.name() + "' is defined twice");
    IrTensor t;
    t.name = init.name();
    t.value = to_constant(init, dir, path);
    t.dtype = t.value->dtype;
    for (int64_t d : t.value->shape) t.shape.push_back(Dim::fixed(d));
    t.shape_known = true;
    g.add_tensor(std::move(t));
  }
  for (const auto& in : gp.input()) {
    if (g.has_tensor(in.name())) continue;   // old exporters list initializers as inputs too
    IrTensor t;
    t.name = in.name();
    if (!in.type().has_tensor_type()) throw Error(path + ": graph input '" + in.name() + "' is not a tensor");
    const int et = in.type().tensor_type().elem_type();
    if (!map_dtype(et, &t.dtype))
      throw Error(path + ": graph input '" + in.name() + "' has an unsupported element type (" + onnx_type_name(et) + ")");
    note_io_type(g, "input", in.name(), et, t.dtype);
    t.shape = to_dims(in.type(), &t.shape_known);
    g.add_tensor(std::move(t));
    g.inputs.push_back(in.name());
  }
  if (g.inputs.empty()) throw Error(path + ": the model has no (non-constant) inputs");

  // Shapes and types ONNX inferred for intermediate tensors.
  std::map<std::string, const onnx::ValueInfoProto*> vi;
  for (const auto& v : gp.value_info()) vi[v.name()] = &v;
  for (const auto& v : gp.output()) vi[v.name()] = &v;

  int counter = 0;
  for (const auto& np : gp.node()) {
    Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(counter) : np.name();
    ++counter;
    n.name = g.unique_name(n.name);
    n.origin = {n.name};
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      fail(n, "operator domain '" + np.domain() + "' is not supported (only the default ONNX domain)");
    for (const auto& a : np.attribute()) {
      if (a.type() == onnx::AttributeProto::TENSOR) {
        // Constant's value is handled below; ConstantOfShape's one-element value becomes a number.
        if (n.op == "ConstantOfShape" && a.name() == "value") {
          Constant c = to_constant(a.t(), dir, path);
          if (c.elements() != 1) fail(n, "value must have one element");
          n.attrs["value"] = c.floats()[0];
          n.attrs["value_dtype"] = dtype_name(c.dtype);
        }
        continue;
      }
      // "__octet_antialias" etc.: an attribute newer than opset 17, renamed while ONNX's checker
      // ran (onnx_new_opsets.h).
      const std::string key = a.name().rfind("__octet_", 0) == 0 ? a.name().substr(8) : a.name();
      n.attrs[key] = to_json(a, n);
    }
    if (n.op == "Constant") {
      if (np.output_size() != 1) fail(n, "must have one output");
      Constant c;
      bool found = false;
      for (const auto& a : np.attribute()) {
        if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) c = to_constant(a.t(), dir, path), found = true;
        else if (a.name() == "value_float") c = Constant::of_floats({}, {a.f()}), found = true;
        else if (a.name() == "value_floats") c = Constant::of_floats({a.floats_size()}, {a.floats().begin(), a.floats().end()}), found = true;
        else if (a.name() == "value_int") c = Constant::of_ints({}, {a.i()}), found = true;
        else if (a.name() == "value_ints") c = Constant::of_ints({a.ints_size()}, {a.ints().begin(), a.ints().end()}), found = true;
      }
      if (!found) fail(n, "has no supported value attribute (sparse and string constants are not supported)");
      IrTensor t;
      t.name = np.output(0);
      t.dtype = c.dtype;
      for (int64_t d : c.shape) t.shape.push_back(Dim::fixed(d));
      t.shape_known = true;
      t.value = std::move(c);
      if (g.has_tensor(t.name)) fail(n, "output '" + t.name + "' is defined twice");
      g.add_tensor(std::move(t));
      continue;
    }
    for (const auto& in : np.input()) n.inputs.push_back(in);
    for (const auto& out : np.output()) {
      n.outputs.push_back(out);
      if (out.empty()) continue;
      if (g.has_tensor(out)) fail(n, "output '" + out + "' is defined twice");
      IrTensor t;
      t.name = out;
      auto it = vi.find(out);
      if (it != vi.end()) {
        t.shape = to_dims(it->second->type(), &t.shape_known);
        DataType dt;
        if (it->second->type().has_tensor_type() && map_dtype(it->second->type().tensor_type().elem_type(), &dt)) t.dtype = dt;
      }
      g.add_tensor(std::move(t));
    }
    g.nodes.push_back(std::move(n));
  }
  for (const auto& out : gp.output()) {
    if (!g.has_tensor(out.name())) throw Error(path + ": graph output '" + out.name() + "' is never produced");
    DataType dt;
    if (out.type().has_tensor_type() && map_dtype(out.type().tensor_type().elem_type(), &dt))
      note_io_type(g, "output", out.name(), out.type().tensor_type().elem_type(), dt);
    g.outputs.push_back(out.name());
  }
  for (const Node& n : g.nodes)
    for (const auto& in : n.inputs)
      if (!in.empty() && !g.has_tensor(in)) fail(n, "input '" + in + "' is never produced");
  return g;
}

Constant onnx_tensor_constant(const onnx::TensorProto& t, const std::string& model_dir, const std::string& file) {
  return to_constant(t, model_dir, file);
}

}  // namespace octet::converter
