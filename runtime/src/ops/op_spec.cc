#include "ops/op_spec.h"

#include <array>
#include <cstring>

#include "ops/spec_util.h"

namespace octet {

namespace {
constexpr const OpSpec* kSpecs[] = {
#define OCTET_OP(name, family, min_in, max_in, min_out, max_out, memory, prec, quant, layout, onnx, spec, ref) &spec,
#include "ops/op_table.def"
#undef OCTET_OP
};
static_assert(sizeof(kSpecs) / sizeof(kSpecs[0]) == kOpCount, "spec table out of step with op_table.def");

constexpr const char* kActNames[] = {"", "Relu", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "Gelu"};
static_assert(sizeof(kActNames) / sizeof(kActNames[0]) == static_cast<size_t>(ActKind::Gelu) + 1,
              "activation names out of step with ActKind");
}  // namespace

const char* Activation::name() const {
  const auto i = static_cast<size_t>(kind);
  return i < sizeof(kActNames) / sizeof(kActNames[0]) ? kActNames[i] : "?";
}

const OpSpec& op_spec(OpKind op) { return *kSpecs[static_cast<size_t>(op)]; }

void node_error(const NodeDef& node, const std::string& what) {
  throw Error("node '" + node.name + "' (" + op_name(node.op) + "): " + what);
}

const Shape& InferCtx::input(size_t i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is required");
  return *in[i];
}

void InferCtx::fail(const std::string& what) const { node_error(node, what); }

int64_t shape_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    o[i] = da == 1 ? db : da;
  }
  *out = std::move(o);
  return true;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const NodeDef& node, bool inclusive) {
  int64_t hi = inclusive ? rank + 1 : rank;
  int64_t a = axis < 0 ? axis + hi : axis;
  if (a < 0 || a >= hi) node_error(node, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return a;
}

// ---- spec_util.h ----

void expect_dtype(const NodeDef& node, const detail::ModelData& m, size_t input, std::initializer_list<DataType> ok,
                  const char* role) {
  if (input >= node.inputs.size() || node.inputs[input] < 0) return;
  const TensorDef& t = m.tensor(node.inputs[input]);
  for (DataType d : ok) if (t.dtype == d) return;
  std::string want;
  for (DataType d : ok) want += std::string(want.empty() ? "" : " or ") + dtype_name(d);
  node_error(node, std::string(role) + " '" + t.name + "' has dtype " + dtype_name(t.dtype) + ", expected " + want);
}

void expect_out_dtype(const NodeDef& node, const detail::ModelData& m, size_t output,
                      std::initializer_list<DataType> ok, const char* role) {
  const TensorDef& t = m.tensor(node.outputs[output]);
  for (DataType d : ok) if (t.dtype == d) return;
  std::string want;
  for (DataType d : ok) want += std::string(want.empty() ? "" : " or ") + dtype_name(d);
  node_error(node, std::string(role) + " '" + t.name + "' has dtype " + dtype_name(t.dtype) + ", expected " + want);
}

void expect_same_dtype(const NodeDef& node, const detail::ModelData& m, size_t input, size_t output) {
  const TensorDef& a = m.tensor(node.inputs[input]);
  const TensorDef& b = m.tensor(node.outputs[output]);
  if (a.dtype != b.dtype) {
    node_error(node, "output '" + b.name + "' has dtype " + dtype_name(b.dtype) + " but input '" + a.name + "' has " +
                         dtype_name(a.dtype));
  }
}

void expect_same_quant(const NodeDef& node, const detail::ModelData& m, size_t input, size_t output) {
  const TensorDef& a = m.tensor(node.inputs[input]);
  const TensorDef& b = m.tensor(node.outputs[output]);
  if (!is_quantized(a.dtype)) return;
  if (a.quant.scale != b.quant.scale || a.quant.zero_point != b.quant.zero_point) {
    node_error(node, "output '" + b.name + "' must have the same scale and zero point as input '" + a.name + "'");
  }
}

bool is_quantized(DataType t) { return t == DataType::u8 || t == DataType::s8; }

void expect_per_tensor(const NodeDef& node, const TensorDef& t) {
  if (t.quant.scale.size() != 1) node_error(node, "tensor '" + t.name + "' must be quantized per tensor");
}

}  // namespace octet
