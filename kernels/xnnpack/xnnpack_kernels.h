// The XNNPACK kernels, one file per op family. `*_supports` answers for one node (with the
// reason when not); `make_*` creates the kernel (operators created, weights packed) once per
// session. The order in which they are tried, together with octet's simd kernels, is the list
// in xnnpack_backend.cc.
#pragma once

#include <memory>

#include "xnnpack/xnnpack_common.h"

namespace octet::xnn {

Support conv_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_conv(const KernelContext& ctx);

Support conv_transpose_supports(const KernelContext& ctx);   // float; int8 refused (why: conv_transpose_xnnpack.cc)
std::unique_ptr<Kernel> make_conv_transpose(const KernelContext& ctx);

Support fc_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_fc(const KernelContext& ctx);

Support pool_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_pooling(const KernelContext& ctx);

Support binary_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_binary(const KernelContext& ctx);

Support unary_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_unary(const KernelContext& ctx);

Support concat_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_concat(const KernelContext& ctx);

// The per-channel int8 convolution shared by Conv and FullyConnected (a 1x1 convolution over
// [rows, 1, 1, K]): everything about one qc8 operator and the u8 <-> s8 flips around it.
struct Qc8Geometry {
  uint32_t pad_t = 0, pad_r = 0, pad_b = 0, pad_l = 0;
  uint32_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  uint32_t groups = 1;
  size_t cg = 0, og = 0;   // input / output channels per group
};
// Checks the int8 arithmetic XNNPACK can express for this node: weight scales (per tensor or
// per output channel), requantization scales, the clamp.
Support qc8_supports(const KernelContext& ctx, int64_t out_channels);

class Qc8Conv {
 public:
  Qc8Conv(const KernelContext& ctx, const Qc8Geometry& g);
  // Runs on input x (NHWC codes of batch n, h x w) into y.
  void run(const Tensor& x, Tensor& y, size_t n, size_t h, size_t w, pthreadpool_t pool);
  std::string detail() const;

 private:
  const NodeDef& node_;
  Op op_;
  bool flip_x_ = false, flip_y_ = false, depthwise_ = false;
  Scratch x_s8_;
};

}  // namespace octet::xnn
