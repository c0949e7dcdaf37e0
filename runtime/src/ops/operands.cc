#include "ops/operands.h"

#include <cstring>

#include "ops/op_spec.h"

namespace octet {

namespace {
struct Entry {
  OpKind op;
  size_t input;
  OperandSlot slot;
};

// ONNX's input order for these ops (opset 13-21), so the converter keeps inputs where they are.
constexpr OperandForm L = OperandForm::List, S = OperandForm::Scalar;
const Entry kOperands[] = {
    {OpKind::Reshape, 1, {"shape", L}},
    {OpKind::Expand, 1, {"shape", L}},
    {OpKind::Tile, 1, {"repeats", L}},
    {OpKind::Slice, 1, {"starts", L}},
    {OpKind::Slice, 2, {"ends", L}},
    {OpKind::Slice, 3, {"axes", L}},
    {OpKind::Slice, 4, {"steps", L}},
    {OpKind::Squeeze, 1, {"axes", L}},
    {OpKind::Unsqueeze, 1, {"axes", L}},
    {OpKind::Split, 1, {"split", L}},
    {OpKind::Pad, 1, {"pads", L}},
    {OpKind::Pad, 2, {"value", S}},
    {OpKind::Resize, 1, {"scales", L}},
    {OpKind::Resize, 2, {"sizes", L}},
    {OpKind::Clip, 1, {"min", S}},
    {OpKind::Clip, 2, {"max", S}},
    {OpKind::ReduceMean, 1, {"axes", L}},
    {OpKind::ReduceSum, 1, {"axes", L}},
    {OpKind::ReduceMax, 1, {"axes", L}},
    {OpKind::ReduceMin, 1, {"axes", L}},
    {OpKind::ReduceProd, 1, {"axes", L}},
    {OpKind::ReduceL1, 1, {"axes", L}},
    {OpKind::ReduceL2, 1, {"axes", L}},
    {OpKind::ReduceSumSquare, 1, {"axes", L}},
    {OpKind::ReduceLogSum, 1, {"axes", L}},
    {OpKind::ReduceLogSumExp, 1, {"axes", L}},
    {OpKind::ConstantOfShape, 0, {"shape", L}},
    {OpKind::Trilu, 1, {"k", S}},
    {OpKind::CumSum, 1, {"axis", S}},
    {OpKind::TopK, 1, {"k", S}},
    {OpKind::OneHot, 1, {"depth", S}},
    {OpKind::Range, 0, {"start", S}},
    {OpKind::Range, 1, {"limit", S}},
    {OpKind::Range, 2, {"delta", S}},
};

template <class T>
void append(nlohmann::json& out, const void* data, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, static_cast<const uint8_t*>(data) + i * sizeof(T), sizeof(T));
    out.push_back(v);
  }
}
}  // namespace

OperandSlot operand_slot(OpKind op, size_t i) {
  for (const Entry& e : kOperands)
    if (e.op == op && e.input == i) return e.slot;
  return {};
}

bool reads_only_shape(OpKind op) { return op == OpKind::Shape || op == OpKind::Size; }

bool fold_operands(NodeDef& n, const detail::ModelData& m, const std::function<const TensorView*(size_t)>& value) {
  nlohmann::json attrs = n.attrs.json();
  bool left = false, folded = false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const OperandSlot slot = operand_slot(n.op, i);
    if (!slot.attr || n.inputs[i] < 0) continue;
    const TensorDef& t = m.tensor(n.inputs[i]);
    const std::string what = "operand '" + t.name + "' (" + slot.attr + ")";
    if (t.dtype != DataType::i64 && t.dtype != DataType::s32 && t.dtype != DataType::f32)
      node_error(n, what + " must be i64, s32 or f32, not " + dtype_name(t.dtype));
    const TensorView* v = value(i);
    if (!v) {
      left = true;
      continue;
    }
    const int64_t count = shape_elements(v->shape);
    if (count > (int64_t{1} << 20)) node_error(n, what + " has " + std::to_string(count) + " elements; too many for an attribute");
    nlohmann::json list = nlohmann::json::array();
    if (t.dtype == DataType::i64) append<int64_t>(list, v->data, count);
    else if (t.dtype == DataType::s32) append<int32_t>(list, v->data, count);
    else append<float>(list, v->data, count);
    if (slot.form == OperandForm::Scalar) {
      if (count != 1) node_error(n, what + " must have one element, has " + std::to_string(count));
      attrs[slot.attr] = list[0];
    } else {
      attrs[slot.attr] = std::move(list);
    }
    n.inputs[i] = -1;
    folded = true;
  }
  if (folded) n.attrs = Attrs(std::move(attrs), n.name);
  n.has_runtime_operands = left;
  return left;
}

NodeDef with_operands(const NodeDef& n, const detail::ModelData& m, const std::vector<TensorView>& in) {
  NodeDef r = n;
  fold_operands(r, m, [&](size_t i) { return &in.at(i); });
  op_spec(r.op).validate(r, m);
  return r;
}

}  // namespace octet
