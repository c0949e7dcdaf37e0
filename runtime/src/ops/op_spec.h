// What the runtime knows about each op independently of any backend: arity, validation of
// attributes and data types (at load), and shape inference (at load and whenever input shapes
// change). Kernels live in kernels/; this is the contract they implement.
#pragma once

#include <string>
#include <vector>

#include "model/model_data.h"

namespace octet {

struct InferCtx {
  const NodeDef& node;
  const detail::ModelData& model;
  std::vector<const Shape*> in;   // nullptr for an omitted optional input
  std::vector<Shape> out;         // filled by infer()

  const Shape& input(size_t i) const;            // throws if omitted
  bool has_input(size_t i) const { return i < in.size() && in[i] != nullptr; }
  const TensorDef& input_def(size_t i) const { return model.tensor(node.inputs[i]); }
  [[noreturn]] void fail(const std::string& what) const;
};

struct OpSpec {
  int min_inputs, max_inputs, min_outputs, max_outputs;
  // Checks attributes and the data types of inputs/outputs for the node's precision. Throws.
  void (*validate)(const NodeDef& node, const detail::ModelData& model);
  void (*infer)(InferCtx& ctx);
  // Output 0 is input 0's bytes under another shape (Reshape, Flatten, Squeeze, Unsqueeze):
  // the planner gives both the same storage and the kernel does nothing.
  bool view = false;
};

const OpSpec& op_spec(OpKind op);

// "node 'name' (Op): what" as an octet::Error.
[[noreturn]] void node_error(const NodeDef& node, const std::string& what);

// Shape helpers shared by specs and kernels.
int64_t shape_elements(const Shape& s);
std::string shape_str(const Shape& s);
// Broadcast two shapes numpy-style; returns false if they do not broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
// Normalizes a possibly negative axis into [0, rank) (or [0, rank] with `inclusive`).
int64_t normalize_axis(int64_t axis, int64_t rank, const NodeDef& node, bool inclusive = false);

// Per-family spec tables (ops/spec_*.cc).
void fill_compute_specs(OpSpec* table);
void fill_elementwise_specs(OpSpec* table);
void fill_data_specs(OpSpec* table);
void fill_misc_specs(OpSpec* table);

}  // namespace octet
