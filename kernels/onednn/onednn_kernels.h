// The oneDNN kernels, one file per op family. `*_supports` answers for one node (with the reason
// when not); `make_*` creates the kernel once per session. The order in which they are tried,
// together with octet's own x86 and simd kernels, is the list in onednn_backend.cc.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace octet::onednn {

Support conv_supports(const KernelContext& ctx);   // Conv, float and static int8
std::unique_ptr<Kernel> make_conv(const KernelContext& ctx);

Support conv_transpose_supports(const KernelContext& ctx);   // ConvTranspose as deconvolution_forward
std::unique_ptr<Kernel> make_conv_transpose(const KernelContext& ctx);

Support fc_supports(const KernelContext& ctx);     // FullyConnected, float and static int8
std::unique_ptr<Kernel> make_fc(const KernelContext& ctx);

Support matmul_supports(const KernelContext& ctx); // MatMul, float and static int8
std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx);

Support pool_supports(const KernelContext& ctx);   // MaxPool, AveragePool, GlobalAveragePool
std::unique_ptr<Kernel> make_pool(const KernelContext& ctx);

Support binary_supports(const KernelContext& ctx); // Add, Sub, Mul (float, int8), Div (float)
std::unique_ptr<Kernel> make_binary(const KernelContext& ctx);

Support concat_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_concat(const KernelContext& ctx);

// Transpose, Slice and per-tensor QuantizeLinear/DequantizeLinear as oneDNN reorders (reorder_onednn.cc).
Support reorder_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_reorder(const KernelContext& ctx);

}  // namespace octet::onednn
