// The oneDNN backend (default on x86): which nodes it takes, and why not the others.
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"

namespace octet {

namespace {
class OnednnBackend final : public Backend {
 public:
  const char* name() const override { return "onednn"; }

  Support supports(const KernelContext& ctx) const override {
    using namespace onednn;
    const NodeDef& n = ctx.node;
    // Recurrent ops run float and int8_dynamic on their own kernel.
    if (n.op == OpKind::LSTM || n.op == OpKind::GRU || n.op == OpKind::RNN) return rnn_supports(ctx);
    // FullyConnected runs int8_dynamic on octet's own u8 x s8 kernel (fc_onednn.cc).
    if (n.op == OpKind::FullyConnected && n.precision == Precision::Int8Dynamic) return fc_supports(ctx);
    // ... and so does an activation x activation MatMul (matmul_dynamic.cc).
    if (n.op == OpKind::MatMul && n.precision == Precision::Int8Dynamic) return matmul_supports(ctx);
    // Checked first for every other op so the reason is uniform.
    if (n.precision == Precision::Int8Dynamic) return Support::no("dynamic int8 not yet on oneDNN");
    switch (n.op) {
      case OpKind::Conv: case OpKind::ConvTranspose: return conv_supports(ctx);
      case OpKind::FullyConnected: return fc_supports(ctx);
      case OpKind::MatMul: return matmul_supports(ctx);
      case OpKind::MaxPool: case OpKind::AveragePool: case OpKind::GlobalAveragePool: return pool_supports(ctx);
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Pow: case OpKind::Max:
      case OpKind::Min:
        return binary_supports(ctx);
      case OpKind::Concat: return concat_supports(ctx);
      case OpKind::LayerNormalization: case OpKind::Softmax: return norm_supports(ctx);
      case OpKind::Transpose: case OpKind::Slice: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
        return reorder_supports(ctx);
      default:
        return Support::no(std::string(op_name(n.op)) + " has no oneDNN kernel in octet");
    }
  }

  std::unique_ptr<Kernel> create(const KernelContext& ctx) override {
    using namespace onednn;
    switch (ctx.node.op) {
      case OpKind::Conv: return make_conv(ctx);
      case OpKind::FullyConnected: return make_fc(ctx);
      case OpKind::LayerNormalization: case OpKind::Softmax: return make_norm(ctx);
      case OpKind::MatMul: return make_matmul(ctx);
      case OpKind::MaxPool: case OpKind::AveragePool: case OpKind::GlobalAveragePool: return make_pool(ctx);
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: return make_binary(ctx);
      case OpKind::Concat: return make_concat(ctx);
      case OpKind::LSTM: case OpKind::GRU: case OpKind::RNN: return make_rnn(ctx);
      case OpKind::Transpose: case OpKind::Slice: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
        return make_reorder(ctx);
      default: node_error(ctx.node, "is not supported by the oneDNN backend");
    }
  }
};
}  // namespace

std::unique_ptr<Backend> make_onednn_backend() { return std::make_unique<OnednnBackend>(); }

}  // namespace octet
