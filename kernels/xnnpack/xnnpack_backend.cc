// The XNNPACK backend (default on aarch64): which nodes it takes, and why not the others.
// One pthreadpool per backend instance, i.e. per session (make_backends builds the list per
// session), created at the first create() with the session's thread count and shared by every
// kernel of the session (shared ownership: kernels may outlive the backend object).
#include "ops/op_spec.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet {

namespace {
class XnnpackBackend final : public Backend {
 public:
  const char* name() const override { return "xnnpack"; }
  // The pthreadpool runs this backend's kernels (MobileNetV2 at 2 threads: 20 ms with OpenMP
  // workers spinning beside it, 8 ms without).
  bool shares_openmp_threads() const override { return false; }

  Support supports(const KernelContext& ctx) const override {
    using namespace xnn;
    const NodeDef& n = ctx.node;
    std::string why;
    if (!available(&why)) return Support::no(why);
    // XNNPACK 2022-02 has no dynamically quantized operators: scales are fixed at create time.
    // octet's portable kernels (kernels/simd) run dynamic FullyConnected and LSTM/GRU/RNN on the
    // same threads.
    if (n.precision == Precision::Int8Dynamic) {
      if (n.op == OpKind::FullyConnected) return simd::fc_dynamic_supports(ctx);
      if (n.op == OpKind::LSTM || n.op == OpKind::GRU || n.op == OpKind::RNN) return simd::rnn_dynamic_supports(ctx);
      return Support::no("dynamic int8 has no XNNPACK operator");
    }
    switch (n.op) {
      case OpKind::Conv: case OpKind::ConvTranspose: return conv_supports(ctx);
      case OpKind::FullyConnected: return fc_supports(ctx);
      case OpKind::MaxPool: case OpKind::AveragePool: return pool_supports(ctx);
      case OpKind::GlobalAveragePool:   // int8: XNNPACK's fixed-point mean is not exact (pool_supports)
        return ctx.input(0).dtype == DataType::f32 ? pool_supports(ctx) : simd::global_avg_pool_q8_supports(ctx);
      case OpKind::QuantizeLinear: return simd::quantize_supports(ctx);
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Pow: case OpKind::Max:
      case OpKind::Min:
        return binary_supports(ctx);
      case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid: case OpKind::HardSwish:
      case OpKind::Abs: case OpKind::Neg: case OpKind::Sqrt: case OpKind::Tanh:
        return unary_supports(ctx);
      case OpKind::Concat: return concat_supports(ctx);
      default:
        return Support::no(std::string(op_name(n.op)) + " has no XNNPACK kernel in octet");
    }
  }

  std::unique_ptr<Kernel> create(const KernelContext& ctx) override {
    using namespace xnn;
    ensure_initialized();
    if (!pool_made_) pool_ = make_pool(ctx.threads), pool_made_ = true;
    switch (ctx.node.op) {
      case OpKind::Conv: return make_conv(ctx, pool_);
      case OpKind::FullyConnected:
        if (ctx.node.precision == Precision::Int8Dynamic) return simd::make_fc_dynamic(ctx, parallel_for(pool_));
        return make_fc(ctx, pool_);
      case OpKind::MaxPool: case OpKind::AveragePool: return make_pool(ctx, pool_);
      case OpKind::GlobalAveragePool:
        return ctx.input(0).dtype == DataType::f32 ? make_pool(ctx, pool_) : simd::make_global_avg_pool_q8(ctx);
      case OpKind::QuantizeLinear: return simd::make_quantize(ctx, parallel_for(pool_));
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: return make_binary(ctx, pool_);
      case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid: case OpKind::HardSwish:
      case OpKind::Abs: case OpKind::Neg: case OpKind::Sqrt:
        return make_unary(ctx, pool_);
      case OpKind::Concat: return make_concat(ctx, pool_);
      case OpKind::LSTM: case OpKind::GRU: case OpKind::RNN: return simd::make_rnn_dynamic(ctx, parallel_for(pool_));
      default: node_error(ctx.node, "is not supported by the XNNPACK backend");
    }
  }

 private:
  xnn::Pool pool_;
  bool pool_made_ = false;
};
}  // namespace

std::unique_ptr<Backend> make_xnnpack_backend() { return std::make_unique<XnnpackBackend>(); }

}  // namespace octet
