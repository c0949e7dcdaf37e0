// export-qdq's translators: one function per op family (the family column of
// runtime/src/ops/op_table.def), each in the file named beside it, like the runtime's spec files.
// export_node (export_qdq.cc) picks the function by the node's family; inside it, a switch on the
// op translates the ops it knows and refuses any other by name (QdqGraph::refuse).
//
// Adding an op: a case in its family's function. Adding a family: its function here, its file,
// its case in export_node (a switch over OpFamily without default: -Wswitch names a missing one).
// A plain unary op whose ONNX form is Same needs nothing: it is written under its own name.
#pragma once

#include <string>

#include "qdq/qdq_graph.h"

namespace octet::qdq {

void export_compute(QdqGraph& g, const NodeDef& n);       // export_compute.cc: Conv, ConvTranspose, FullyConnected, MatMul
void export_pool(QdqGraph& g, const NodeDef& n);          // export_compute.cc: MaxPool, AveragePool, GlobalAveragePool
void export_binary(QdqGraph& g, const NodeDef& n);        // export_elementwise.cc: Binary and Compare families, Where
void export_unary(QdqGraph& g, const NodeDef& n);         // export_elementwise.cc
void export_data(QdqGraph& g, const NodeDef& n);          // export_data.cc: data movement, Cast
void export_reduce(QdqGraph& g, const NodeDef& n);        // export_reduce_norm.cc: ReduceMean, ReduceSum, ReduceMax
void export_norm(QdqGraph& g, const NodeDef& n);          // export_reduce_norm.cc: Softmax, LayerNormalization
void export_quantize(QdqGraph& g, const NodeDef& n);      // export_quantize.cc: QuantizeLinear, DequantizeLinear
void export_recurrent(QdqGraph& g, const NodeDef& n);     // export_recurrent.cc: LSTM, GRU, RNN

// Fused activation `a` applied to float x for output t_out (export_elementwise.cc). With an 8-bit
// output whose quantization clamps exactly what the activation would (Relu/Clip with the zero
// point at the bottom), the activation is left to QuantizeLinear, as ONNX Runtime's own
// quantizer does.
std::string export_activation(QdqGraph& g, const std::string& x, const Activation& a, int t_out);

}  // namespace octet::qdq
