// Opsets 18-21 of the default domain, read by octet itself: Debian's onnx 1.12 (its checker, shape
// inference and version converter) knows opsets up to 17 only.
#pragma once

#include <string>

#include "ir.h"

namespace onnx {
class ModelProto;
class TensorProto;
}  // namespace onnx

namespace octet::converter {

// The newest default-domain opset octet reads.
constexpr int kNewestOpset = 21;

// Rewrites the opset 18-21 forms of a model's nodes into their opset-17 equivalents, in place,
// before ONNX's checker and shape inference see the model:
//   Reduce* (but ReduceSum) with axes as an input -> the axes attribute (constant axes);
//   Pad with axes -> pads for every axis; Split with num_outputs -> split sizes (uneven last);
//   Resize axes -> scales/sizes for every axis, keep_aspect_ratio_policy -> sizes (constant
//   sizes, known input size); GroupNormalization (18 and 21 semantics), Mish, Gelu (20) -> their
//   ONNX function bodies; Cast/Quantize saturate (float8 only) dropped.
// Attributes opset 17 does not have but octet's kernels implement (Resize antialias; it does not
// change the output's shape, so ONNX's shape inference stays right) are renamed "__octet_<name>", which ONNX's checker lets pass, and the importer names
// them back. A form octet cannot express (run-time axes, int4 blocks, an op newer than 17 with no
// rewrite) throws octet::Error naming the node.
void rewrite_new_opset_forms(onnx::ModelProto& model, int opset, const std::string& path);

// onnx_import.cc: an initializer or Constant value as a Constant (external data read from model_dir).
Constant onnx_tensor_constant(const onnx::TensorProto& t, const std::string& model_dir, const std::string& file);

}  // namespace octet::converter
