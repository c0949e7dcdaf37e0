// Conv on oneDNN: NHWC activations (format_tag::nhwc), OHWI weights reordered once per weights
// layout into whatever oneDNN chose (format_tag::any). Float and static int8; the int8 mapping is
// described in onednn_common.h. A non-zero input zero point is folded into the bias:
//   sum((x - zp) w) = sum(x w) - zp sum(w)
// which holds where every tap reads input. A padded convolution with a non-zero zero point
// therefore copies X into a buffer whose border holds the code zp (real zero, as the reference
// pads) and runs unpadded. That keeps oneDNN on its fastest kernels: with a runtime source zero
// point oneDNN 2.6 drops from brgconv to an older jit kernel (3x3 64->64 on 56x56, one thread:
// 0.157 ms, vs 0.135-0.143 ms for copy + brgconv, vs 0.095 ms when zp = 0), grouped convs to an
// im2col gemm, and some shapes (s8 grouped, depthwise multipliers) to its reference code.
// Without VNNI, an s8 X is flipped to u8 the same way (see ConvSetup::flip_sign), and weights must
// lie in [-64, 64] (onednn_common.h).
#include <cstring>
#include <limits>

#include "onednn/onednn_common.h"
#include "quant/bias_fold.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"
#include "ops/params.h"

namespace octet::onednn {

namespace {

// Everything about the node that does not depend on the input shape: the attributes, the
// descriptors' data types and the weights as the user gives them.
struct ConvSetup {
  ConvParams p;
  Precision prec;
  int64_t O = 0, KH = 0, KW = 0, Cg = 0;
  bool has_bias = false, has_res = false;
  DataType xt = DataType::f32, yt = DataType::f32;
  DataType src_t = DataType::f32;   // the primitive's source type (u8 when flip_sign)
  int32_t zp_x = 0;                 // the primitive's source zero point
  // Without VNNI, oneDNN makes an s8 source u8 (+128) and halves the weights so that vpmaddubsw
  // cannot saturate, rounding odd weights: results off by several LSB. We hand it u8 instead:
  // x ^ 0x80 = x + 128 with zero point zp + 128, exact, for one copy of X per run.
  bool flip_sign = false;
  bool fold_zp = false;      // input zero point folded into the bias
  bool explicit_pad = false; // X copied into a zp-filled padded buffer; the primitive is unpadded
  std::string unsupported;   // why the post-op chain cannot be built
  dnnl::primitive_attr attr;
  dnnl::memory::desc user_w_md;

  explicit ConvSetup(const KernelContext& ctx) : p(parse_conv(ctx.node)), prec(ctx.node.precision) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    O = w.shape[0], KH = w.shape[1], KW = w.shape[2], Cg = w.shape[3];
    has_bias = ctx.has_input(2);
    has_res = ctx.has_input(3);
    xt = src_t = x.dtype, yt = y.dtype;
    const dt wt = prec == Precision::Float ? dt::f32 : dt::s8;
    user_w_md = conv_weights_desc(w.shape, p.group, wt);

    if (prec == Precision::Int8Static) {
      flip_sign = xt == DataType::s8 && !isa_has_vnni();
      if (flip_sign) src_t = DataType::u8;
      zp_x = x.quant.zero_point[0] + (flip_sign ? 128 : 0);
      const bool padded = p.pad_t || p.pad_l || p.pad_b || p.pad_r;
      fold_zp = zp_x != 0;
      explicit_pad = zp_x != 0 && padded;
      SumSpec sum{};
      if (has_res) {
        const TensorDef& r = ctx.input(3);
        sum = {r.quant.scale[0], r.quant.zero_point[0], to_dnnl(r.dtype)};
      }
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], 0.f, has_res ? &sum : nullptr, 4, /*round_first=*/true);
      unsupported = q.unsupported;
      set_product_output_scales(attr, x.quant.scale[0], w.quant, q.factor);
      attr.set_post_ops(q.po);
    } else {
      attr.set_post_ops(float_chain(ctx.node.activation, has_res));
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  // X is copied into a buffer before each run (padded and/or sign-flipped).
  bool copies_input() const { return explicit_pad || flip_sign; }

  // The primitive's input: X, or X with its padding made explicit.
  Shape src_shape(const Shape& x) const {
    if (!explicit_pad) return x;
    return {x[0], x[1] + p.pad_t + p.pad_b, x[2] + p.pad_l + p.pad_r, x[3]};
  }

  dnnl::convolution_forward::primitive_desc pd(const Shape& x, const Shape& y) const {
    const dt wt = prec == Precision::Float ? dt::f32 : dt::s8;
    const Shape xs = src_shape(x);
    dnnl::memory::desc src({xs[0], xs[3], xs[1], xs[2]}, to_dnnl(src_t), tag::nhwc);
    dnnl::memory::desc dst({y[0], y[3], y[1], y[2]}, to_dnnl(yt), tag::nhwc);
    dnnl::memory::desc wei(user_w_md.dims(), wt, tag::any);
    const dnnl::memory::dims strides{p.stride_h, p.stride_w}, dil{p.dil_h - 1, p.dil_w - 1};
    dnnl::memory::dims pl{p.pad_t, p.pad_l}, pr{p.pad_b, p.pad_r};
    if (explicit_pad) pl = {0, 0}, pr = {0, 0};
    using cf = dnnl::convolution_forward;
    const auto pk = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    // Folding the zero point creates a bias even when the node has none.
    if (has_bias || fold_zp) {
      dnnl::memory::desc bias({O}, prec == Precision::Float ? dt::f32 : dt::s32, tag::x);
      return cf::primitive_desc(cf::desc(pk, alg, src, wei, bias, dst, strides, dil, pl, pr), attr, engine());
    }
    return cf::primitive_desc(cf::desc(pk, alg, src, wei, dst, strides, dil, pl, pr), attr, engine());
  }
};

class ConvOnednn final : public CachedKernel {
 public:
  explicit ConvOnednn(const KernelContext& ctx)
      : CachedKernel(ctx), s_(ctx), weights_(s_.user_w_md, ctx.input(1).data) {
    if (s_.has_bias) bias_data_ = const_cast<uint8_t*>(ctx.input(2).data);
    if (s_.fold_zp) fold_zero_point(ctx);
    prepare(ctx);
  }

 private:
  void fold_zero_point(const KernelContext& ctx) {
    const auto sums = q::weight_row_sums(reinterpret_cast<const int8_t*>(ctx.input(1).data), s_.O, s_.KH * s_.KW * s_.Cg);
    if (!q::fold_zero_point(sums, static_cast<const int32_t*>(bias_data_), s_.zp_x, &folded_bias_))
      node_error(ctx.node, "bias with the input zero point folded in overflows int32");
    bias_data_ = folded_bias_.data();
  }

  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    auto pd = s_.pd(in[0], out[0]);
    Prim p;
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) return p;
    p.prim = dnnl::convolution_forward(pd);
    const auto& eng = engine();
    p.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_WEIGHTS] = weights_.get(pd.weights_desc(), stream_);
    if (s_.has_bias || s_.fold_zp) p.args[DNNL_ARG_BIAS] = dnnl::memory(pd.bias_desc(), eng, bias_data_);
    if (s_.copies_input()) padded_.reserve(static_cast<size_t>(shape_elements(s_.src_shape(in[0]))));
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  Support reshape(const KernelArgs& a) override {
    const Support s = CachedKernel::reshape(a);
    // The border of the padded input holds the code of real zero; only the interior changes
    // from run to run.
    if (s_.explicit_pad && !current().declined) {
      const uint8_t code = static_cast<uint8_t>(s_.zp_x);   // u8 zp, or the s8 zp's two's complement
      std::memset(padded_.data(), code, static_cast<size_t>(shape_elements(s_.src_shape(a.in[0]->shape))));
    }
    return s;
  }

  // Copies X into the interior of the padded buffer (all of it without explicit padding),
  // flipping the sign bit when the primitive reads s8 codes as u8.
  void pad_input(const Tensor& x) {
    const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const int64_t pt = s_.explicit_pad ? s_.p.pad_t : 0, pl = s_.explicit_pad ? s_.p.pad_l : 0;
    const int64_t Hp = s_.src_shape(x.shape)[1], Wp = s_.src_shape(x.shape)[2];
    const uint8_t* src = static_cast<const uint8_t*>(x.data);
    uint8_t* dst = static_cast<uint8_t*>(padded_.data());
    const int64_t row = W * C;
    const bool flip = s_.flip_sign;
#pragma omp parallel for collapse(2) if (N * H * W * C > (1 << 16))
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) {
        uint8_t* d = dst + ((n * Hp + h + pt) * Wp + pl) * C;
        const uint8_t* r = src + (n * H + h) * row;
        if (flip) {
          for (int64_t i = 0; i < row; ++i) d[i] = r[i] ^ 0x80;
        } else {
          std::memcpy(d, r, static_cast<size_t>(row));
        }
      }
  }

  void before(const KernelArgs& a) override {
    if (s_.copies_input()) pad_input(*a.in[0]);
    // The residual is accumulated into Y by the sum post-op: Y must hold R first, unless the
    // planner already placed them in the same memory.
    if (s_.has_res && a.in[3]->data != a.out[0]->data) std::memcpy(a.out[0]->data, a.in[3]->data, a.out[0]->bytes());
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(s_.copies_input() ? padded_.data() : a.in[0]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  ConvSetup s_;
  PackedWeights weights_;
  void* bias_data_ = nullptr;
  std::vector<int32_t> folded_bias_;
  // X with explicit zero-point padding and/or flipped sign (copies_input only)
  AlignedBuffer padded_{"padded convolution input"};
};

}  // namespace

namespace {
// Why oneDNN would compute this static int8 convolution inexactly here (empty: it would not).
std::string unsafe_weights(const KernelContext& ctx) {
  const TensorDef& w = ctx.input(1);
  const bool depthwise = w.shape[3] == 1 && parse_conv(ctx.node).group == w.shape[0];
  return depthwise ? "" : int8_weights_unsafe(w);
}
}  // namespace

Support conv_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (Support c = ctx.needs_constant_weights(); !c.ok) return c;
  if (n.precision == Precision::Int8Static) {
    // Beyond [-64, 64] without VNNI, the next implementation (octet's exact simd kernel) runs it.
    const std::string unsafe = unsafe_weights(ctx);
    if (!unsafe.empty()) return Support::no(unsafe);
  }
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  ConvSetup s(ctx);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "convolution", [&](const std::vector<Shape>& in, const std::vector<Shape>& out) {
    return std::string(s.pd(in[0], out[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_conv(const KernelContext& ctx) { return std::make_unique<ConvOnednn>(ctx); }

}  // namespace octet::onednn
