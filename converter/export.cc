// IR -> octet format. Intermediate shapes are not tracked by the passes; they are computed here
// with the runtime's own shape inference, run twice with different values for the symbolic
// dimensions: a dimension that changes with them is written as that symbol (or "?" when it is
// derived from several), one that does not is fixed.
#include "export.h"

#include <map>

#include "ops/shape_inference.h"

namespace octet::converter {

namespace {
// Stable order: graph inputs, then per node its constant inputs at first use and its outputs.
std::vector<std::string> tensor_order(const Graph& g) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  auto add = [&](const std::string& t) {
    if (!t.empty() && seen.insert(t).second) order.push_back(t);
  };
  for (const auto& i : g.inputs) add(i);
  for (const Node& n : g.nodes) {
    for (const auto& i : n.inputs) add(i);
    for (const auto& o : n.outputs) add(o);
  }
  for (const auto& o : g.outputs) add(o);
  return order;
}

std::vector<ModelWriter::Dim> input_dims(const IrTensor& t) {
  std::vector<ModelWriter::Dim> d;
  for (size_t k = 0; k < t.shape.size(); ++k) {
    const Dim& dim = t.shape[k];
    if (dim.is_fixed()) d.push_back(dim.value);
    else d.push_back(dim.symbol.empty() || dim.symbol == "?" ? t.name + "_dim" + std::to_string(k) : dim.symbol);
  }
  return d;
}

ModelWriter make_writer(const Graph& g, const ExportMeta& meta) {
  ModelWriter w;
  w.set_producer(meta.producer);
  w.set_source(meta.source);
  w.set_conversion(meta.conversion);
  std::set<std::string> inputs(g.inputs.begin(), g.inputs.end());
  for (const auto& name : tensor_order(g)) {
    const IrTensor& t = g.tensor(name);
    ModelWriter::TensorSpec s;
    s.name = name;
    s.dtype = t.dtype;
    s.quant = t.quant;
    if (t.value) {
      for (int64_t d : t.value->shape) s.shape.push_back(d);
      s.data = t.value->bytes;
      s.has_data = true;
      s.dtype = t.value->dtype;
    } else if (inputs.count(name)) {
      if (!t.shape_known) throw Error("graph input '" + name + "' has no known shape");
      s.shape = input_dims(t);
    } else {
      s.shape_known = false;
    }
    w.add_tensor(std::move(s));
  }
  for (const Node& n : g.nodes) {
    ModelWriter::NodeSpec s{n.name, n.op, n.inputs, n.outputs, n.attrs, n.activation, n.precision};
    w.add_node(std::move(s));
  }
  w.set_inputs(g.inputs);
  w.set_outputs(g.outputs);
  return w;
}

// Input shapes with each symbol bound to a value from `values` (by sorted symbol order).
std::vector<Shape> bind(const detail::ModelData& m, const std::vector<int64_t>& values,
                        std::map<std::string, int64_t>* binding) {
  std::set<std::string> symbols;
  for (int i : m.inputs)
    for (size_t k = 0; k < m.tensor(i).shape.size(); ++k)
      if (m.tensor(i).shape[k] < 0) symbols.insert(m.tensor(i).dim_names[k]);
  size_t j = 0;
  for (const auto& s : symbols) {
    (*binding)[s] = values[j % values.size()] + static_cast<int64_t>(j / values.size()) * 101;
    ++j;
  }
  std::vector<Shape> shapes;
  for (int i : m.inputs) {
    Shape s = m.tensor(i).shape;
    for (size_t k = 0; k < s.size(); ++k)
      if (s[k] < 0) s[k] = (*binding)[m.tensor(i).dim_names[k]];
    shapes.push_back(s);
  }
  return shapes;
}
}  // namespace

ModelWriter build_writer(const Graph& g, const ExportMeta& meta) {
  ModelWriter w = make_writer(g, meta);
  std::string json;
  std::vector<uint8_t> bin;
  w.serialize("model.bin", &json, &bin);
  auto model = Model::from_memory(json, std::move(bin), g.source_file.empty() ? "converted model" : g.source_file);
  const detail::ModelData& m = model->data();

  std::map<std::string, int64_t> ba, bb;
  std::vector<Shape> sa, sb;
  std::vector<bool> known;   // false: computed at run time from operands, left undeclared
  try {
    sa = detail::infer_shapes(m, bind(m, {7, 11, 13, 17, 19}, &ba), &known);
    sb = detail::infer_shapes(m, bind(m, {23, 29, 31, 37, 41}, &bb));
  } catch (const Error&) {
    // Shapes that only work for particular sizes (e.g. a reshape by a fixed factor): fall back
    // to batch-like bindings.
    ba.clear(), bb.clear();
    sa = detail::infer_shapes(m, bind(m, {1}, &ba), &known);
    sb = detail::infer_shapes(m, bind(m, {2}, &bb));
  }
  std::map<int64_t, std::string> sym_of_a;
  for (const auto& [s, v] : ba) sym_of_a[v] = s;
  for (auto& spec : w.tensors()) {
    if (spec.shape_known) continue;
    int idx = m.find_tensor(spec.name);
    if (!known[idx]) continue;
    const Shape &a = sa[idx], &b = sb[idx];
    if (a.size() != b.size()) continue;
    spec.shape.clear();
    for (size_t k = 0; k < a.size(); ++k) {
      if (a[k] == b[k]) spec.shape.push_back(a[k]);
      else if (sym_of_a.count(a[k]) && bb[sym_of_a[a[k]]] == b[k]) spec.shape.push_back(sym_of_a[a[k]]);
      else spec.shape.push_back("?");
    }
    spec.shape_known = true;
  }
  return w;
}

}  // namespace octet::converter
