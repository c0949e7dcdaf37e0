// Writes octet's format (docs/format.md): the JSON graph and the .bin of weights. Used by the
// converter and by tests that build models directly. Output is deterministic: the same calls
// give byte-identical files.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "octet/octet.h"

namespace octet {

class ModelWriter {
 public:
  // A dimension is an integer or a symbol name (e.g. "batch").
  using Dim = nlohmann::json;

  struct TensorSpec {
    std::string name;
    DataType dtype = DataType::f32;
    std::vector<Dim> shape;
    QuantInfo quant;                // empty: not quantized
    std::vector<uint8_t> data;      // constant bytes; empty with has_data=false for activations
    bool has_data = false;
    bool shape_known = true;        // false: written as "shape": null (left to inference)
  };
  struct NodeSpec {
    std::string name, op;
    std::vector<std::string> inputs, outputs;   // "" for an omitted optional input
    nlohmann::json attrs = nlohmann::json::object();
    nlohmann::json activation;                  // null or {"op": "Relu", ...}
    std::string precision = "float";            // float | int8_static | int8_dynamic
  };

  void set_producer(std::string p) { producer_ = std::move(p); }
  void set_source(nlohmann::json s) { source_ = std::move(s); }
  void set_conversion(nlohmann::json c) { conversion_ = std::move(c); }

  void add_tensor(TensorSpec t) { tensors_.push_back(std::move(t)); }
  // Convenience for constants from typed vectors.
  template <class T>
  void add_constant(const std::string& name, DataType dtype, std::vector<Dim> shape, const std::vector<T>& values,
                    QuantInfo quant = {}) {
    TensorSpec t{name, dtype, std::move(shape), std::move(quant), {}, true};
    t.data.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    add_tensor(std::move(t));
  }
  void add_node(NodeSpec n) { nodes_.push_back(std::move(n)); }
  void set_inputs(std::vector<std::string> v) { inputs_ = std::move(v); }
  void set_outputs(std::vector<std::string> v) { outputs_ = std::move(v); }

  // Serializes. `bin_name` is the file name the JSON records for the weights.
  void serialize(const std::string& bin_name, std::string* json_text, std::vector<uint8_t>* bin) const;
  // Writes `json_path` and the .bin beside it (same stem), each through a temporary file that is
  // renamed into place only when complete. Returns the .bin path.
  std::string save(const std::string& json_path) const;

  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  std::vector<TensorSpec>& tensors() { return tensors_; }
  const std::vector<NodeSpec>& nodes() const { return nodes_; }

 private:
  std::string producer_ = "octet";
  nlohmann::json source_, conversion_;
  std::vector<TensorSpec> tensors_;
  std::vector<NodeSpec> nodes_;
  std::vector<std::string> inputs_, outputs_;
};

// One JSON value on one line, with floats printed in the shortest form that reads back as the
// same float32 (scales stay readable and exact).
std::string dump_json_line(const nlohmann::json& j);


}  // namespace octet
