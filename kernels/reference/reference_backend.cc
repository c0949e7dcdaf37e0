// The reference backend: runs every op the format defines (see reference_kernels.h).
#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet {

namespace {
class ReferenceBackend final : public Backend {
 public:
  const char* name() const override { return "reference"; }
  Support supports(const KernelContext&) const override { return Support::yes(); }
  std::unique_ptr<Kernel> create(const KernelContext& ctx) override {
    using namespace ref;
    switch (ctx.node.op) {
      case OpKind::Conv: case OpKind::ConvTranspose: return make_conv(ctx);
      case OpKind::FullyConnected: return make_fully_connected(ctx);
      case OpKind::MatMul: return make_matmul(ctx);
      case OpKind::MaxPool: case OpKind::AveragePool: case OpKind::GlobalAveragePool: return make_pool(ctx);
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Pow: case OpKind::Max:
      case OpKind::Min: case OpKind::Equal:
        return make_binary(ctx);
      case OpKind::Relu: case OpKind::LeakyRelu: case OpKind::Clip: case OpKind::Sigmoid: case OpKind::Tanh:
      case OpKind::HardSwish: case OpKind::HardSigmoid: case OpKind::Gelu: case OpKind::Erf: case OpKind::Exp:
      case OpKind::Log: case OpKind::Sqrt: case OpKind::Neg: case OpKind::Abs: case OpKind::Reciprocal:
        return make_unary(ctx);
      case OpKind::QuantizeLinear: case OpKind::DequantizeLinear: return make_quantize(ctx);
      case OpKind::Concat: case OpKind::Split: case OpKind::Slice: case OpKind::Reshape: case OpKind::Flatten:
      case OpKind::Transpose: case OpKind::Squeeze: case OpKind::Unsqueeze: case OpKind::Pad: case OpKind::Resize:
      case OpKind::Gather: case OpKind::Expand: case OpKind::Cast: case OpKind::Where:
        return make_data(ctx);
      case OpKind::ReduceMean: case OpKind::ReduceSum: case OpKind::ReduceMax: return make_reduce(ctx);
      case OpKind::Softmax: return make_softmax(ctx);
      case OpKind::LayerNormalization: return make_layernorm(ctx);
      case OpKind::LSTM: case OpKind::GRU: case OpKind::RNN: return make_rnn(ctx);
      default:
        node_error(ctx.node, "has no reference kernel");
    }
  }
};
}  // namespace

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace octet
