// What octet knows about each op independently of any kernel, generated from ops/op_table.def:
// the OpKind enum, names, and the traits the loader, planner, converter and tests ask about
// (arity, memory use, precisions, quantization role, layout, ONNX form). Any list of ops in the
// code base is a query on these traits, never a hand-written list of names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace octet {

enum class OpKind : uint16_t {
#define OCTET_OP(name, ...) name,
#include "ops/op_table.def"
#undef OCTET_OP
  kCount
};
constexpr size_t kOpCount = static_cast<size_t>(OpKind::kCount);

enum class Precision : uint8_t { Float, Int8Static, Int8Dynamic };
constexpr size_t kPrecisionCount = 3;
const char* precision_name(Precision p);   // "float", "int8_static", "int8_dynamic"

enum class OpFamily : uint8_t { Compute, Pool, Binary, Unary, Data, Reduce, Norm, Quant, Recurrent, Compare };
enum class MemoryUse : uint8_t { New, InPlace, View };
enum class QuantRole : uint8_t { Anchor, Rescale, Lookup, Keep, Float, Boundary };
enum class Layout : uint8_t { Elementwise, Axis, Spatial, Fixed };
enum class OnnxForm : uint8_t { Same, Own };

// A set of precisions (bit i = Precision i).
struct PrecisionSet {
  uint8_t bits = 0;
  constexpr bool has(Precision p) const { return (bits >> static_cast<unsigned>(p)) & 1u; }
};

struct OpTraits {
  const char* name;          // "Conv"
  OpFamily family;
  int min_inputs, max_inputs, min_outputs, max_outputs;
  MemoryUse memory;
  int memory_input;          // InPlace: the input output 0 may take over; View: 0; New: -1
  PrecisionSet precisions;
  QuantRole quant;
  Layout layout;
  OnnxForm onnx;
};

const OpTraits& op_traits(OpKind op);
const char* op_name(OpKind op);                          // "Conv"; "?" out of range
bool op_from_name(const std::string& name, OpKind* op);  // false: not an octet op
// The op's name in implementation names: "ConvTranspose" -> "conv_transpose", "LSTM" -> "lstm".
const std::string& op_snake_name(OpKind op);

// The column tokens of op_table.def, named once.
namespace op_table {
constexpr OpFamily Compute = OpFamily::Compute, Pool = OpFamily::Pool, Binary = OpFamily::Binary,
                   Unary = OpFamily::Unary, Data = OpFamily::Data, Reduce = OpFamily::Reduce,
                   Norm = OpFamily::Norm, Quant = OpFamily::Quant, Recurrent = OpFamily::Recurrent,
                   Compare = OpFamily::Compare;
struct Memory {
  MemoryUse use;
  int input;
};
constexpr Memory New{MemoryUse::New, -1}, InPlace0{MemoryUse::InPlace, 0}, InPlace3{MemoryUse::InPlace, 3},
    View{MemoryUse::View, 0};
constexpr PrecisionSet F{1}, S{2}, D{4}, FS{3}, FD{5}, SD{6}, FSD{7};
constexpr QuantRole Anchor = QuantRole::Anchor, Rescale = QuantRole::Rescale, Lookup = QuantRole::Lookup,
                    Keep = QuantRole::Keep, Float = QuantRole::Float, Boundary = QuantRole::Boundary;
constexpr Layout Elementwise = Layout::Elementwise, Axis = Layout::Axis, Spatial = Layout::Spatial,
                 Fixed = Layout::Fixed;
constexpr OnnxForm Same = OnnxForm::Same, Own = OnnxForm::Own;
}  // namespace op_table

}  // namespace octet
