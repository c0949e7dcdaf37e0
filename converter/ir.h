// The converter's graph IR: a mutable graph of named tensors and nodes that starts as a faithful
// copy of the ONNX graph (ONNX op names and attributes) and is rewritten pass by pass into octet's
// ops (docs/format.md). Attributes are JSON so they can be written out unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "octet/octet.h"

namespace octet::converter {

// A dimension: a fixed size or a symbol ("batch"); unknown dims are the symbol "?".
struct Dim {
  int64_t value = -1;   // -1 when symbolic
  std::string symbol;
  static Dim fixed(int64_t v) { return {v, ""}; }
  static Dim sym(std::string s) { return {-1, std::move(s)}; }
  bool is_fixed() const { return value >= 0; }
  // An extent nobody knows: "?" (no dim_value nor dim_param) or a name ONNX's shape inference
  // made up for one ("unk__N"), as opposed to a user's symbol (batch, height, ...).
  bool is_unknown() const { return !is_fixed() && (symbol == "?" || symbol.rfind("unk__", 0) == 0); }
  bool operator==(const Dim& o) const { return value == o.value && symbol == o.symbol; }
};

// Constant data, always stored as raw little-endian bytes of `dtype`.
struct Constant {
  DataType dtype = DataType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t elements() const;
  std::vector<float> floats() const;      // any numeric dtype, converted
  std::vector<int64_t> ints() const;      // any integer dtype (or integral floats), converted
  static Constant of_floats(std::vector<int64_t> shape, const std::vector<float>& v);
  static Constant of_ints(std::vector<int64_t> shape, const std::vector<int64_t>& v);   // i64
  template <class T> const T* as() const { return reinterpret_cast<const T*>(bytes.data()); }
  template <class T> T* as() { return reinterpret_cast<T*>(bytes.data()); }
};

struct IrTensor {
  std::string name;
  DataType dtype = DataType::f32;
  std::vector<Dim> shape;
  bool shape_known = false;
  std::optional<Constant> value;   // set for constants (weights)
  QuantInfo quant;

  bool is_constant() const { return value.has_value(); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  // All dims fixed: returns them; otherwise nullopt.
  std::optional<std::vector<int64_t>> static_shape() const;
};

struct Node {
  std::string name;
  std::string op;                      // ONNX op before lowering, octet op after
  std::vector<std::string> inputs;     // "" = omitted optional input
  std::vector<std::string> outputs;
  nlohmann::json attrs = nlohmann::json::object();
  nlohmann::json activation;           // fused activation or null
  std::string precision = "float";
  bool lowered = false;                // true once the node has octet semantics (NHWC etc.)
  std::vector<std::string> origin;     // ONNX node names this node came from (for messages)

  std::string label() const { return "node '" + name + "' (" + op + ")"; }
  int64_t attr_int(const char* k, int64_t d) const;
  float attr_float(const char* k, float d) const;
  std::string attr_string(const char* k, const std::string& d) const;
  std::vector<int64_t> attr_ints(const char* k, std::vector<int64_t> d) const;
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
};

class Graph {
 public:
  int opset = 13;
  std::string source_file;
  // What the user should know about the converted model's interface, one line each (graph inputs
  // and outputs whose ONNX element type octet computes in a wider or narrower type).
  std::vector<std::string> notes;
  std::vector<std::string> inputs, outputs;
  std::vector<Node> nodes;   // kept in topological order by every pass

  IrTensor& tensor(const std::string& name);
  const IrTensor& tensor(const std::string& name) const;
  bool has_tensor(const std::string& name) const { return tensors_.count(name) > 0; }
  IrTensor& add_tensor(IrTensor t);   // throws if the name exists
  void remove_tensor(const std::string& name) { tensors_.erase(name); }
  const std::map<std::string, IrTensor>& tensors() const { return tensors_; }

  // A fresh tensor/node name based on `base` that is not used yet.
  std::string unique_name(const std::string& base);
  bool is_constant(const std::string& name) const { return !name.empty() && has_tensor(name) && tensor(name).is_constant(); }
  const Constant* constant(const std::string& name) const;
  std::string add_constant(const std::string& base, Constant c);

  // Index of the node producing `tensor`, or -1.
  int producer(const std::string& tensor) const;
  // Indices of nodes reading `tensor`.
  std::vector<int> consumers(const std::string& tensor) const;
  bool is_graph_output(const std::string& t) const;
  // Replace every use of `from` by `to` (node inputs and graph outputs).
  void replace_uses(const std::string& from, const std::string& to);
  // Drop nodes whose outputs nobody uses, then unused tensors.
  void remove_dead();
  // Re-sort nodes topologically (stable); throws on a cycle.
  void toposort();

 private:
  std::map<std::string, IrTensor> tensors_;
  std::set<std::string> used_names_;
  int name_counter_ = 0;
};

// The octet dtype a Cast to ONNX element type `onnx_to` gives: FLOAT, FLOAT16 and DOUBLE compute as
// f32, the integers as s32 or i64, BOOL as bool; nullopt for 8-bit integers (octet's u8/s8 are
// quantized codes), strings and the rest.
std::optional<DataType> cast_target_dtype(int64_t onnx_to);

// Where tensor `t`'s unknown shape starts: the first node on the way back from `t` whose inputs
// all have known shapes but whose output does not, as "node 'n' (Op)" (for messages).
std::string unknown_shape_origin(const Graph& g, const std::string& t);

// "node 'x' (Op): what" as an octet::Error.
[[noreturn]] void fail(const Node& n, const std::string& what);

}  // namespace octet::converter
