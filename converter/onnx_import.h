// Reading ONNX models (opsets 9-17) into the converter IR.
#pragma once

#include <string>

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

}  // namespace octet::converter
