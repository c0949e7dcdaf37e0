// Graph rewrites, one per file, run in order by run_passes (run_passes.cc). Each keeps the graph
// valid and in topological order and throws octet::Error naming the node it cannot handle.
#pragma once

#include <string>
#include <vector>

#include "ir.h"

namespace octet::converter {

struct PassStats {
  std::vector<std::pair<std::string, int>> counts;   // e.g. {"Conv+BatchNormalization folded", 53}
  void add(const std::string& what, int n = 1);
};

// Every pass below, in the converter's order: the imported ONNX graph -> octet's fused float graph.
void run_passes(Graph& g, PassStats& stats);

// ONNX Runtime's dynamic quantization (DynamicQuantizeLinear + ConvInteger/MatMulInteger, and
// dequantized int8 embedding tables) back to float ops on dequantized weights.
void dequantize_integer_ops(Graph& g, PassStats& stats);
// Evaluates nodes whose inputs are all constant, and shape arithmetic (Shape -> Gather ->
// Concat -> Reshape) where the run-time dimensions can be expressed with Reshape's 0 and -1.
void fold_constants(Graph& g, PassStats& stats);
// Fills tensor shapes ONNX's shape inference could not (ONNX semantics, common ops).
void infer_shapes(Graph& g);
// Removes Identity and Dropout (inference), and nodes whose outputs are unused.
void remove_identities(Graph& g, PassStats& stats);
// BatchNormalization folded into a preceding Conv/ConvTranspose/Gemm/MatMul, or rewritten into
// Mul + Add where there is nothing to fold into.
void fold_batchnorm(Graph& g, PassStats& stats);
// ONNX ops -> octet ops: constant operands become attributes, Gemm/MatMul with constant weights
// become FullyConnected, old-opset attribute forms are normalized. Refuses ops octet cannot run.
void lower_ops(Graph& g, PassStats& stats);
// NCHW -> NHWC for Conv/ConvTranspose/pooling, with transposes pushed through layout-agnostic
// ops and cancelled, so the graph keeps transposes only where a layout really changes.
void to_channels_last(Graph& g, PassStats& stats);
// The ONNX ops to_channels_last rewrites into NHWC: the octet ops of layout Spatial in the op
// table (NHWC by definition) and GlobalMaxPool (ReduceMax over H, W).
bool is_spatial_op(const std::string& op);
// Bias Add into FullyConnected; activations into Conv/ConvTranspose/FullyConnected/MatMul/Add;
// residual Add (+ activation) into the Conv producing one of its operands.
void fuse_operators(Graph& g, PassStats& stats);
// Decomposed LayerNorm and GELU (torch opset 13-14 exports) -> LayerNormalization, Gelu
// (fuse_transformer.cc); run by fuse_operators before activations are fused.
void fuse_transformer(Graph& g, PassStats& stats);

}  // namespace octet::converter
