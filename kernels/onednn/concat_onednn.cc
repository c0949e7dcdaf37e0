// Concat on oneDNN's concat primitive (plain row-major layouts, any axis). In int8 only when
// every input has the output's scale and zero point (a pure copy of codes); otherwise the node is
// refused so the reference requantizes. Empty inputs are left out of the primitive.
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"

namespace octet::onednn {

namespace {

class ConcatOnednn final : public CachedKernel {
 public:
  explicit ConcatOnednn(const KernelContext& ctx) : CachedKernel(ctx) {
    t_ = ctx.output(0).dtype;
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    const Shape& y = out[0];
    const int axis = static_cast<int>(normalize_axis(node_.attrs.get_int("axis"), static_cast<int64_t>(y.size()), node_));
    std::vector<dnnl::memory::desc> srcs;
    Prim p;
    for (size_t i = 0; i < in.size(); ++i) {
      if (shape_elements(in[i]) == 0) continue;
      srcs.push_back(plain_desc(in[i], t_));
    }
    if (srcs.empty()) {   // nothing to copy: an empty output
      p.impl = "empty";
      return p;
    }
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::concat::primitive_desc pd(plain_desc(y, t_), axis, srcs, engine(), attr);
    p.impl = pd.impl_info_str();
    p.prim = dnnl::concat(pd);
    for (size_t j = 0; j < srcs.size(); ++j)
      p.args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(j)] = dnnl::memory(pd.src_desc(static_cast<int>(j)), engine(), DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), engine(), DNNL_MEMORY_NONE);
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    // The inputs this primitive concatenates: those non-empty for its shapes.
    size_t j = 0;
    for (size_t i = 0; i < a.in.size(); ++i) {
      if (a.in[i]->elements() == 0) continue;
      p.args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(j++)].set_data_handle(a.in[i]->data);
    }
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  DataType t_;
};

}  // namespace

Support concat_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  const TensorDef& y = ctx.output(0);
  if (y.dtype != DataType::f32 && y.dtype != DataType::u8 && y.dtype != DataType::s8 && y.dtype != DataType::s32)
    return Support::no(std::string("oneDNN concat has no ") + dtype_name(y.dtype));
  if (y.shape.size() > DNNL_MAX_NDIMS) return Support::no("rank above oneDNN's limit");
  if (y.dtype == DataType::u8 || y.dtype == DataType::s8) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const TensorDef& x = ctx.input(i);
      if (x.quant.scale[0] != y.quant.scale[0] || x.quant.zero_point[0] != y.quant.zero_point[0])
        return Support::no("input '" + x.name + "' has other quantization than the output (requantizing concat stays on the reference)");
    }
  }
  return Support::yes();
}

std::unique_ptr<Kernel> make_concat(const KernelContext& ctx) { return std::make_unique<ConcatOnednn>(ctx); }

}  // namespace octet::onednn
