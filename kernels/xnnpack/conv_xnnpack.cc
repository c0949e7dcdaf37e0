// Conv on XNNPACK: NHWC activations and OHWI weights as octet stores them. Static int8 runs on the
// per-channel qc8 convolution (xnnpack_qc8.cc); float on convolution2d_nhwc_f32. Grouped,
// depthwise (XNNPACK picks its dwconv micro-kernels when every group has one input and one output
// channel), strided, dilated and asymmetrically padded convolutions are all native.
//
// The fused residual (input 3): float runs the convolution without clamp and then an
// add_nd_f32 of the residual into the output with the clamp, which is the reference's
// act(conv + r). Int8 does not use XNNPACK: requantizing the convolution before the add rounds
// twice, which can differ from the reference by more than 1 code; octet's portable kernel
// (kernels/simd/conv_int8_simd.cc) runs it exactly, as it does int8 convolutions whose fused
// activation XNNPACK cannot clamp (HardSwish, LeakyRelu, ...), when they have one group.
#include <cmath>
#include <cstring>

#include "ops/params.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

Qc8Geometry geometry(const KernelContext& ctx) {
  const ConvParams p = parse_conv(ctx.node);
  const TensorDef& w = ctx.input(1);
  Qc8Geometry g;
  g.pad_t = static_cast<uint32_t>(p.pad_t), g.pad_r = static_cast<uint32_t>(p.pad_r);
  g.pad_b = static_cast<uint32_t>(p.pad_b), g.pad_l = static_cast<uint32_t>(p.pad_l);
  g.kh = static_cast<uint32_t>(w.shape[1]), g.kw = static_cast<uint32_t>(w.shape[2]);
  g.sh = static_cast<uint32_t>(p.stride_h), g.sw = static_cast<uint32_t>(p.stride_w);
  g.dh = static_cast<uint32_t>(p.dil_h), g.dw = static_cast<uint32_t>(p.dil_w);
  g.groups = static_cast<uint32_t>(p.group);
  g.cg = static_cast<size_t>(w.shape[3]);
  g.og = static_cast<size_t>(w.shape[0] / p.group);
  return g;
}

class ConvInt8 final : public XnnKernel {
 public:
  ConvInt8(const KernelContext& ctx) : XnnKernel(ctx), conv_(ctx, geometry(ctx)) {
    detail_ = conv_.detail();
  }
  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    conv_.run(x, *a.out[0], static_cast<size_t>(x.shape[0]), static_cast<size_t>(x.shape[1]),
              static_cast<size_t>(x.shape[2]), pool());
  }

 private:
  Qc8Conv conv_;
};

class ConvF32 final : public XnnKernel {
 public:
  ConvF32(const KernelContext& ctx) : XnnKernel(ctx) {
    const Qc8Geometry g = geometry(ctx);
    residual_ = ctx.has_input(3);
    float lo, hi;
    float_clamp(ctx.node.activation, &lo, &hi);
    const float* bias = ctx.has_input(2) ? reinterpret_cast<const float*>(ctx.input(2).data) : nullptr;
    xnn_operator_t op = nullptr;
    check(xnn_create_convolution2d_nhwc_f32(g.pad_t, g.pad_r, g.pad_b, g.pad_l, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.groups,
                                            g.cg, g.og, g.groups * g.cg, g.groups * g.og,
                                            reinterpret_cast<const float*>(ctx.input(1).data), bias,
                                            residual_ ? -INFINITY : lo, residual_ ? INFINITY : hi, 0, &op),
          node_, "xnn_create_convolution2d_nhwc_f32");
    conv_.reset(op);
    detail_ = g.cg == 1 && g.og == 1 ? "convolution_nhwc_f32 (depthwise)" : "convolution_nhwc_f32";
    if (residual_) {
      check(xnn_create_add_nd_f32(lo, hi, 0, &op), node_, "xnn_create_add_nd_f32");
      add_.reset(op);
      detail_ += " + add_nd_f32";
    }
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    // In place (the planner may give R and Y one buffer): keep R before the conv overwrites it.
    const float* r = residual_ ? a.in[3]->as<float>() : nullptr;
    if (residual_ && a.in[3]->data == y.data) {
      void* buf = r_copy_.reserve(y.bytes());
      std::memcpy(buf, y.data, y.bytes());
      r = static_cast<const float*>(buf);
    }
    check(xnn_setup_convolution2d_nhwc_f32(conv_.get(), static_cast<size_t>(x.shape[0]), static_cast<size_t>(x.shape[1]),
                                           static_cast<size_t>(x.shape[2]), x.as<float>(), y.as<float>(), pool()),
          node_, "xnn_setup_convolution2d_nhwc_f32");
    run_op(conv_.get());
    if (residual_) {
      const size_t n = static_cast<size_t>(y.elements());
      check(xnn_setup_add_nd_f32(add_.get(), 1, &n, 1, &n, y.as<float>(), r, y.as<float>(), pool()), node_,
            "xnn_setup_add_nd_f32");
      run_op(add_.get());
    }
  }

 private:
  Op conv_, add_;
  bool residual_ = false;
  Scratch r_copy_;
};

}  // namespace

// Float: any convolution, with a clamp for activation. Static int8: XNNPACK's qc8 convolution
// where it computes the node exactly; the rest goes to the next implementation (octet's simd
// kernel: fused residuals, activations that are not a clamp).
Support conv_supports(const KernelContext& ctx) {
  if (Support c = ctx.needs_constant_weights(); !c.ok) return c;
  if (ctx.node.precision == Precision::Float) return clamp_supported(ctx.node.activation);
  if (ctx.has_input(3)) return Support::no("int8 residual fused into Conv (XNNPACK would round twice)");
  Support s = clamp_supported(ctx.node.activation);
  if (!s.ok) return s;
  return qc8_supports(ctx, ctx.input(1).shape[0]);
}

std::unique_ptr<Kernel> make_conv(const KernelContext& ctx) {
  if (ctx.node.precision == Precision::Float) return std::make_unique<ConvF32>(ctx);
  return std::make_unique<ConvInt8>(ctx);
}

}  // namespace octet::xnn
