// octet::Model: loading (file or memory) and the read-only queries of the public API.
#include <fstream>
#include <sstream>

#include "model/model_data.h"
#include "ops/params.h"
#include "octet/version.h"

namespace octet {

const char* version() { return OCTET_VERSION_STRING; }

const char* dtype_name(DataType t) {
  switch (t) {
    case DataType::f32: return "f32";
    case DataType::u8: return "u8";
    case DataType::s8: return "s8";
    case DataType::s32: return "s32";
    case DataType::i64: return "i64";
    case DataType::boolean: return "bool";
  }
  return "?";
}

size_t dtype_size(DataType t) {
  switch (t) {
    case DataType::f32: case DataType::s32: return 4;
    case DataType::u8: case DataType::s8: case DataType::boolean: return 1;
    case DataType::i64: return 8;
  }
  return 0;
}

int64_t TensorView::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Model::Model() = default;
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& json_path) { return load(json_path, LoadOptions{}); }

std::shared_ptr<const Model> Model::load(const std::string& json_path, const LoadOptions& opts) {
  std::ifstream f(json_path, std::ios::binary);
  if (!f) throw Error(json_path + ": cannot open model file");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw Error(json_path + ": cannot read model file");
  std::string dir;
  auto slash = json_path.find_last_of('/');
  if (slash != std::string::npos) dir = json_path.substr(0, slash == 0 ? 1 : slash);
  std::shared_ptr<Model> m(new Model());
  m->data_ = detail::parse_model(ss.str(), json_path, nullptr, dir, opts.verify_checksum);
  return m;
}

std::shared_ptr<const Model> Model::from_memory(const std::string& json, std::vector<uint8_t> weights,
                                                const std::string& label) {
  std::shared_ptr<Model> m(new Model());
  m->data_ = detail::parse_model(json, label, WeightsFile::from_bytes(std::move(weights), label + ".bin"), "", true);
  return m;
}

const std::string& Model::path() const { return data_->path; }
const std::vector<TensorInfo>& Model::inputs() const { return data_->input_infos; }
const std::vector<TensorInfo>& Model::outputs() const { return data_->output_infos; }
std::string Model::producer() const { return data_->producer; }
size_t Model::weights_bytes() const { return data_->weights ? data_->weights->size() : 0; }

TensorInfo Model::tensor(const std::string& name) const {
  int i = data_->find_tensor(name);
  if (i < 0) throw Error(data_->path + ": no tensor named '" + name + "'");
  return data_->info(i);
}

std::vector<NodeSummary> Model::nodes() const {
  std::vector<NodeSummary> out;
  for (const NodeDef& n : data_->nodes) {
    NodeSummary s{n.name, op_name(n.op), precision_name(n.precision), n.activation.name(), {}, {}};
    for (int t : n.inputs) s.inputs.push_back(t >= 0 ? data_->tensor(t).name : "");
    for (int t : n.outputs) s.outputs.push_back(t >= 0 ? data_->tensor(t).name : "");
    s.input_per_row = n.precision == Precision::Int8Dynamic && dynamic_input_per_row(n);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace octet
