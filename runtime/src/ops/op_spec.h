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

// One spec may serve several ops (every unary op shares kUnarySpec); op_table.def names the
// spec of each op, so an op without one does not link.
struct OpSpec {
  // Checks attributes and the data types of inputs/outputs for the node's precision (the
  // loader has already checked arity and that the op allows the precision). Throws.
  void (*validate)(const NodeDef& node, const detail::ModelData& model);
  void (*infer)(InferCtx& ctx);
  // Multiply-adds x2 of one run for these shapes (for GOPS in the profile); nullptr: not a
  // GEMM-like op.
  double (*ops)(const NodeDef& node, const std::vector<Shape>& in, const std::vector<Shape>& out) = nullptr;
  // The outputs' sizes depend on the input values (NonZero, NonMaxSuppression): infer() gives an
  // upper bound, the kernel sets each output's shape when it runs, and the session runs such a
  // node (and what it reads) while it infers shapes, like the nodes run-time operands need.
  bool value_shaped = false;
};

#define OCTET_OP(name, family, min_in, max_in, min_out, max_out, memory, prec, quant, layout, onnx, spec, ref) \
  extern const OpSpec spec;
#include "ops/op_table.def"
#undef OCTET_OP

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

}  // namespace octet
