// Typed attributes of the ops whose kernels need more than one or two numbers. Parsed from the
// node's JSON attributes in one place, used by validation, shape inference and every backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_data.h"

namespace octet {

// int8_dynamic FullyConnected, LSTM, GRU, RNN: attribute `input_quant`, "per_tensor" (default)
// or "per_row": X quantized with one scale and zero point for the whole tensor, or one per row
// (per token; for recurrent nodes per time step and batch element; their hidden state is
// quantized per tensor each step either way).
bool dynamic_input_per_row(const NodeDef& node);

// Conv / ConvTranspose. Spatial layout NHWC; pads are [top, left, bottom, right] (ONNX order).
struct ConvParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t group = 1;
  int64_t out_pad_h = 0, out_pad_w = 0;   // ConvTranspose only
};
ConvParams parse_conv(const NodeDef& node);
// Output extent of a convolution along one axis (may be <= 0 for invalid geometry).
int64_t conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_begin, int64_t pad_end, int64_t dil);
int64_t deconv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_begin, int64_t pad_end, int64_t dil,
                       int64_t out_pad);

// MaxPool / AveragePool.
struct PoolParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int64_t dil_h = 1, dil_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = false;
};
PoolParams parse_pool(const NodeDef& node);
int64_t pool_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_begin, int64_t pad_end, int64_t dil, bool ceil_mode);

struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};
SliceParams parse_slice(const NodeDef& node);
// Resolves ONNX slice semantics for one input shape: per-dimension start/step/count.
struct SliceDims {
  std::vector<int64_t> start, step, count;
};
SliceDims resolve_slice(const SliceParams& p, const Shape& in, const NodeDef& node);

// MatMul with numpy batch broadcasting: the matrix index into an operand of shape `s` that Y's
// batch `bi` (row-major over Y's leading dims) reads; dims of size 1 in `s` broadcast.
int64_t matmul_batch_offset(const Shape& y, const Shape& s, int64_t bi);

// Shape's [start, end) (opset 15) for an input of rank `rank`, clamped as ONNX says.
std::pair<int64_t, int64_t> shape_range(const NodeDef& node, int64_t rank);

struct ResizeParams {
  std::string mode = "nearest";                     // nearest | linear | cubic
  std::string coord = "half_pixel";                 // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";
  std::vector<float> scales;                        // one per dim, or empty when sizes given
  std::vector<int64_t> sizes;                       // one per dim, or empty
  float cubic_a = -0.75f;                           // cubic_coeff_a
  bool exclude_outside = false;                     // cubic: taps outside the input get weight 0
  bool antialias = false;                           // linear/cubic: filter widened by 1/scale when shrinking (opset 18)
};
ResizeParams parse_resize(const NodeDef& node);

}  // namespace octet
