// octet model -> standard ONNX (opset 13) in QDQ form: the converted model with octet's own
// scales, zero points and int8 weights, so ONNX Runtime (or any runtime that understands
// QuantizeLinear/DequantizeLinear) runs the identical calibrated model. Used by
// `octet export-qdq` and benchmarks/compare.sh. It reads octet's own format (the runtime's
// model), not ONNX, so it lives beside the converter rather than in it (library octet_qdq).
//
// Mapping (details in the per-family translators, qdq/op_exporters.h):
// - layout: octet's NHWC graph is emitted in NCHW (conv weights OHWI -> OIHW); octet's own
//   layout transposes disappear where they only undo each other.
// - int8_static nodes: DequantizeLinear on every 8-bit input (per-channel s8 weights with
//   axis, s32 biases with scale s_x * s_w[c]), the float op, its fused activation, and
//   QuantizeLinear to the output's scale/zero point: the pattern ONNX Runtime fuses into
//   QLinearConv / QGemm / QLinearAdd / ... A fused residual (Conv + R) becomes Conv -> Q -> DQ
//   -> Add, with the intermediate range derived from octet's output and residual ranges (wide
//   enough to never clip).
// - int8_dynamic FullyConnected/MatMul: DynamicQuantizeLinear + MatMulInteger (+ scale Mul,
//   bias Add); LSTM: ONNX Runtime's contrib com.microsoft.DynamicQuantizeLSTM with octet's
//   per-gate-row s8 weights; GRU and RNN (no int8 form in ONNX Runtime): float weights
//   dequantized from octet's int8 codes.
// - ops without a translation are refused with an error naming the node.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace octet::qdq {

struct QdqExportReport {
  int nodes_qdq = 0;        // octet int8_static nodes emitted as QDQ groups
  int nodes_dynamic = 0;    // int8_dynamic nodes in ONNX Runtime's dynamic form
  int nodes_float = 0;      // float nodes (and data movement)
  int onnx_nodes = 0;
  bool uses_contrib = false;              // com.microsoft ops (DynamicQuantizeLSTM)
  std::vector<std::string> notes;         // approximations worth telling the user
};

// Reads MODEL.json (+ .bin), writes `onnx_path`. Throws octet::Error (naming the node for
// untranslatable ones); writes nothing on failure. The result passes onnx::checker.
QdqExportReport export_qdq(const std::string& model_json, const std::string& onnx_path);

// onnx::checker::check_model on a file; throws octet::Error with the checker's message.
void check_onnx_file(const std::string& onnx_path);

}  // namespace octet::qdq
