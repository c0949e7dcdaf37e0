// MatMul (two activations, numpy batch broadcasting) on oneDNN's matmul. Ranks are padded with
// leading 1s so A, B and Y have the same rank; oneDNN broadcasts batch dimensions of size 1.
// Float, and static int8 when B is s8 (oneDNN's int8 matmul takes u8/s8 A and s8 B): both zero
// points are runtime zero-point attributes, the output scale is s_a s_b (see onednn_common.h).
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"

namespace octet::onednn {

namespace {

Shape pad_rank(const Shape& s, size_t rank) {
  Shape r(rank - s.size(), 1);
  r.insert(r.end(), s.begin(), s.end());
  return r;
}

struct MatMulSetup {
  Precision prec;
  DataType at, bt, yt;
  int32_t zp_a = 0, zp_b = 0;
  std::string unsupported;
  dnnl::primitive_attr attr;

  explicit MatMulSetup(const KernelContext& ctx) : prec(ctx.node.precision) {
    const TensorDef& a = ctx.input(0);
    const TensorDef& b = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    at = a.dtype, bt = b.dtype, yt = y.dtype;
    if (prec == Precision::Int8Static) {
      zp_a = a.quant.zero_point[0], zp_b = b.quant.zero_point[0];
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], 0.f, nullptr,
                                 static_cast<int>(std::max<size_t>(y.shape.size(), 2)), /*round_first=*/true);
      unsupported = q.unsupported;
      attr.set_output_scales(0, {a.quant.scale[0] * b.quant.scale[0] * q.factor});
      if (zp_a) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
      if (zp_b) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {DNNL_RUNTIME_S32_VAL});
      attr.set_post_ops(q.po);
    } else {
      attr.set_post_ops(float_chain(ctx.node.activation, false));
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  dnnl::matmul::primitive_desc pd(const Shape& a, const Shape& b, const Shape& y) const {
    const size_t rank = std::max<size_t>(y.size(), 2);
    dnnl::memory::desc am = plain_desc(pad_rank(a, rank), at), bm = plain_desc(pad_rank(b, rank), bt);
    dnnl::memory::desc ym = plain_desc(pad_rank(y, rank), yt);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(am, bm, ym), attr, engine());
  }
};

class MatMulOnednn final : public CachedKernel {
 public:
  explicit MatMulOnednn(const KernelContext& ctx) : CachedKernel(ctx), s_(ctx) {
    zp_a_ = s_.zp_a, zp_b_ = s_.zp_b;
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    auto pd = s_.pd(in[0], in[1], out[0]);
    Prim p;
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) return p;
    p.prim = dnnl::matmul(pd);
    const auto& eng = engine();
    p.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_WEIGHTS] = dnnl::memory(pd.weights_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    const dnnl::memory::desc one({1}, dt::s32, tag::x);
    if (s_.zp_a) p.args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = dnnl::memory(one, eng, &zp_a_);
    if (s_.zp_b) p.args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_WEIGHTS] = dnnl::memory(one, eng, &zp_b_);
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(a.in[0]->data);
    p.args[DNNL_ARG_WEIGHTS].set_data_handle(a.in[1]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  MatMulSetup s_;
  int32_t zp_a_ = 0, zp_b_ = 0;
};

}  // namespace

Support matmul_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (n.precision == Precision::Int8Dynamic) return Support::no("dynamic int8 runs on octet's x86 kernel");
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  if (n.precision == Precision::Int8Static && ctx.input(1).dtype != DataType::s8)
    return Support::no("oneDNN's int8 matmul needs an s8 B operand (B is " + std::string(dtype_name(ctx.input(1).dtype)) + ")");
  if (ctx.input(0).shape.size() > DNNL_MAX_NDIMS || ctx.input(1).shape.size() > DNNL_MAX_NDIMS)
    return Support::no("rank above oneDNN's limit of " + std::to_string(DNNL_MAX_NDIMS));
  if (n.precision == Precision::Int8Static) {
    // Without VNNI only a constant B within [-64, 64] is exact (onednn_common.h); activation x
    // activation int8 MatMul then runs on the reference kernel. A B zero point is conservatively
    // refused too: whether oneDNN subtracts it before or after the int16 pair sums is not ours to rely on.
    std::string unsafe = int8_weights_unsafe(ctx.input(1));
    if (unsafe.empty() && !isa_has_vnni() && ctx.input(1).quant.zero_point[0] != 0)
      unsafe = "int8 B with a non-zero zero point may exceed the 7-bit range that oneDNN's AVX2 (non-VNNI) kernels compute exactly";
    if (!unsafe.empty()) return Support::no(unsafe);
  }
  MatMulSetup s(ctx);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "matmul", [&](const std::vector<Shape>& in, const std::vector<Shape>& out) {
    return std::string(s.pd(in[0], in[1], out[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx) { return std::make_unique<MatMulOnednn>(ctx); }

}  // namespace octet::onednn
