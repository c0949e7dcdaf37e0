// octet export-qdq: a converted octet model back to standard ONNX (opset 13) in QDQ form, with
// octet's own scales, zero points and int8 weights, so ONNX Runtime runs the same calibrated model.
#include <cstdio>

#include "commands.h"
#include "qdq/export_qdq.h"

namespace octet::cli {

Command add_export_qdq(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export-qdq",
      "Write a converted model as standard ONNX (opset 13) with QuantizeLinear/DequantizeLinear pairs carrying octet's scales, "
      "zero points and int8 weights (dynamic nodes in ONNX Runtime's dynamic form), e.g. to run it in ONNX Runtime");
  auto model = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("model", *model, "model graph file NAME.json")->required();
  cmd->add_option("-o,--output", *output, "output ONNX file (e.g. NAME.qdq.onnx)")->required();
  cmd->add_flag("-q,--quiet", *quiet, "no summary");
  return [=]() {
    auto rep = qdq::export_qdq(*model, *output);
    if (!*quiet) {
      std::printf("%s: %d int8 nodes as QDQ, %d dynamic, %d float -> %d ONNX nodes (opset 13%s)\n", output->c_str(), rep.nodes_qdq,
                  rep.nodes_dynamic, rep.nodes_float, rep.onnx_nodes, rep.uses_contrib ? " + com.microsoft" : "");
      for (const auto& n : rep.notes) std::printf("note: %s\n", n.c_str());
    }
    return 0;
  };
}

}  // namespace octet::cli
