// octet's portable int8 kernels (Highway GEMM, gemm_i16s8.h) for nodes a backend's library
// cannot run exactly: XNNPACK 2022-02 fixes every scale when an operator is created, so it has
// no dynamic int8, and it requantizes a convolution before adding a residual (two roundings
// where octet rounds once); oneDNN's AVX2 (non-VNNI) int8 kernels saturate with full-range
// weights. These kernels compute exactly the reference's arithmetic (same integer sums, the
// same float operations in the same order), so their outputs equal the reference kernels' bit
// for bit on every CPU.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace octet::simd {

// Every kernel runs its parallel loops on its backend's threads (KernelContext::parallel_for():
// the XNNPACK backend's pthreadpool, OpenMP on the oneDNN backend).

// FullyConnected, int8_dynamic, constant weights.
Support fc_dynamic_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_fc_dynamic(const KernelContext& ctx);

// Conv, int8_static, one group (any kernel size, stride, padding, dilation), with or without a
// fused residual; and int8_static FullyConnected (the same kernel, as a 1x1 convolution).
Support conv_int8_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_conv_int8(const KernelContext& ctx);

// ConvTranspose, int8_static: any groups, strides, pads, output padding, dilation
// (conv_transpose_int8_simd.cc).
Support conv_transpose_int8_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_conv_transpose_int8(const KernelContext& ctx);

// QuantizeLinear f32 -> u8/s8, per tensor (quantize_simd.cc).
Support quantize_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_quantize(const KernelContext& ctx);

// GlobalAveragePool, int8 (global_pool_simd.cc): exact integer sums, the reference's rounding.
Support global_avg_pool_q8_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_global_avg_pool_q8(const KernelContext& ctx);

// LSTM, GRU, RNN, int8_dynamic: the reference kernel with exact GEMM products (rnn_simd.cc).
Support rnn_dynamic_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_rnn_dynamic(const KernelContext& ctx);

}  // namespace octet::simd
