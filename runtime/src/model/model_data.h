// The in-memory form of a loaded model: plain structs, filled and validated by model_json.cc.
// Everything after loading (planning, kernels, sessions) reads these and never the JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/attrs.h"
#include "model/weights_file.h"
#include "octet/octet.h"
#include "ops/op_traits.h"

namespace octet {

// An activation fused into Conv/ConvTranspose/FullyConnected/MatMul/Add, applied to the real
// (dequantized) value before the output is quantized. Clip covers Relu6.
enum class ActKind : uint8_t { None, Relu, Clip, LeakyRelu, HardSwish, HardSigmoid, Sigmoid, Tanh, Gelu };
struct Activation {
  ActKind kind = ActKind::None;
  float alpha = 0;   // LeakyRelu slope; HardSigmoid alpha; Clip min
  float beta = 0;    // HardSigmoid beta; Clip max
  const char* name() const;
};

using Shape = std::vector<int64_t>;

struct TensorDef {
  std::string name;
  DataType dtype = DataType::f32;
  Shape shape;                          // -1 where symbolic
  bool shape_declared = true;           // false: an intermediate whose shape the file leaves to inference
  std::vector<std::string> dim_names;   // symbol per dim ("" for fixed ones)
  QuantInfo quant;
  const uint8_t* data = nullptr;        // constant (weights): points into the .bin
  size_t data_bytes = 0;
  int producer = -1;                    // index of the producing node, -1 if none
  bool is_graph_input = false;
  // Its shape depends on values computed at run time (ops/operands.h): `shape` is what the file
  // declares, or empty (rank unknown) when it declares none; only a run knows the real one.
  bool shape_at_run_time = false;
  bool is_constant() const { return data != nullptr; }
};

struct NodeDef {
  std::string name;
  OpKind op = OpKind::kCount;
  std::vector<int> inputs;    // tensor indices; -1 for an omitted optional input
  std::vector<int> outputs;
  Attrs attrs;
  Activation activation;
  Precision precision = Precision::Float;
  // Some input is an operand (ops/operands.h) computed at run time: the attributes it gives are
  // missing until a session reads it, so validation and inference wait for the session.
  bool has_runtime_operands = false;
};

namespace detail {
struct ModelData {
  std::string path;          // the JSON file (or a label for in-memory models)
  std::string producer;      // "octet-convert 0.1.0"
  std::string source;        // source model file name
  std::vector<TensorDef> tensors;
  std::vector<NodeDef> nodes;
  std::vector<int> inputs, outputs;   // graph inputs/outputs (tensor indices)
  std::unordered_map<std::string, int> tensor_index;
  std::vector<TensorInfo> input_infos, output_infos;
  std::unique_ptr<WeightsFile> weights;

  const TensorDef& tensor(int i) const { return tensors[static_cast<size_t>(i)]; }
  int find_tensor(const std::string& name) const {
    auto it = tensor_index.find(name);
    return it == tensor_index.end() ? -1 : it->second;
  }
  TensorInfo info(int tensor) const;
};

// Parses and validates; throws octet::Error naming the file and the offending item.
std::unique_ptr<ModelData> parse_model(const std::string& json_text, const std::string& label,
                                       std::unique_ptr<WeightsFile> weights_or_null,
                                       const std::string& json_dir, bool verify_checksum);
}  // namespace detail

}  // namespace octet
