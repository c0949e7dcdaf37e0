// ConvTranspose on oneDNN's deconvolution_forward: NHWC activations, octet's [O, KH, KW, C/group]
// weights are oneDNN's deconvolution weights {O, C/group, KH, KW} in ohwi order (oneDNN computes
// dst[oh] += src[ih] w[kh] for oh = ih s - pad_t + kh d, the reference's transposed loop),
// reordered once into the layout the primitive picks. Float and static int8; the int8 mapping
// is conv_onednn.cc's (onednn_common.h): per-channel output scales s_x s_w[c] / s_y and
// quant_chain's post-ops (round, then the zero point, as quant/requant.h).
//
// The input zero point cannot be folded into the bias as Conv does: a transposed convolution's
// border outputs receive fewer taps than its interior ones, so sum((x - zp) w) = sum(x w) -
// zp sum(w) holds nowhere near the border. oneDNN 2.6's int8 deconvolution takes a run-time
// source zero point (attr zero points) and corrects the padded and strided positions itself
// (jit_uni_deconv_zp_pad_str_kernel), exactly: the tests compare every code with the reference.
// Output padding is the right padding made smaller: oneDNN checks
// (OH - ((KH - 1) d + 1) + pad_t + pad_r) / s + 1 == H, which pad_r = pad_b - output_padding
// satisfies (it may be negative, down to 1 - s).
//
// oneDNN 2.6.3's int8 deconvolution (jit_uni_deconv:avx2, measured) computes some outputs wrongly
// (0 to 255 codes off, depending on what its scratchpad held before): where a kernel row or
// column is shorter than the stride (output rows between the taps of two input rows), where
// output_padding exceeds the end padding (output rows no tap reaches), and depthwise with a
// source zero point. supports() refuses those (octet's simd kernel, next in the list, runs
// them); every other case was exact over 2548 random shapes x 5 scratchpad fills.
// Float runs the deconvolution alone and adds bias and activation in octet's own loop: oneDNN 2.6
// implements float deconvolution as a backward-data convolution (fast) followed, when there is a
// bias or a post-op, by its reference loops over the output (slow: the 64->32 4x4 stride-2
// upsampling on 56x56 with bias and Relu took 48 ms in all at one thread, the convolution alone 3).
// Without VNNI, an s8 X is flipped to u8 (x ^ 0x80, zero point + 128) as in conv_onednn.cc: the
// kernel would otherwise halve the weights and round. Weights must lie in [-64, 64] there.
#include <algorithm>
#include <cmath>

#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/activation.h"

namespace octet::onednn {

namespace {

struct ConvTransposeSetup {
  ConvParams p;
  Precision prec;
  int64_t O = 0, KH = 0, KW = 0, Cg = 0;
  bool has_bias = false;      // the node's
  bool primitive_bias = false; // oneDNN adds it (int8); float adds it in the epilogue
  DataType src_t = DataType::f32, yt = DataType::f32;
  bool flip_sign = false;   // s8 X given to oneDNN as u8 (no VNNI)
  int32_t zp_x = 0;         // the primitive's source zero point
  std::string unsupported;  // why the post-op chain cannot be built
  dnnl::primitive_attr attr;
  dnnl::memory::desc user_w_md;

  explicit ConvTransposeSetup(const KernelContext& ctx) : p(parse_conv(ctx.node)), prec(ctx.node.precision) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    O = w.shape[0], KH = w.shape[1], KW = w.shape[2], Cg = w.shape[3];
    has_bias = ctx.has_input(2);
    primitive_bias = has_bias && prec != Precision::Float;
    src_t = x.dtype, yt = y.dtype;
    const dt wt = prec == Precision::Float ? dt::f32 : dt::s8;
    user_w_md = conv_weights_desc(w.shape, p.group, wt);
    if (prec == Precision::Int8Static) {
      flip_sign = x.dtype == DataType::s8 && !isa_has_vnni();
      if (flip_sign) src_t = DataType::u8;
      zp_x = x.quant.zero_point[0] + (flip_sign ? 128 : 0);
      if (zp_x != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], 0.f, nullptr, 4, /*round_first=*/true);
      unsupported = q.unsupported;
      set_product_output_scales(attr, x.quant.scale[0], w.quant, q.factor);
      attr.set_post_ops(q.po);
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  dnnl::deconvolution_forward::primitive_desc pd(const Shape& x, const Shape& y) const {
    const dt wt = prec == Precision::Float ? dt::f32 : dt::s8;
    dnnl::memory::desc src({x[0], x[3], x[1], x[2]}, to_dnnl(src_t), tag::nhwc);
    dnnl::memory::desc dst({y[0], y[3], y[1], y[2]}, to_dnnl(yt), tag::nhwc);
    dnnl::memory::desc wei(user_w_md.dims(), wt, tag::any);
    const dnnl::memory::dims strides{p.stride_h, p.stride_w}, dil{p.dil_h - 1, p.dil_w - 1};
    const dnnl::memory::dims pl{p.pad_t, p.pad_l}, pr{p.pad_b - p.out_pad_h, p.pad_r - p.out_pad_w};
    using df = dnnl::deconvolution_forward;
    const auto pk = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::deconvolution_direct;
    if (primitive_bias) {
      dnnl::memory::desc bias({O}, dt::s32, tag::x);
      return df::primitive_desc(df::desc(pk, alg, src, wei, bias, dst, strides, dil, pl, pr), attr, engine());
    }
    return df::primitive_desc(df::desc(pk, alg, src, wei, dst, strides, dil, pl, pr), attr, engine());
  }
};

class ConvTransposeOnednn final : public CachedKernel {
 public:
  explicit ConvTransposeOnednn(const KernelContext& ctx)
      : CachedKernel(ctx), s_(ctx), weights_(s_.user_w_md, ctx.input(1).data), zp_(s_.zp_x) {
    if (s_.has_bias) bias_data_ = const_cast<uint8_t*>(ctx.input(2).data);
    const Activation& act = ctx.node.activation;
    if (act.kind == ActKind::Relu) lo_ = 0.f;
    if (act.kind == ActKind::Clip) lo_ = act.alpha, hi_ = act.beta;
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    auto pd = s_.pd(in[0], out[0]);
    Prim p;
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) return p;
    p.prim = dnnl::deconvolution_forward(pd);
    const auto& eng = engine();
    p.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_WEIGHTS] = weights_.get(pd.weights_desc(), stream_);
    if (s_.primitive_bias) p.args[DNNL_ARG_BIAS] = dnnl::memory(pd.bias_desc(), eng, bias_data_);
    if (s_.zp_x != 0)
      p.args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = dnnl::memory({{1}, dt::s32, tag::x}, eng, &zp_);
    if (s_.flip_sign) flipped_.reserve(static_cast<size_t>(shape_elements(in[0])));
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  void run(const KernelArgs& a) override {
    CachedKernel::run(a);
    if (s_.prec == Precision::Float) float_epilogue(*a.out[0]);
  }

  // y = act(y + bias[c]) over NHWC (channels innermost), as the reference: in place, every thread
  // a range of pixels; the clamps vectorize, other activations call the reference's function.
  void float_epilogue(Tensor& y) const {
    const int64_t O = s_.O, pixels = y.elements() / O;
    const float* b = static_cast<const float*>(bias_data_);
    const Activation& act = node_.activation;
    const bool clamp = act.kind == ActKind::None || act.kind == ActKind::Relu || act.kind == ActKind::Clip;
    if (!b && act.kind == ActKind::None) return;
    float* v = y.as<float>();
    const float lo = lo_, hi = hi_;
#pragma omp parallel for if (pixels * O > (1 << 14))
    for (int64_t p = 0; p < pixels; ++p) {
      float* row = v + p * O;
      if (clamp) {
        for (int64_t c = 0; c < O; ++c) row[c] = std::min(std::max(row[c] + (b ? b[c] : 0.f), lo), hi);
      } else {
        for (int64_t c = 0; c < O; ++c) row[c] = apply_activation(act, row[c] + (b ? b[c] : 0.f));
      }
    }
  }

  void before(const KernelArgs& a) override {
    if (!s_.flip_sign) return;
    const int64_t n = a.in[0]->elements();
    const uint8_t* src = a.in[0]->as<uint8_t>();
    uint8_t* dst = static_cast<uint8_t*>(flipped_.data());
#pragma omp parallel for if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i] ^ 0x80;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(s_.flip_sign ? flipped_.data() : a.in[0]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  ConvTransposeSetup s_;
  PackedWeights weights_;
  void* bias_data_ = nullptr;
  int32_t zp_;        // the source zero point oneDNN reads at run time
  float lo_ = -INFINITY, hi_ = INFINITY;   // float: the clamp of a None/Relu/Clip activation
  AlignedBuffer flipped_{"sign-flipped deconvolution input"};   // X ^ 0x80 (flip_sign only)
};

}  // namespace

namespace {
// Why oneDNN 2.6's int8 deconvolution would compute this node wrongly (see above); "" if not.
std::string int8_deconv_bug(const ConvTransposeSetup& s) {
  const ConvParams& p = s.p;
  if (s.KH < p.stride_h || s.KW < p.stride_w) return "kernel smaller than the stride (oneDNN 2.6 int8 deconvolution computes the gaps wrongly)";
  if (p.out_pad_h > p.pad_b || p.out_pad_w > p.pad_r)
    return "output_padding beyond the end padding (oneDNN 2.6 int8 deconvolution computes the rows no tap reaches wrongly)";
  if (s.Cg == 1 && s.O == p.group && p.group > 1 && s.zp_x != 0)
    return "depthwise with a source zero point (oneDNN 2.6 int8 deconvolution computes it wrongly)";
  return "";
}
}  // namespace

Support conv_transpose_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (Support c = ctx.needs_constant_weights(); !c.ok) return c;
  ConvTransposeSetup s(ctx);
  if (n.precision == Precision::Int8Static) {
    const std::string bug = int8_deconv_bug(s);
    if (!bug.empty()) return Support::no(bug);
    // Beyond [-64, 64] without VNNI, the next implementation (octet's exact simd kernel) runs it.
    const std::string unsafe = int8_weights_unsafe(ctx.input(1));
    if (!unsafe.empty()) return Support::no(unsafe);
  }
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "deconvolution", [&](const std::vector<Shape>& in, const std::vector<Shape>& out) {
    return std::string(s.pd(in[0], out[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_conv_transpose(const KernelContext& ctx) { return std::make_unique<ConvTransposeOnednn>(ctx); }

}  // namespace octet::onednn
