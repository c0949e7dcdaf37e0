#include "ops/op_traits.h"

#include <array>
#include <cctype>
#include <unordered_map>

namespace octet {

namespace {
using namespace op_table;

constexpr OpTraits kTraits[] = {
#define OCTET_OP(name, family, min_in, max_in, min_out, max_out, memory, prec, quant, layout, onnx, spec, ref) \
  {#name, family, min_in, max_in, min_out, max_out, memory.use, memory.input, prec, quant, layout, onnx},
#include "ops/op_table.def"
#undef OCTET_OP
};
static_assert(sizeof(kTraits) / sizeof(kTraits[0]) == kOpCount, "trait table out of step with op_table.def");

// Checks on the table itself, at compile time: arity ranges are ranges, an in-place input exists,
// and every op can run in float.
constexpr bool table_is_consistent() {
  for (const OpTraits& t : kTraits) {
    if (t.min_inputs < 0 || t.min_inputs > t.max_inputs || t.min_outputs < 1 || t.min_outputs > t.max_outputs) return false;
    if (t.memory != MemoryUse::New && (t.memory_input < 0 || t.memory_input >= t.max_inputs)) return false;
    if (!t.precisions.has(Precision::Float)) return false;   // every op has a float form (the converter's fallback)
  }
  return true;
}
static_assert(table_is_consistent(), "op_table.def: an arity, in-place input or precision set is inconsistent");

constexpr const char* kPrecisionNames[] = {"float", "int8_static", "int8_dynamic"};
static_assert(sizeof(kPrecisionNames) / sizeof(kPrecisionNames[0]) == kPrecisionCount, "precision names out of step");

std::string snake(const char* camel) {
  if (std::string(camel) == "MatMul") return "matmul";   // one word, as in oneDNN and XNNPACK
  std::string s;
  for (const char* p = camel; *p; ++p) {
    // A word starts at a capital after a lower-case letter: "ConvTranspose" -> conv_transpose,
    // "LSTM" -> lstm.
    if (std::isupper(static_cast<unsigned char>(*p)) && p != camel && std::islower(static_cast<unsigned char>(p[-1]))) s += '_';
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
  }
  return s;
}
}  // namespace

const OpTraits& op_traits(OpKind op) { return kTraits[static_cast<size_t>(op)]; }

const char* op_name(OpKind op) {
  const auto i = static_cast<size_t>(op);
  return i < kOpCount ? kTraits[i].name : "?";
}

bool op_from_name(const std::string& name, OpKind* op) {
  static const auto index = [] {
    std::unordered_map<std::string, OpKind> m;
    for (size_t i = 0; i < kOpCount; ++i) m.emplace(kTraits[i].name, static_cast<OpKind>(i));
    return m;
  }();
  auto it = index.find(name);
  if (it == index.end()) return false;
  *op = it->second;
  return true;
}

const std::string& op_snake_name(OpKind op) {
  static const auto names = [] {
    std::array<std::string, kOpCount> n;
    for (size_t i = 0; i < kOpCount; ++i) n[i] = snake(kTraits[i].name);
    return n;
  }();
  return names[static_cast<size_t>(op)];
}

const char* precision_name(Precision p) {
  const auto i = static_cast<size_t>(p);
  return i < kPrecisionCount ? kPrecisionNames[i] : "?";
}

}  // namespace octet
