// FullyConnected on oneDNN's matmul: X [..., K] is viewed as rows x K, W [N, K] is described as a
// K x N matrix with strides (1, K) and reordered once into the layout oneDNN chose. Static int8:
// the input zero point is always folded into an s32 bias (an FC has no padding), so oneDNN runs
// without zero-point attributes: acc' = sum(x w) + bias - zp_x sum(w) = sum((x - zp_x) w) + bias.
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "quant/bias_fold.h"
#include "ops/op_spec.h"

namespace octet::onednn {

namespace {

struct FcSetup {
  Precision prec;
  int64_t N = 0, K = 0;
  bool has_bias = false;   // the primitive has a bias (the node's, or the folded zero point)
  DataType xt = DataType::f32, yt = DataType::f32;
  int32_t zp_x = 0;
  std::string unsupported;
  dnnl::primitive_attr attr;
  dnnl::memory::desc user_w_md;

  explicit FcSetup(const KernelContext& ctx) : prec(ctx.node.precision) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    N = w.shape[0], K = w.shape[1];
    xt = x.dtype, yt = y.dtype;
    user_w_md = dnnl::memory::desc({K, N}, prec == Precision::Float ? dt::f32 : dt::s8, tag::ba);
    has_bias = ctx.has_input(2);
    if (prec == Precision::Int8Static) {
      zp_x = x.quant.zero_point[0];
      has_bias = has_bias || zp_x != 0;
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], 0.f, nullptr, 2, /*round_first=*/true);
      unsupported = q.unsupported;
      set_product_output_scales(attr, x.quant.scale[0], w.quant, q.factor);
      attr.set_post_ops(q.po);
    } else {
      attr.set_post_ops(float_chain(ctx.node.activation, false));
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  dnnl::matmul::primitive_desc pd(const Shape& x) const {
    const int64_t rows = shape_elements(x) / K;
    dnnl::memory::desc src({rows, K}, to_dnnl(xt), tag::ab);
    dnnl::memory::desc dst({rows, N}, to_dnnl(yt), tag::ab);
    dnnl::memory::desc wei({K, N}, user_w_md.data_type(), tag::any);
    if (has_bias) {
      dnnl::memory::desc bias({1, N}, prec == Precision::Float ? dt::f32 : dt::s32, tag::ab);
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, bias, dst), attr, engine());
    }
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, engine());
  }
};

class FcOnednn final : public CachedKernel {
 public:
  explicit FcOnednn(const KernelContext& ctx)
      : CachedKernel(ctx), s_(ctx), weights_(s_.user_w_md, ctx.input(1).data) {
    if (ctx.has_input(2)) bias_data_ = const_cast<uint8_t*>(ctx.input(2).data);
    if (s_.zp_x != 0) {
      const auto sums = q::weight_row_sums(reinterpret_cast<const int8_t*>(ctx.input(1).data), s_.N, s_.K);
      if (!q::fold_zero_point(sums, static_cast<const int32_t*>(bias_data_), s_.zp_x, &folded_bias_))
        node_error(ctx.node, "bias with the input zero point folded in overflows int32");
      bias_data_ = folded_bias_.data();
    }
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    auto pd = s_.pd(in[0]);
    Prim p;
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) return p;
    p.prim = dnnl::matmul(pd);
    const auto& eng = engine();
    p.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_WEIGHTS] = weights_.get(pd.weights_desc(), stream_);
    if (s_.has_bias) p.args[DNNL_ARG_BIAS] = dnnl::memory(pd.bias_desc(), eng, bias_data_);
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(a.in[0]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  FcSetup s_;
  PackedWeights weights_;
  void* bias_data_ = nullptr;
  std::vector<int32_t> folded_bias_;
};


}  // namespace

Support fc_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (n.precision == Precision::Int8Dynamic) return Support::no("dynamic int8 runs on octet's x86 kernel");
  if (n.precision == Precision::Int8Static) {
    // An s8 X needs no care here: oneDNN's matmul adds 128 to it and compensates, without
    // touching the weights, so [-64, 64] weights stay exact (onednn_common.h). Beyond that,
    // without VNNI, the next implementation (octet's exact simd kernel) runs the node.
    const std::string unsafe = int8_weights_unsafe(ctx.input(1));
    if (!unsafe.empty()) return Support::no(unsafe);
  }
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  FcSetup s(ctx);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "fully-connected matmul", [&](const std::vector<Shape>& in, const std::vector<Shape>&) {
    return std::string(s.pd(in[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_fc(const KernelContext& ctx) { return std::make_unique<FcOnednn>(ctx); }

}  // namespace octet::onednn
