#include "ops/shape_inference.h"

#include "ops/op_spec.h"

namespace octet::detail {

std::vector<Shape> infer_shapes(const ModelData& m, const std::vector<Shape>& input_shapes) {
  std::vector<Shape> shapes(m.tensors.size());
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (m.tensors[i].is_constant()) shapes[i] = m.tensors[i].shape;
  for (size_t i = 0; i < m.inputs.size(); ++i) shapes[m.inputs[i]] = input_shapes.at(i);
  for (const NodeDef& n : m.nodes) {
    InferCtx ctx{n, m, {}, {}};
    for (int t : n.inputs) ctx.in.push_back(t >= 0 ? &shapes[t] : nullptr);
    op_spec(n.op).infer(ctx);
    if (ctx.out.size() < n.outputs.size()) node_error(n, "shape inference produced too few outputs");
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) shapes[n.outputs[o]] = ctx.out[o];
  }
  return shapes;
}

}  // namespace octet::detail
