// octet's own x86 kernels (AVX2, and AVX-512 VNNI where the CPU has it) for what oneDNN 2.6 runs
// slowly or not at all: dynamic int8 (run-time activation scales), small-M static int8
// FullyConnected, recurrent ops, LayerNormalization and Softmax. They compute the reference's
// integers exactly (x86/gemm_u8s8.h) and, for int8, the reference's float steps; the float
// kernels (LayerNormalization, Softmax, the recurrent gates) use vectorized approximations
// within a few ulp (x86/math_avx2.h).
//
// `*_supports` checks the node; the ISA (GemmIsa) is chosen by the backend's list
// (onednn_backend.cc), which has one entry per ISA: <...>__x86_vnni, then <...>__x86.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "x86/gemm_u8s8.h"

namespace octet::x86 {

// FullyConnected, int8_static with an 8-bit output, up to kSmallRows rows (more are declined:
// oneDNN's matmul is faster there).
Support fc_small_m_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_fc_small_m(const KernelContext& ctx, GemmIsa isa);

// FullyConnected, int8_dynamic, constant weights.
Support fc_dynamic_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_fc_dynamic(const KernelContext& ctx, GemmIsa isa);

// MatMul of two activations, int8_dynamic (attention's Q x K^T and scores x V).
Support matmul_dynamic_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_matmul_dynamic(const KernelContext& ctx, GemmIsa isa);

// LSTM, GRU, RNN: float (products on oneDNN's matmul) and int8_dynamic.
Support rnn_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx, GemmIsa isa);

// LayerNormalization and Softmax over the last axis, float.
Support norm_supports(const KernelContext& ctx);
std::unique_ptr<Kernel> make_layernorm(const KernelContext& ctx);
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx);

}  // namespace octet::x86
