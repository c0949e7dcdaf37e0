// Reference kernels: plain, portable C++ loops written to be read. They define what every op
// computes (the tests compare every other backend against them) and they run any node no other
// backend takes. Speed is not their job.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace octet::ref {

std::unique_ptr<Kernel> make_conv(const KernelContext& ctx);            // Conv, ConvTranspose
std::unique_ptr<Kernel> make_fully_connected(const KernelContext& ctx);
std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx);
std::unique_ptr<Kernel> make_pool(const KernelContext& ctx);            // MaxPool, AveragePool, GlobalAveragePool
std::unique_ptr<Kernel> make_binary(const KernelContext& ctx);          // Binary and Compare families
std::unique_ptr<Kernel> make_unary(const KernelContext& ctx);           // the Unary family (formulas: unary_value.h)
std::unique_ptr<Kernel> make_quantize(const KernelContext& ctx);        // QuantizeLinear, DequantizeLinear
std::unique_ptr<Kernel> make_data(const KernelContext& ctx);            // Concat ... Where, Tile, ConstantOfShape
std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx);          // ReduceMean ... ReduceLogSumExp
std::unique_ptr<Kernel> make_select_op(const KernelContext& ctx);       // NonZero, NonMaxSuppression: outputs sized by values (select_ref.cc)
std::unique_ptr<Kernel> make_index_op(const KernelContext& ctx);        // GatherElements ... OneHot, Hardmax (index_ref.cc)
std::unique_ptr<Kernel> make_arg_reduce(const KernelContext& ctx);      // ArgMax, ArgMin
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx);
std::unique_ptr<Kernel> make_layernorm(const KernelContext& ctx);
std::unique_ptr<Kernel> make_instance_norm(const KernelContext& ctx);
std::unique_ptr<Kernel> make_einsum(const KernelContext& ctx);
std::unique_ptr<Kernel> make_loss(const KernelContext& ctx);             // NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx);              // LSTM, GRU, RNN
std::unique_ptr<Kernel> make_shape_op(const KernelContext& ctx);         // Shape, Size, Range

}  // namespace octet::ref
