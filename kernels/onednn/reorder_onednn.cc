// Transpose, Slice, QuantizeLinear and DequantizeLinear (per tensor) as oneDNN reorders: JIT-compiled
// strided copies with an optional scale and zero point, several times faster than the reference
// element loops (the NCHW -> NHWC transpose and quantization of a network's input image; the
// head transposes and Q/K/V slices of attention). Transpose describes X by its strides in Y's
// dimension order; Slice by its strides times the steps, the data pointer moved to the start.
// Quantization: y = saturate(round_half_even(x * (1 / s) + zp)) as the reference; oneDNN may add
// the zero point after rounding, which differs from it by 1 LSB on exact ties only (the tests
// allow that). NaN quantizes to the lowest code, as in the reference, for u8 outputs (s8 ones stay
// on the reference kernel).
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"
#include "ops/params.h"

namespace octet::onednn {

namespace {

bool is_q8(DataType t) { return t == DataType::u8 || t == DataType::s8; }
bool copyable(DataType t) { return t == DataType::f32 || t == DataType::u8 || t == DataType::s8 || t == DataType::s32; }

class ReorderOnednn final : public CachedKernel {
 public:
  explicit ReorderOnednn(const KernelContext& ctx) : CachedKernel(ctx) {
    xt_ = ctx.input(0).dtype, yt_ = ctx.output(0).dtype;
    if (ctx.node.op == OpKind::Transpose) perm_ = ctx.node.attrs.get_ints("perm", {});
    if (ctx.node.op == OpKind::Slice) slice_ = parse_slice(ctx.node);
    if (ctx.node.op == OpKind::QuantizeLinear) {
      attr_.set_output_scales(0, {1.f / ctx.output(0).quant.scale[0]});
      if (int32_t zp = ctx.output(0).quant.zero_point[0]) attr_.set_zero_points(DNNL_ARG_DST, 0, {zp});
    } else if (ctx.node.op == OpKind::DequantizeLinear) {
      attr_.set_output_scales(0, {ctx.input(0).quant.scale[0]});
      if (int32_t zp = ctx.input(0).quant.zero_point[0]) attr_.set_zero_points(DNNL_ARG_SRC, 0, {zp});
    }
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    const Shape& x = in[0];
    const Shape& y = out[0];
    Prim p;
    if (shape_elements(y) == 0) {
      p.impl = "empty";
      return p;
    }
    dnnl::memory::desc src = plain_desc(x, xt_);
    const size_t r = x.size();
    std::vector<int64_t> xs(r, 1);   // X's row-major strides
    for (size_t d = r; d-- > 1;) xs[d - 1] = xs[d] * x[d];
    if (node_.op == OpKind::Transpose) {
      std::vector<int64_t> perm = perm_;
      if (perm.empty())
        for (size_t d = r; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
      dnnl::memory::dims dims(y.begin(), y.end()), strides(r);
      for (size_t d = 0; d < r; ++d) strides[d] = xs[static_cast<size_t>(perm[d])];
      src = dnnl::memory::desc(dims, to_dnnl(xt_), strides);
    } else if (node_.op == OpKind::Slice) {
      const SliceDims d = resolve_slice(slice_, x, node_);
      dnnl::memory::dims dims(d.count.begin(), d.count.end()), strides(r);
      for (size_t k = 0; k < r; ++k) {
        if (d.step[k] < 0) throw dnnl::error(dnnl_unimplemented, "negative slice steps");
        strides[k] = xs[k] * d.step[k];
      }
      src = dnnl::memory::desc(dims, to_dnnl(xt_), strides);
      int64_t off = 0;   // the first element the slice reads
      for (size_t k = 0; k < r; ++k) off += d.start[k] * xs[k];
      p.src_offset = static_cast<size_t>(off) * dtype_size(xt_);
    }
    dnnl::reorder::primitive_desc pd(engine(), src, engine(), plain_desc(y, yt_), attr_);
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) {   // oneDNN's naive loop: the reference kernel is as good
      p.declined = true;
      p.why = "oneDNN has only its reference reorder (" + p.impl + ") for this case";
      return p;
    }
    p.prim = dnnl::reorder(pd);
    p.args[DNNL_ARG_SRC] = dnnl::memory(src, engine(), DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), engine(), DNNL_MEMORY_NONE);
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    void* x = static_cast<char*>(a.in[0]->data) + p.src_offset;
    p.args[DNNL_ARG_SRC].set_data_handle(x);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  DataType xt_, yt_;
  std::vector<int64_t> perm_;
  SliceParams slice_;
  dnnl::primitive_attr attr_;
};

}  // namespace

Support reorder_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  const TensorDef& x = ctx.input(0);
  const TensorDef& y = ctx.output(0);
  if (x.shape.size() > DNNL_MAX_NDIMS) return Support::no("rank above oneDNN's limit");
  if (n.op == OpKind::Transpose || n.op == OpKind::Slice) {
    if (!copyable(x.dtype)) return Support::no(std::string("oneDNN reorder has no ") + dtype_name(x.dtype));
    if (is_q8(x.dtype) && (x.quant.scale != y.quant.scale || x.quant.zero_point != y.quant.zero_point))
      return Support::no("a copy that requantizes stays on the reference");
  } else if (n.op == OpKind::QuantizeLinear) {
    // s8 stays on the reference: oneDNN's f32 -> s8 turns NaN into +127, not the lowest code.
    if (x.dtype != DataType::f32 || y.dtype != DataType::u8) return Support::no("QuantizeLinear on oneDNN: f32 -> u8 only");
    if (y.quant.axis >= 0) return Support::no("per-channel QuantizeLinear stays on the reference");
  } else if (n.op == OpKind::DequantizeLinear) {
    if (!is_q8(x.dtype) || y.dtype != DataType::f32) return Support::no("DequantizeLinear u8/s8 -> f32 only");
    if (x.quant.axis >= 0) return Support::no("per-channel DequantizeLinear stays on the reference");
  } else {
    return Support::no("not a reorder");
  }
  return Support::yes();   // a case oneDNN only has its reference reorder for falls back at build time
}

std::unique_ptr<Kernel> make_reorder(const KernelContext& ctx) { return std::make_unique<ReorderOnednn>(ctx); }

}  // namespace octet::onednn
