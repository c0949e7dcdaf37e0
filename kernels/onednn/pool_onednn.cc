// MaxPool, AveragePool and GlobalAveragePool on oneDNN's pooling (NHWC). Input and output share
// their quantization, so oneDNN pools the codes directly: max compares codes; the average of codes
// equals the reference's round(sum(x - zp) / count + zp) when only real elements are counted.
// Refused: dilation (oneDNN has only a reference kernel for it) and int8 averages that count
// padding with a non-zero zero point (oneDNN pads with code 0, octet with real zero = code zp).
// ceil_mode is expressed by extending the right/bottom padding; an average counting padding then
// differs (the reference's window stops at the padded edge), so that shape runs on the reference.
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "ops/params.h"

namespace octet::onednn {

namespace {

class PoolOnednn final : public CachedKernel {
 public:
  explicit PoolOnednn(const KernelContext& ctx) : CachedKernel(ctx) {
    global_ = ctx.node.op == OpKind::GlobalAveragePool;
    if (!global_) p_ = parse_pool(ctx.node);
    t_ = ctx.input(0).dtype;
    if (ctx.node.op == OpKind::MaxPool) alg_ = dnnl::algorithm::pooling_max;
    else if (!global_ && p_.count_include_pad) alg_ = dnnl::algorithm::pooling_avg_include_padding;
    else alg_ = dnnl::algorithm::pooling_avg_exclude_padding;
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    const Shape& x = in[0];
    const Shape& y = out[0];
    PoolParams p = p_;
    if (global_) p.kernel_h = x[1], p.kernel_w = x[2];
    // Bottom/right padding as oneDNN computes the output size: (H + pt + pb - k) / s + 1.
    const int64_t pb = std::max<int64_t>(0, (y[1] - 1) * p.stride_h + p.kernel_h - x[1] - p.pad_t);
    const int64_t pr = std::max<int64_t>(0, (y[2] - 1) * p.stride_w + p.kernel_w - x[2] - p.pad_l);
    Prim prim;
    if (alg_ == dnnl::algorithm::pooling_avg_include_padding && (pb > p.pad_b || pr > p.pad_r)) {
      prim.declined = true;
      prim.why = "ceil_mode with count_include_pad";
      return prim;
    }
    dnnl::memory::desc src({x[0], x[3], x[1], x[2]}, to_dnnl(t_), tag::nhwc);
    dnnl::memory::desc dst({y[0], y[3], y[1], y[2]}, to_dnnl(t_), tag::nhwc);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    using pf = dnnl::pooling_forward;
    pf::primitive_desc pd(pf::desc(dnnl::prop_kind::forward_inference, alg_, src, dst, {p.stride_h, p.stride_w},
                                   {p.kernel_h, p.kernel_w}, {p.pad_t, p.pad_l}, {pb, pr}),
                          attr, engine());
    prim.impl = pd.impl_info_str();
    if (is_ref_impl(prim.impl)) return prim;
    prim.prim = pf(pd);
    prim.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), engine(), DNNL_MEMORY_NONE);
    prim.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), engine(), DNNL_MEMORY_NONE);
    add_scratchpad(prim, pd.scratchpad_desc());
    return prim;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(a.in[0]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  bool global_ = false;
  PoolParams p_;
  DataType t_ = DataType::f32;
  dnnl::algorithm alg_ = dnnl::algorithm::pooling_max;
};

}  // namespace

Support pool_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  const TensorDef& x = ctx.input(0);
  if (n.op == OpKind::GlobalAveragePool) return Support::yes();
  PoolParams p = parse_pool(n);
  if (p.dil_h != 1 || p.dil_w != 1) return Support::no("dilated pooling has only oneDNN's reference implementation");
  const bool padded = p.pad_t || p.pad_l || p.pad_b || p.pad_r || p.ceil_mode;
  if (n.op == OpKind::AveragePool && p.count_include_pad && padded && x.dtype != DataType::f32 && x.quant.zero_point[0] != 0)
    return Support::no("int8 average counting padding with a non-zero zero point (oneDNN pads with code 0)");
  return Support::yes();
}

std::unique_ptr<Kernel> make_pool(const KernelContext& ctx) { return std::make_unique<PoolOnednn>(ctx); }

}  // namespace octet::onednn
