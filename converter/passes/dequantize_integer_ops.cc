// Models quantized by ONNX Runtime's quantize_dynamic come back to float here, with weights
// dequantized from their own int8 codes and scales; octet then converts them as any float model
// (--precision float runs them in float, the default calibrates octet's own int8).
//
// The patterns are the ones ORT's dynamic quantizer writes (onnxruntime/python/tools/quantization):
//
//   x -> DynamicQuantizeLinear -> (xq, x_scale, x_zp)
//   ConvInteger / MatMulInteger (xq, Wq, x_zp, w_zp) -> int32 -> Cast(to float) -> Mul(scale)
//   scale = Mul(x_scale, w_scale)
//       =>  Conv / MatMul (x, DequantizeLinear(Wq, w_scale, w_zp))
//
//   Gather(int8 table, ids) -> DequantizeLinear(scale, zp)  (quantized embeddings)
//       =>  Gather(DequantizeLinear(table), ids)
//
// The weight DequantizeLinear nodes have constant inputs, so fold_constants turns them into float
// weights. Without the activation's dynamic quantization the float graph is what the model was
// before ORT quantized it, up to the weights' rounding; outputs therefore differ from ORT running
// the quantized file by that activation rounding (measured per model in benchmarks/corpus).
#include <algorithm>

#include "passes/passes.h"

namespace octet::converter {
namespace {

// The only consumer of `t`, or -1 (none, several, or `t` is a graph output).
int only_consumer(const Graph& g, const std::string& t) {
  auto c = g.consumers(t);
  return c.size() == 1 && !g.is_graph_output(t) ? c[0] : -1;
}

class IntegerOpsToFloat {
 public:
  IntegerOpsToFloat(Graph& g, PassStats& stats) : g_(g), stats_(stats) {}

  void run() {
    bool changed = false;
    std::vector<Node> added;   // weight DequantizeLinear nodes, placed first (constant inputs)
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const std::string op = g_.nodes[i].op;
      if (op == "ConvInteger" || op == "MatMulInteger") changed |= integer_op(i, added);
      else if (op == "DequantizeLinear") changed |= dequantized_gather(i, added);
    }
    if (!changed) return;
    g_.nodes.insert(g_.nodes.begin(), added.begin(), added.end());
    g_.nodes.erase(std::remove_if(g_.nodes.begin(), g_.nodes.end(), [](const Node& n) { return n.op.empty(); }), g_.nodes.end());
    g_.remove_dead();
  }

 private:
  Graph& g_;
  PassStats& stats_;

  // A float tensor DequantizeLinear(q, scale, zp) (axis for per-channel scales); returns its name.
  std::string dequantized(const Node& n, const std::string& q, const std::string& scale, const std::string& zp, int64_t axis,
                          std::vector<Node>& added) {
    IrTensor t;
    t.name = g_.unique_name(q + "_dequantized");
    t.dtype = DataType::f32;
    const IrTensor& src = g_.tensor(q);
    t.shape = src.shape, t.shape_known = src.shape_known;
    const std::string name = t.name;
    g_.add_tensor(std::move(t));
    Node dq{g_.unique_name(n.name + "_weights"), "DequantizeLinear", {q, scale}, {name}, {{"axis", axis}}};
    if (!zp.empty()) dq.inputs.push_back(zp);
    dq.origin = {n.name};
    added.push_back(std::move(dq));
    return name;
  }

  // ConvInteger / MatMulInteger in ORT's dynamic pattern -> Conv / MatMul on float. A node in
  // another form is left for lower_ops, which refuses it naming the node.
  bool integer_op(size_t i, std::vector<Node>& added) {
    const Node n = g_.nodes[i];
    const bool conv = n.op == "ConvInteger";
    if (n.inputs.size() < 2) return false;
    const int p = g_.producer(n.inputs[0]);
    if (p < 0 || g_.nodes[p].op != "DynamicQuantizeLinear" || g_.nodes[p].outputs.size() < 3) return false;
    const Node& dql = g_.nodes[p];
    if (n.has_input(2) && n.inputs[2] != dql.outputs[2]) return false;
    if (!g_.is_constant(n.inputs[1]) || (n.has_input(3) && !g_.is_constant(n.inputs[3]))) return false;
    const int c = only_consumer(g_, n.outputs[0]);
    if (c < 0 || g_.nodes[c].op != "Cast" || g_.nodes[c].attr_int("to", 0) != 1) return false;
    const int m = only_consumer(g_, g_.nodes[c].outputs[0]);
    if (m < 0 || g_.nodes[m].op != "Mul") return false;
    const Node& mul = g_.nodes[m];
    const std::string scale = mul.inputs[0] == g_.nodes[c].outputs[0] ? mul.inputs[1] : mul.inputs[0];
    const int s = g_.producer(scale);
    if (s < 0 || g_.nodes[s].op != "Mul") return false;
    const Node& sm = g_.nodes[s];
    const std::string w_scale = sm.inputs[0] == dql.outputs[1] ? sm.inputs[1] : sm.inputs[1] == dql.outputs[1] ? sm.inputs[0] : "";
    if (w_scale.empty() || !g_.is_constant(w_scale)) return false;
    const Constant& ws = *g_.constant(w_scale);
    const Constant& wq = *g_.constant(n.inputs[1]);
    int64_t axis = 1;
    if (ws.elements() != 1) {
      // Per output channel: MatMulInteger's B [K, N] with scales [N] (broadcast over Y's last
      // axis). ConvInteger's would need scales shaped [M, 1, 1], which ORT does not write.
      if (conv || wq.shape.size() != 2 || ws.shape.size() != 1 || ws.shape[0] != wq.shape[1])
        fail(n, "weight scales of shape [" + std::to_string(ws.elements()) + "] are not per-tensor nor per output column");
    }
    const std::string w = dequantized(n, n.inputs[1], w_scale, n.has_input(3) ? n.inputs[3] : "", axis, added);
    Node f = n;
    f.op = conv ? "Conv" : "MatMul";
    f.inputs = {dql.inputs[0], w};
    f.outputs = {mul.outputs[0]};
    f.origin = {n.name, g_.nodes[c].name, mul.name};
    // The replacement takes the Mul's place: the Mul's other operand chain is then dead.
    g_.nodes[m] = std::move(f);
    g_.nodes[c].op.clear();
    g_.nodes[i].op.clear();
    stats_.add(std::string(conv ? "ConvInteger" : "MatMulInteger") + " (ONNX Runtime dynamic quantization) -> float with dequantized weights");
    return true;
  }

  // DequantizeLinear(Gather(constant table, ids)) -> Gather(dequantized table, ids).
  bool dequantized_gather(size_t i, std::vector<Node>& added) {
    const Node n = g_.nodes[i];
    const int p = g_.producer(n.inputs[0]);
    if (p < 0 || g_.nodes[p].op != "Gather" || only_consumer(g_, n.inputs[0]) != static_cast<int>(i)) return false;
    Node& gather = g_.nodes[p];
    if (!g_.is_constant(gather.inputs[0]) || !g_.is_constant(n.inputs[1]) || (n.has_input(2) && !g_.is_constant(n.inputs[2])))
      return false;
    if (g_.constant(n.inputs[1])->elements() != 1) return false;   // per-axis scales would move with the gather axis
    gather.inputs[0] = dequantized(n, gather.inputs[0], n.inputs[1], n.has_input(2) ? n.inputs[2] : "", 1, added);
    gather.outputs[0] = n.outputs[0];
    g_.nodes[i].op.clear();
    stats_.add("DequantizeLinear of a gathered int8 table -> Gather of the dequantized table");
    return true;
  }
};

}  // namespace

void dequantize_integer_ops(Graph& g, PassStats& stats) { IntegerOpsToFloat(g, stats).run(); }

}  // namespace octet::converter
