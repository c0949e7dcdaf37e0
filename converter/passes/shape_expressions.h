// Shape expressions: what fold_constants knows about a shape computed at run time. Shape(x) of a
// tensor with symbolic dims yields a vector whose elements are known numbers or "dimension d of
// tensor t"; Gather/Slice/Concat/Unsqueeze/Squeeze/Cast and integer arithmetic carry them along,
// and a Reshape whose target is such a vector gets a constant target using 0 (copy that input
// dim) and -1 (infer), which the runtime resolves for any batch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir.h"

namespace octet::converter {

// One element of a shape expression.
struct SymInt {
  bool known = true;
  int64_t value = 0;
  std::string tensor;   // when !known: dim `dim` of `tensor` ("" = some run-time value)
  int64_t dim = -1;
};
using SymVec = std::vector<SymInt>;

// A node input as fold_constants sees it: a constant, a shape expression, or neither (a
// run-time value; both null also for an omitted optional input).
struct Operand {
  const Constant* c = nullptr;
  const SymVec* s = nullptr;
  bool present() const { return c || s; }
};

bool all_known(const SymVec& v);
std::vector<int64_t> known_values(const SymVec& v);   // all_known(v) must hold

// Shape(x) with its start/end attributes; nullopt when x's rank is unknown.
std::optional<SymVec> shape_of(const Node& shape_node, const IrTensor& x);

// Node n (Identity, Cast, Gather, Squeeze, Unsqueeze, Concat, Slice, Add/Sub/Mul/Div) applied to
// operands of which at least one is a shape expression; nullopt when the result is not one.
std::optional<SymVec> evaluate_shape_expression(const Node& n, const std::vector<Operand>& in);

// A Reshape target given as a shape expression, as numbers: known values, 0 where the element is
// dim i of the Reshape's own input x (`copies_input_dim`), -1 elsewhere; `unknown` counts the -1s.
std::vector<int64_t> reshape_target(const Graph& g, const std::string& x, const SymVec& v, int* unknown);

}  // namespace octet::converter
