// ConvTranspose on XNNPACK, float: deconvolution2d_nhwc_f32, whose kernel layout
// [groups * group_output_channels, KH, KW, group_input_channels] is octet's [O, KH, KW, C/group]
// as stored. ONNX's pads are XNNPACK's output "padding" (cropped from the full output), ONNX's
// output_padding its "adjustment" (given at setup); XNNPACK requires adjustment < stride.
//
// Static int8 does not run here: XNNPACK 2022-02's int8 deconvolutions (qs8, qu8) take one
// weight scale per tensor (octet's are per output channel) and requantize with the gemm's
// rounding of this build, which on ARM is the fixed-point "rndnu" form (x86: fp32), so their
// codes would differ from the reference's float requantization (quant/requant.h) and between
// x86 and ARM. octet's exact simd kernel (kernels/simd/conv_transpose_int8_simd.cc) runs them.
#include "ops/params.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

class ConvTransposeF32 final : public XnnKernel {
 public:
  explicit ConvTransposeF32(const KernelContext& ctx) : XnnKernel(ctx), p_(parse_conv(ctx.node)) {
    const TensorDef& w = ctx.input(1);
    const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
    const size_t cg = static_cast<size_t>(w.shape[3]), og = static_cast<size_t>(w.shape[0] / p_.group);
    float lo, hi;
    float_clamp(ctx.node.activation, &lo, &hi);
    const float* bias = ctx.has_input(2) ? reinterpret_cast<const float*>(ctx.input(2).data) : nullptr;
    xnn_operator_t op = nullptr;
    check(xnn_create_deconvolution2d_nhwc_f32(u(p_.pad_t), u(p_.pad_r), u(p_.pad_b), u(p_.pad_l), u(w.shape[1]),
                                              u(w.shape[2]), u(p_.stride_h), u(p_.stride_w), u(p_.dil_h), u(p_.dil_w),
                                              u(p_.group), cg, og, p_.group * cg, p_.group * og,
                                              reinterpret_cast<const float*>(w.data), bias, lo, hi, 0, &op),
          node_, "xnn_create_deconvolution2d_nhwc_f32");
    op_.reset(op);
    detail_ = "deconvolution_nhwc_f32";
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    check(xnn_setup_deconvolution2d_nhwc_f32(op_.get(), static_cast<size_t>(x.shape[0]), static_cast<size_t>(x.shape[1]),
                                             static_cast<size_t>(x.shape[2]), static_cast<uint32_t>(p_.out_pad_h),
                                             static_cast<uint32_t>(p_.out_pad_w), x.as<float>(), a.out[0]->as<float>(),
                                             pool()),
          node_, "xnn_setup_deconvolution2d_nhwc_f32");
    run_op(op_.get());
  }

 private:
  ConvParams p_;
  Op op_;
};

}  // namespace

Support conv_transpose_supports(const KernelContext& ctx) {
  if (Support c = ctx.needs_constant_weights(); !c.ok) return c;
  if (ctx.node.precision != Precision::Float)
    return Support::no("XNNPACK's int8 deconvolution has per-tensor weight scales and fixed-point rounding on ARM");
  const ConvParams p = parse_conv(ctx.node);
  if (p.out_pad_h >= p.stride_h || p.out_pad_w >= p.stride_w)
    return Support::no("output_padding must be smaller than the stride for XNNPACK");
  return clamp_supported(ctx.node.activation);
}

std::unique_ptr<Kernel> make_conv_transpose(const KernelContext& ctx) { return std::make_unique<ConvTransposeF32>(ctx); }

}  // namespace octet::xnn
