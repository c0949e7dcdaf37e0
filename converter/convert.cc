#include "convert.h"

#include <fstream>
#include <iomanip>
#include <map>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "export.h"
#include "io/file.h"
#include "octet/version.h"
#include "onnx_import.h"
#include "passes/passes.h"
#include "quantize/quantize.h"

namespace octet::converter {

namespace {
std::string hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::shared_ptr<const Model> load_in_memory(const ModelWriter& w, const std::string& label) {
  std::string json;
  std::vector<uint8_t> bin;
  w.serialize("model.bin", &json, &bin);
  return Model::from_memory(json, std::move(bin), label);
}

std::string human(size_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(bytes >= 1 << 20 ? 2 : 1);
  if (bytes >= 1 << 20) s << bytes / 1048576.0 << " MB";
  else s << bytes / 1024.0 << " KB";
  return s.str();
}
}  // namespace

ConvertReport convert(const ConvertOptions& o, std::ostream& log) {
  if (o.precision != "int8" && o.precision != "float")
    throw Error("--precision must be int8 or float (got '" + o.precision + "')");
  if (o.output.empty()) throw Error("no output file given (-o NAME.json)");
  if (o.dynamic != "auto" && o.dynamic != "all" && o.dynamic != "none")
    throw Error("--dynamic must be auto, all or none (got '" + o.dynamic + "')");
  if (o.attention_matmul != "float" && o.attention_matmul != "int8")
    throw Error("--attention-matmul must be float or int8 (got '" + o.attention_matmul + "')");
  if (o.dynamic_input != "per-tensor" && o.dynamic_input != "per-row")
    throw Error("--dynamic-input must be per-tensor or per-row (got '" + o.dynamic_input + "')");
  if (o.weight_bits != 7 && o.weight_bits != 8) throw Error("--weight-bits must be 7 or 8 (got " + std::to_string(o.weight_bits) + ")");
  if (o.precision == "int8" && o.calib_dir.empty())
    throw Error("int8 conversion needs calibration data: --calib DIR (or --precision float)");

  ImportInfo info;
  Graph g = import_onnx(o.input, &info);
  PassStats stats;
  run_passes(g, stats);

  std::vector<uint8_t> onnx_bytes = io::read_file(o.input);
  ExportMeta meta;
  meta.producer = std::string("octet-convert ") + OCTET_VERSION_STRING;
  meta.source = {{"file", g.source_file}, {"opset", info.opset}, {"producer", info.producer},
                 {"xxh3_64", hex64(XXH3_64bits(onnx_bytes.data(), onnx_bytes.size()))}};
  nlohmann::json conversion = {{"precision", o.precision}};

  ConvertReport report;
  report.onnx_bytes = onnx_bytes.size();
  if (o.precision == "int8") {
    ModelWriter float_writer = build_writer(g, meta);
    auto float_model = load_in_memory(float_writer, g.source_file);
    CalibrationData data(o.calib_dir, *float_model, o.image, o.calib_samples);
    CalibrationOptions co = o.calib;
    co.full_range.insert(g.outputs.begin(), g.outputs.end());
    CalibrationResult cal = calibrate(float_model, data, co);
    report.calib_seconds = cal.seconds;
    QuantizeOptions qo{o.float_ops, o.float_nodes, o.weight_bits, o.dynamic_input == "per-row"};
    // Dynamic FullyConnected nodes are kept out of the static plan (float there), then converted.
    std::string why;
    const std::set<std::string> dyn_fc = plan_dynamic_fc(g, o.dynamic, &why);
    QuantizeOptions qs = qo;
    qs.float_nodes.insert(dyn_fc.begin(), dyn_fc.end());
    quantize_static(g, cal.ranges, qs, stats);
    // Recurrent nodes are dynamic under --dynamic auto (the default) and all.
    if (o.dynamic != "none") quantize_dynamic_recurrent(g, qo, stats);
    quantize_dynamic_fc(g, dyn_fc, qo, stats);
    if (o.attention_matmul == "int8") quantize_attention_matmul(g, qo, stats);
    conversion["dynamic"] = o.dynamic;
    conversion["attention_matmul"] = o.attention_matmul;
    if (!dyn_fc.empty()) conversion["dynamic_fully_connected"] = why;
    conversion["dynamic_input"] = o.dynamic_input;
    conversion["weight_bits"] = o.weight_bits;
    conversion["calibration"] = {{"method", calib_method_name(o.calib.method)}, {"samples", cal.samples}};
    if (o.calib.method == CalibMethod::Percentile) conversion["calibration"]["percentile"] = o.calib.percentile;
  }
  if (!g.notes.empty()) conversion["notes"] = g.notes;
  meta.conversion = conversion;
  ModelWriter w = build_writer(g, meta);
  std::string bin_path = w.save(o.output);

  for (const Node& n : g.nodes) (n.precision == "float" ? report.nodes_float : report.nodes_int8)++;
  std::ifstream jf(o.output, std::ios::binary | std::ios::ate), bf(bin_path, std::ios::binary | std::ios::ate);
  report.json_bytes = static_cast<size_t>(jf.tellg());
  report.bin_bytes = static_cast<size_t>(bf.tellg());

  if (!o.quiet) {
    std::map<std::string, std::map<std::string, int>> by_op;
    for (const Node& n : g.nodes) by_op[n.precision][n.op]++;
    log << "converted " << o.input << " (opset " << info.opset << ") -> " << o.output << " + " << bin_path << "\n";
    for (const auto& [prec, ops] : by_op) {
      int total = 0;
      std::string list;
      for (const auto& [op, c] : ops) total += c, list += (list.empty() ? "" : ", ") + op + " " + std::to_string(c);
      log << "  " << std::setw(12) << std::left << prec << std::right << std::setw(4) << total << " nodes: " << list << "\n";
    }
    for (const std::string& note : g.notes) log << "  note: " << note << "\n";
    if (!stats.counts.empty()) {
      log << "  rewrites:";
      for (const auto& [what, c] : stats.counts) log << "\n    " << what << ": " << c;
      log << "\n";
    }
    if (o.precision == "int8")
      log << "  calibration: " << calib_method_name(o.calib.method) << " on " << conversion["calibration"]["samples"].get<size_t>()
          << " samples in " << std::fixed << std::setprecision(1) << report.calib_seconds << " s\n"
          << "  weights: s8 in [-" << weight_max(o.weight_bits) << ", " << weight_max(o.weight_bits) << "] ("
          << (o.weight_bits == 7 ? "7-bit: oneDNN's AVX2 kernels compute them exactly" : "8-bit: x86 without VNNI runs non-depthwise int8 convolutions on octet's exact simd kernel")
          << ")\n";
    const size_t total = report.json_bytes + report.bin_bytes;
    log << "  size: ONNX " << human(report.onnx_bytes) << " -> octet " << human(total) << " (json " << human(report.json_bytes)
        << " + bin " << human(report.bin_bytes) << "), " << std::setprecision(3)
        << static_cast<double>(total) / static_cast<double>(std::max<size_t>(report.onnx_bytes, 1)) << "x\n";
  }
  return report;
}

}  // namespace octet::converter
