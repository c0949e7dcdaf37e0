#include "ops/shape_inference.h"

#include "ops/op_spec.h"

namespace octet::detail {

std::vector<Shape> infer_node(const NodeDef& n, const ModelData& m, const std::vector<const Shape*>& in) {
  InferCtx ctx{n, m, in, {}};
  op_spec(n.op).infer(ctx);
  if (ctx.out.size() < n.outputs.size()) node_error(n, "shape inference produced too few outputs");
  return std::move(ctx.out);
}

std::vector<Shape> infer_shapes(const ModelData& m, const std::vector<Shape>& input_shapes, std::vector<bool>* known) {
  std::vector<Shape> shapes(m.tensors.size());
  std::vector<bool> ok(m.tensors.size(), true);
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (m.tensors[i].is_constant()) shapes[i] = m.tensors[i].shape;
  for (size_t i = 0; i < m.inputs.size(); ++i) shapes[m.inputs[i]] = input_shapes.at(i);
  for (const NodeDef& n : m.nodes) {
    bool can = !n.has_runtime_operands;
    std::vector<const Shape*> in;
    for (int t : n.inputs) {
      in.push_back(t >= 0 ? &shapes[t] : nullptr);
      if (t >= 0 && !ok[t]) can = false;
    }
    if (!can) {
      for (int o : n.outputs) if (o >= 0) ok[o] = false;
      continue;
    }
    std::vector<Shape> out = infer_node(n, m, in);
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) shapes[n.outputs[o]] = std::move(out[o]);
  }
  if (known) *known = std::move(ok);
  return shapes;
}

}  // namespace octet::detail
