// The static int8 epilogue of octet's simd products (Conv, ConvTranspose, FullyConnected): from
// an output pixel's exact int32 sums to its codes, with the reference's arithmetic
// (quant/requant.h): vectorized (requantize.h) for the clamps None/Relu/Clip when acc + bias
// fits in int32, the reference's scalar expression otherwise and for the vector tail.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "quant/requant.h"

namespace octet::simd {

class Int8Epilogue {
 public:
  Int8Epilogue() = default;
  // For the node of ctx (input 0 X, 1 W, 2 bias?, output 0 Y): per-channel multipliers, bias.
  // `taps`: how many products the largest sum adds (bounds |acc| for the vector path).
  Int8Epilogue(const KernelContext& ctx, int64_t out_channels, int64_t taps);

  // Requantizes `count` consecutive output pixels: their sums acc [count, out_channels] (bias not
  // yet added) into y's elements [i, i + count * out_channels); r: the fused residual (Conv only,
  // same layout as y) or nullptr.
  void pixels(const int32_t* acc, const Tensor& y, int64_t i, int64_t count, const Tensor* r) const;

 private:
  const Activation* act_ = nullptr;
  int64_t O_ = 0;
  std::vector<int32_t> bias_;
  std::vector<float> mult_;   // per channel: quant/requant.h's m[c] (or s_x s_w[c])
  // bias_ and mult_ repeated for tile_ pixels: one vectorized call covers that many pixels, so
  // layers with few channels do not pay a call and a scalar tail per pixel.
  std::vector<int32_t> bias_tiled_;
  std::vector<float> mult_tiled_;
  int64_t tile_ = 1;
  q::Requant rq_;
  bool vector_ = false;
};

}  // namespace octet::simd
