// FullyConnected on XNNPACK. X [..., K] is rows x K; W [N, K] is XNNPACK's default
// [output_channels, input_channels] kernel layout.
// Static int8: this XNNPACK (2022-02) has no per-channel fully-connected operator
// (fully_connected_nc_qs8 takes one kernel scale), so the node runs as a qc8 1x1 convolution over
// [rows, 1, 1, K] with W as [N, 1, 1, K] weights, which XNNPACK executes as a plain GEMM.
// Float: fully_connected_nc_f32.
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

Qc8Geometry fc_geometry(const KernelContext& ctx) {
  const TensorDef& w = ctx.input(1);
  Qc8Geometry g;
  g.og = static_cast<size_t>(w.shape[0]);
  g.cg = static_cast<size_t>(w.shape[1]);
  return g;
}

size_t rows_of(const Tensor& x) { return static_cast<size_t>(x.elements() / x.shape.back()); }

class FcInt8 final : public XnnKernel {
 public:
  FcInt8(const KernelContext& ctx) : XnnKernel(ctx), conv_(ctx, fc_geometry(ctx)) {
    detail_ = conv_.detail() + " (1x1 as fully connected)";
  }
  void run(const KernelArgs& a) override { conv_.run(*a.in[0], *a.out[0], rows_of(*a.in[0]), 1, 1, pool()); }

 private:
  Qc8Conv conv_;
};

class FcF32 final : public XnnKernel {
 public:
  FcF32(const KernelContext& ctx) : XnnKernel(ctx) {
    const TensorDef& w = ctx.input(1);
    const size_t N = static_cast<size_t>(w.shape[0]), K = static_cast<size_t>(w.shape[1]);
    float lo, hi;
    float_clamp(ctx.node.activation, &lo, &hi);
    const float* bias = ctx.has_input(2) ? reinterpret_cast<const float*>(ctx.input(2).data) : nullptr;
    xnn_operator_t op = nullptr;
    check(xnn_create_fully_connected_nc_f32(K, N, K, N, reinterpret_cast<const float*>(w.data), bias, lo, hi, 0, &op), node_,
          "xnn_create_fully_connected_nc_f32");
    op_.reset(op);
    detail_ = "fully_connected_nc_f32";
  }
  void run(const KernelArgs& a) override {
    check(xnn_setup_fully_connected_nc_f32(op_.get(), rows_of(*a.in[0]), a.in[0]->as<float>(), a.out[0]->as<float>(), pool()),
          node_, "xnn_setup_fully_connected_nc_f32");
    run_op(op_.get());
  }

 private:
  Op op_;
};

}  // namespace

// Float: with a clamp for activation. Static int8 that XNNPACK cannot express (e.g. a fused
// Sigmoid) goes to the next implementation (octet's simd kernel).
Support fc_supports(const KernelContext& ctx) {
  Support s = clamp_supported(ctx.node.activation);
  if (!s.ok || ctx.node.precision == Precision::Float) return s;
  return qc8_supports(ctx, ctx.input(1).shape[0]);
}

std::unique_ptr<Kernel> make_fc(const KernelContext& ctx) {
  if (ctx.node.precision == Precision::Float) return std::make_unique<FcF32>(ctx);
  return std::make_unique<FcInt8>(ctx);
}

}  // namespace octet::xnn
