// octet inspect: what a model file holds: inputs/outputs, nodes by precision and op, per-node
// quantization parameters, and (with --backend) where each node would run.
#include <cstdio>
#include <map>

#include "commands.h"
#include "octet/octet.h"

namespace octet::cli {

namespace {
std::string shape_text(const TensorInfo& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.shape.size(); ++i)
    s += (i ? "," : "") + (t.shape[i] < 0 ? t.dim_names[i] : std::to_string(t.shape[i]));
  return s + "]";
}

std::string quant_text(const QuantInfo& q) {
  if (q.empty()) return "";
  char buf[96];
  if (q.axis < 0) {
    std::snprintf(buf, sizeof buf, "scale %.6g zp %d", q.scale[0], q.zero_point[0]);
  } else {
    float lo = q.scale[0], hi = q.scale[0];
    for (float s : q.scale) lo = std::min(lo, s), hi = std::max(hi, s);
    std::snprintf(buf, sizeof buf, "per-channel(axis %d, %zu): scale %.3g..%.3g", q.axis, q.scale.size(), lo, hi);
  }
  return buf;
}
}  // namespace

Command add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Summarize a model: inputs, outputs, nodes by precision, quantization parameters");
  struct Opts {
    std::string model, backend;
    bool nodes = false, strict = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model graph file NAME.json")->required();
  cmd->add_flag("-n,--nodes", o->nodes, "list every node with its precision, activation and output quantization");
  cmd->add_option("--backend", o->backend,
                  "also show which implementation runs each node on this backend (auto, onednn, xnnpack, reference), and why "
                  "nodes left to the reference kernel are");
  cmd->add_flag("--strict", o->strict, "with --backend: fail, naming the node, if any node would run on the reference kernel");
  return [o]() {
    auto model = Model::load(o->model);
    std::printf("model     %s\nproducer  %s\nweights   %.2f MB\n", model->path().c_str(), model->producer().c_str(),
                model->weights_bytes() / 1048576.0);
    for (const auto& t : model->inputs())
      std::printf("input     %s %s %s %s\n", t.name.c_str(), dtype_name(t.dtype), shape_text(t).c_str(), quant_text(t.quant).c_str());
    for (const auto& t : model->outputs())
      std::printf("output    %s %s %s %s\n", t.name.c_str(), dtype_name(t.dtype), shape_text(t).c_str(), quant_text(t.quant).c_str());
    auto nodes = model->nodes();
    std::map<std::string, std::map<std::string, int>> by;
    int per_row = 0;
    for (const auto& n : nodes) by[n.precision][n.op]++, per_row += n.input_per_row;
    std::printf("nodes     %zu\n", nodes.size());
    for (const auto& [prec, ops] : by) {
      int total = 0;
      std::string list;
      for (const auto& [op, c] : ops) total += c, list += (list.empty() ? "" : ", ") + op + " " + std::to_string(c);
      std::printf("  %-13s %4d: %s\n", prec.c_str(), total, list.c_str());
      if (prec == "int8_dynamic")
        std::printf("                      input quantized at run time per %s\n",
                    per_row == 0 ? "tensor" : per_row == total ? "row (--dynamic-input per-row)" : "row in some nodes, per tensor in others");
    }
    std::vector<DispatchEntry> dispatch;
    if (!o->backend.empty()) {
      SessionOptions so;
      so.backend = o->backend;
      so.allow_fallback = !o->strict;
      Session s(model, so);
      dispatch = s.dispatch();
      // Which implementations run the nodes (backend.h: one ordered list per op), then the nodes
      // left to the reference kernel and why each implementation before it declined.
      std::map<std::string, int> per_impl;
      for (const auto& d : dispatch) per_impl[d.impl]++;
      std::printf("backend   %s\n", s.backend().c_str());
      for (const auto& [impl, c] : per_impl) std::printf("  %-44s %4d\n", impl.c_str(), c);
      for (const auto& d : dispatch)
        if (d.backend == "reference" && !d.note.empty())
          std::printf("  on the reference kernel: %s (%s): %s\n", d.node.c_str(), d.op.c_str(), d.note.c_str());
    }
    if (o->nodes) {
      for (size_t i = 0; i < nodes.size(); ++i) {
        const auto& n = nodes[i];
        std::string outs;
        for (const auto& t : n.outputs) {
          if (t.empty()) continue;
          TensorInfo ti = model->tensor(t);
          outs += (outs.empty() ? "" : "; ") + t + " " + dtype_name(ti.dtype) + shape_text(ti) + (ti.quant.empty() ? "" : " " + quant_text(ti.quant));
        }
        std::printf("%4zu %-12s %-18s %-13s%s%s%s -> %s%s\n", i, n.op.c_str(), n.name.c_str(), n.precision.c_str(),
                    n.input_per_row ? " (per-row input)" : "", n.activation.empty() ? "" : " +", n.activation.c_str(), outs.c_str(),
                    dispatch.empty() ? "" : ("  [" + dispatch[i].impl + (dispatch[i].detail.empty() ? "" : " " + dispatch[i].detail) + "]").c_str());
      }
    }
    return 0;
  };
}

}  // namespace octet::cli
