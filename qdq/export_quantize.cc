// export-qdq, octet's own QuantizeLinear / DequantizeLinear nodes (the region boundaries of a
// static int8 graph) as ONNX's, with the tensor's scale and zero point.
#include "qdq/op_exporters.h"

namespace octet::qdq {

void export_quantize(QdqGraph& g, const NodeDef& n) {
  int x = g.in(0), y = g.out(0);
  Val v = g.value(x);
  switch (n.op) {
    case OpKind::QuantizeLinear: {
      std::string xf = v.name;
      if (g.T(x).dtype != DataType::f32) xf = g.fin(x, v.nchw);   // a requantization: through float
      return g.finish(xf, y, v.nchw);
    }
    case OpKind::DequantizeLinear:
      return g.finish(g.dq_named(v.name, x, g.held_nchw(x), g.T(y).name), y, v.nchw);
    default: g.refuse("no ONNX translation for this op in export-qdq");
  }
}

}  // namespace octet::qdq
