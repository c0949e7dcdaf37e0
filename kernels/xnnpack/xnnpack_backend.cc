// The XNNPACK backend (default on aarch64): for each op, the implementations it tries, best first
// (the reference one follows, appended by Backend): XNNPACK's operators, and octet's portable
// exact kernels (kernels/simd) for what XNNPACK 2022-02 has no operator for (dynamic int8: its
// scales are fixed at create time), or computes differently from the format (int8 residual
// convolutions, int8 averages).
//
// One backend object per session, owning the session's pthreadpool (created for the session's
// thread count), which every kernel of the session shares, simd kernels included.
#include "ops/op_spec.h"
#include "simd/simd_kernels.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet {

namespace {
using namespace op_table;   // precision sets: F float, S int8_static, D int8_dynamic

const std::vector<Impl>& xnnpack_list() {
  static const std::vector<Impl> list = {
      {OpKind::Conv, FS, "", "xnnpack", xnn::conv_supports, xnn::make_conv},
      {OpKind::Conv, S, "", "simd", simd::conv_int8_supports, simd::make_conv_int8},
      // Static int8: XNNPACK 2022-02 has no per-channel int8 deconvolution (conv_transpose_xnnpack.cc).
      {OpKind::ConvTranspose, FS, "", "xnnpack", xnn::conv_transpose_supports, xnn::make_conv_transpose},
      {OpKind::ConvTranspose, S, "", "simd", simd::conv_transpose_int8_supports, simd::make_conv_transpose_int8},
      {OpKind::FullyConnected, FS, "", "xnnpack", xnn::fc_supports, xnn::make_fc},
      {OpKind::FullyConnected, S, "", "simd", simd::conv_int8_supports, simd::make_conv_int8},
      {OpKind::FullyConnected, D, "", "simd", simd::fc_dynamic_supports, simd::make_fc_dynamic},
      {OpKind::MaxPool, FS, "", "xnnpack", xnn::pool_supports, xnn::make_pooling},
      // No int8 averages: XNNPACK's qu8 averages multiply by a fixed-point 1/count, which can round a
      // mean 1 code away from octet's exact answer (seen: 6 LSB at MobileNetV2's logits), and one
      // model file must give the same codes on x86 and ARM; the reference and simd kernels are exact.
      {OpKind::AveragePool, F, "", "xnnpack", xnn::pool_supports, xnn::make_pooling},
      {OpKind::GlobalAveragePool, F, "", "xnnpack", xnn::pool_supports, xnn::make_pooling},
      {OpKind::GlobalAveragePool, S, "", "simd", simd::global_avg_pool_q8_supports, simd::make_global_avg_pool_q8},
      {OpKind::QuantizeLinear, FS, "", "simd", simd::quantize_supports, simd::make_quantize},
      {OpKind::Add, FS, "", "xnnpack", xnn::binary_supports, xnn::make_binary},
      {OpKind::Sub, FS, "", "xnnpack", xnn::binary_supports, xnn::make_binary},
      {OpKind::Mul, FS, "", "xnnpack", xnn::binary_supports, xnn::make_binary},
      // Float unary ops with an XNNPACK operator (int8 ones: the reference's exact lookup table
      // is as fast; Tanh has no f32 operator in this XNNPACK).
      {OpKind::Relu, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Clip, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::LeakyRelu, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Sigmoid, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::HardSwish, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Abs, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Neg, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Sqrt, F, "", "xnnpack", xnn::unary_supports, xnn::make_unary},
      {OpKind::Concat, FS, "", "xnnpack", xnn::concat_supports, xnn::make_concat},
      {OpKind::LSTM, D, "", "simd", simd::rnn_dynamic_supports, simd::make_rnn_dynamic},
      {OpKind::GRU, D, "", "simd", simd::rnn_dynamic_supports, simd::make_rnn_dynamic},
      {OpKind::RNN, D, "", "simd", simd::rnn_dynamic_supports, simd::make_rnn_dynamic},
  };
  return list;
}

class XnnpackBackend final : public Backend {
 public:
  explicit XnnpackBackend(int threads) : Backend(xnnpack_list()), available_(xnn::initialize()) {
    if (available_.ok) pool_ = xnn::make_threadpool(threads);
  }
  const char* name() const override { return "xnnpack"; }
  Support available() const override { return available_; }
  // The pthreadpool runs this backend's kernels (MobileNetV2 at 2 threads: 20 ms with OpenMP
  // workers spinning beside it, 8 ms without).
  bool shares_openmp_threads() const override { return false; }
  ParallelFor parallel_for(int) const override { return xnn::pool_parallel_for(pool_); }
  const xnn::Pool& pool() const { return pool_; }

 private:
  Support available_;
  xnn::Pool pool_;
};
}  // namespace

namespace xnn {
Pool session_pool(const KernelContext& ctx) { return static_cast<const XnnpackBackend*>(ctx.backend)->pool(); }
}  // namespace xnn

std::unique_ptr<Backend> make_xnnpack_backend(int threads) { return std::make_unique<XnnpackBackend>(threads); }

}  // namespace octet
