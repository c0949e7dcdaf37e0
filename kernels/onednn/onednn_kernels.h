// The oneDNN kernels, one file each. `*_supports` answers for one node (with the reason when
// not); `make_*` creates the kernel once per session.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace octet::onednn {

Support conv_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_conv(const KernelContext& ctx);

Support fc_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_fc(const KernelContext& ctx);

Support matmul_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx);
// int8_dynamic MatMul of two activations (matmul_dynamic.cc, octet's own AVX2 kernel).
Support matmul_dynamic_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_matmul_dynamic(const KernelContext& ctx);

Support pool_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_pool(const KernelContext& ctx);

Support binary_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_binary(const KernelContext& ctx);

// LSTM, GRU, RNN (float and int8_dynamic; rnn_onednn.cc).
Support rnn_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx);

Support concat_supports(const KernelContext& ctx);
// LayerNormalization and Softmax over the last axis (float; norm_onednn.cc, own AVX2 loops).
Support norm_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_norm(const KernelContext& ctx);
std::unique_ptr<Kernel> make_concat(const KernelContext& ctx);
// Transpose, Slice and per-tensor QuantizeLinear/DequantizeLinear as oneDNN reorders (reorder_onednn.cc).
Support reorder_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_reorder(const KernelContext& ctx);

}  // namespace octet::onednn
