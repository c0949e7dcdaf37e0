// Identity and Dropout do nothing at inference, nor does a Cast to the type octet already computes
// its input in (FLOAT16/DOUBLE <-> FLOAT: fp16 models compute in f32, so their Casts at the graph's
// edges and around ops go). Their output is replaced by their input; where the output is a graph
// output the graph output is renamed instead, so names users see survive.
#include <algorithm>

#include "passes/passes.h"

namespace octet::converter {

void remove_identities(Graph& g, PassStats& stats) {
  std::vector<Node> kept;
  for (Node& n : g.nodes) {
    const bool same_type_cast = n.op == "Cast" && n.inputs.size() == 1 && cast_target_dtype(n.attr_int("to", 0)) == g.tensor(n.inputs[0]).dtype;
    // A Concat of one tensor is that tensor (densenet's first block exports four).
    const bool lone_concat = n.op == "Concat" && n.inputs.size() == 1 && !n.inputs[0].empty();
    const bool drop = n.op == "Identity" || n.op == "Dropout" || same_type_cast || lone_concat;
    if (!drop || n.inputs.empty() || n.outputs.empty()) {
      kept.push_back(std::move(n));
      continue;
    }
    const std::string in = n.inputs[0], out = n.outputs[0];
    if (n.op == "Dropout" && n.outputs.size() > 1 && !n.outputs[1].empty() && (g.is_graph_output(n.outputs[1]) || !g.consumers(n.outputs[1]).empty())) {
      // At inference the mask keeps everything: true in X's shape (Shape + ConstantOfShape).
      const std::string shape = g.unique_name(n.name + "_shape");
      IrTensor st;
      st.name = shape, st.dtype = DataType::i64;
      g.add_tensor(std::move(st));
      g.tensor(n.outputs[1]).dtype = DataType::boolean;
      Node sh, fill;
      sh.name = g.unique_name(n.name + "_Shape"), sh.op = "Shape", sh.inputs = {in}, sh.outputs = {shape};
      fill.name = g.unique_name(n.name + "_mask"), fill.op = "ConstantOfShape", fill.inputs = {shape}, fill.outputs = {n.outputs[1]};
      fill.attrs = {{"value", 1}, {"value_dtype", "bool"}};
      kept.push_back(std::move(sh));
      kept.push_back(std::move(fill));
      stats.add("Dropout mask -> all true");
    }
    if (n.op == "Dropout" && n.inputs.size() > 2 && !n.inputs[2].empty()) {   // training_mode
      const Constant* t = g.constant(n.inputs[2]);
      // A ratio of 0 drops nothing even in training (torchvision's swin_t exports F.dropout(p=0)
      // with training_mode true).
      const Constant* ratio = n.has_input(1) ? g.constant(n.inputs[1]) : nullptr;
      const bool keeps_all = ratio && ratio->elements() == 1 && ratio->floats()[0] == 0;
      if (!keeps_all && (!t || t->elements() != 1 || t->floats()[0] != 0))
        fail(n, "training_mode is (or may be) true: random dropout is training, octet runs inference only");
    }
    const bool in_is_io = g.is_graph_output(in) || g.is_constant(in) ||
                          std::find(g.inputs.begin(), g.inputs.end(), in) != g.inputs.end();
    if (g.is_graph_output(out) && in_is_io) {
      // Graph output is a copy of an input/constant/another output: keep a node (as Identity
      // is not an octet op, a Reshape to the same shape stands in for it, see lower_ops).
      n.op = "Identity", n.outputs.resize(1), n.inputs.resize(1), n.attrs = nlohmann::json::object();
      kept.push_back(std::move(n));
      continue;
    }
    if (g.is_graph_output(out)) {
      // Rename the producer's output to the graph output's name.
      for (Node& k : kept)
        for (auto& o : k.outputs)
          if (o == in) o = out;
      for (Node& k : kept)
        for (auto& i : k.inputs)
          if (i == in) i = out;
      for (auto& o : g.outputs) if (o == in) o = out;
      // Later nodes that read `in` now read `out`.
      g.replace_uses(in, out);
      IrTensor& t = g.tensor(out);
      const IrTensor& src = g.tensor(in);
      if (!t.shape_known) t.shape = src.shape, t.shape_known = src.shape_known;
    } else {
      g.replace_uses(out, in);
    }
    stats.add(same_type_cast ? "Cast to the type octet computes its input in removed" : lone_concat ? "Concat of one input removed" : n.op + " removed");
  }
  g.nodes = std::move(kept);
  g.remove_dead();
}

}  // namespace octet::converter
