// Reading ONNX models (opsets 1-21; older than 9 upgraded by ONNX's version converter, 18-21 forms rewritten by
// onnx_new_opsets.h) into the converter IR.
#pragma once

#include <string>
#include <vector>

#include "ir.h"

namespace octet::converter {

struct ImportInfo {
  int opset = 0;
  std::string producer;   // e.g. "pytorch 1.13.1"
  size_t bytes = 0;       // size of the .onnx file
};

// Throws octet::Error naming the file (and node) for unreadable files, protobuf parse errors,
// checker failures, unsupported opsets, data types or control flow.
Graph import_onnx(const std::string& path, ImportInfo* info = nullptr);

// A serialized ONNX TensorProto file (ONNX's test data: test_data_set_N/input_K.pb), with the
// element type it was stored in (ONNX's TensorProto.DataType number; the values are converted as
// for initializers: f64 and f16 to f32, ...). Throws octet::Error naming the file.
Constant read_tensor_file(const std::string& path, int* onnx_type = nullptr);

// The octet dtype that holds values of ONNX element type `onnx_type` unchanged (FLOAT, UINT8,
// INT8, INT32, INT64, BOOL); false for the types the importer converts (DOUBLE, FLOAT16, ...).
bool octet_dtype_holding(int onnx_type, DataType* out);
// ONNX's name of an element type ("FLOAT", "DOUBLE", ...).
std::string onnx_type_name(int onnx_type);

// The graph inputs a caller feeds (initializers excluded) and the graph outputs of an ONNX file,
// in graph order: the order of ONNX's test data files input_K.pb and output_K.pb.
struct OnnxSignature {
  std::vector<std::string> inputs, outputs;
};
OnnxSignature read_onnx_signature(const std::string& path);

}  // namespace octet::converter
