// MaxPool (f32, s8, u8), AveragePool and GlobalAveragePool (f32) on XNNPACK (NHWC). Input and
// output share their quantization (docs/format.md), so max pooling compares codes. 8-bit
// averages are refused: XNNPACK's qu8/qs8 operators multiply by a fixed-point 1/count and can
// round a mean 1 code away from the reference, which the next layers amplify; the reference
// kernel keeps one model file's answers equal on x86 and ARM.
//
// Padding semantics decide what else is refused:
//  - max pooling never reads padding: any padding, dilation and ceil_mode;
//  - f32 average pooling divides by the taps inside the image (XNNPACK's pixelwise divisor),
//    i.e. count_include_pad = 0; with count_include_pad = 1 it runs only unpadded.
// ceil_mode becomes extra bottom/right padding, which depends on the input size: the operator is
// recreated in reshape() when that padding changes (only spatial changes can change it).
#include <algorithm>

#include "ops/params.h"
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

struct PoolPlan {
  bool max = false, global = false;
  DataType t = DataType::f32;
  PoolParams p;
};

PoolPlan plan_of(const KernelContext& ctx) {
  PoolPlan pl;
  pl.max = ctx.node.op == OpKind::MaxPool;
  pl.global = ctx.node.op == OpKind::GlobalAveragePool;
  if (!pl.global) pl.p = parse_pool(ctx.node);
  const TensorDef& x = ctx.input(0);
  pl.t = x.dtype;
  return pl;
}

// Creates the windowed pooling operator with bottom/right padding pb/pr.
xnn_status create_window(const PoolPlan& pl, size_t C, uint32_t pb, uint32_t pr, xnn_operator_t* op) {
  const PoolParams& p = pl.p;
  const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
  if (pl.max) {
    switch (pl.t) {
      case DataType::f32:
        return xnn_create_max_pooling2d_nhwc_f32(u(p.pad_t), pr, pb, u(p.pad_l), u(p.kernel_h), u(p.kernel_w), u(p.stride_h),
                                                 u(p.stride_w), u(p.dil_h), u(p.dil_w), C, C, C, -INFINITY, INFINITY, 0, op);
      case DataType::s8:
        return xnn_create_max_pooling2d_nhwc_s8(u(p.pad_t), pr, pb, u(p.pad_l), u(p.kernel_h), u(p.kernel_w), u(p.stride_h),
                                                u(p.stride_w), u(p.dil_h), u(p.dil_w), C, C, C, -128, 127, 0, op);
      default:
        return xnn_create_max_pooling2d_nhwc_u8(u(p.pad_t), pr, pb, u(p.pad_l), u(p.kernel_h), u(p.kernel_w), u(p.stride_h),
                                                u(p.stride_w), u(p.dil_h), u(p.dil_w), C, C, C, 0, 255, 0, op);
    }
  }
  return xnn_create_average_pooling2d_nhwc_f32(u(p.pad_t), pr, pb, u(p.pad_l), u(p.kernel_h), u(p.kernel_w), u(p.stride_h),
                                               u(p.stride_w), C, C, C, -INFINITY, INFINITY, 0, op);
}

xnn_status create_global(size_t C, xnn_operator_t* op) {
  return xnn_create_global_average_pooling_nwc_f32(C, C, C, -INFINITY, INFINITY, 0, op);
}

// Bottom (right) padding that makes XNNPACK's floor((in + pads - span) / stride) + 1 give `out`.
int64_t end_pad(int64_t in, int64_t out, int64_t k, int64_t s, int64_t dil, int64_t pad_begin, int64_t pad_end) {
  return std::max<int64_t>(pad_end, (out - 1) * s + dil * (k - 1) + 1 - in - pad_begin);
}

class PoolXnn final : public XnnKernel {
 public:
  PoolXnn(const KernelContext& ctx) : XnnKernel(ctx), pl_(plan_of(ctx)) {
    C_ = static_cast<size_t>(ctx.input(0).shape[3]);
    if (pl_.global) {
      xnn_operator_t op = nullptr;
      check(create_global(C_, &op), node_, "create global average pooling");
      op_.reset(op);
    } else {
      recreate(static_cast<uint32_t>(pl_.p.pad_b), static_cast<uint32_t>(pl_.p.pad_r));
    }
    const char* tn = pl_.t == DataType::f32 ? "f32" : pl_.t == DataType::s8 ? "s8" : "u8";
    detail_ = std::string() + (pl_.global ? "global_average_pooling_nwc_" : pl_.max ? "max_pooling2d_nhwc_" : "average_pooling2d_nhwc_") + tn;
  }

  Support reshape(const KernelArgs& a) override {
    if (pl_.global) return Support::yes();
    const Shape &x = a.in[0]->shape, &y = a.out[0]->shape;
    const PoolParams& p = pl_.p;
    const uint32_t pb = static_cast<uint32_t>(end_pad(x[1], y[1], p.kernel_h, p.stride_h, p.dil_h, p.pad_t, p.pad_b));
    const uint32_t pr = static_cast<uint32_t>(end_pad(x[2], y[2], p.kernel_w, p.stride_w, p.dil_w, p.pad_l, p.pad_r));
    if (pb != pb_ || pr != pr_) recreate(pb, pr);
    return Support::yes();
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const size_t N = static_cast<size_t>(x.shape[0]), H = static_cast<size_t>(x.shape[1]), W = static_cast<size_t>(x.shape[2]);
    xnn_status s;
    if (pl_.global) {
      s = xnn_setup_global_average_pooling_nwc_f32(op_.get(), N, H * W, x.as<float>(), y.as<float>(), pool());
    } else if (pl_.max) {
      switch (pl_.t) {
        case DataType::f32:
          s = xnn_setup_max_pooling2d_nhwc_f32(op_.get(), N, H, W, x.as<float>(), y.as<float>(), pool());
          break;
        case DataType::s8:
          s = xnn_setup_max_pooling2d_nhwc_s8(op_.get(), N, H, W, x.as<int8_t>(), y.as<int8_t>(), pool());
          break;
        default:
          s = xnn_setup_max_pooling2d_nhwc_u8(op_.get(), N, H, W, x.as<uint8_t>(), y.as<uint8_t>(), pool());
      }
    } else {
      s = xnn_setup_average_pooling2d_nhwc_f32(op_.get(), N, H, W, x.as<float>(), y.as<float>(), pool());
    }
    check(s, node_, "pooling setup");
    run_op(op_.get());
  }

 private:
  void recreate(uint32_t pb, uint32_t pr) {
    xnn_operator_t op = nullptr;
    check(create_window(pl_, C_, pb, pr, &op), node_, "create pooling");
    op_.reset(op);
    pb_ = pb, pr_ = pr;
  }

  PoolPlan pl_;
  size_t C_ = 0;
  uint32_t pb_ = 0, pr_ = 0;
  Op op_;
};

}  // namespace

Support pool_supports(const KernelContext& ctx) {
  const PoolPlan pl = plan_of(ctx);
  const size_t C = static_cast<size_t>(ctx.input(0).shape[3]);
  xnn_operator_t op = nullptr;
  xnn_status s;
  if (pl.global) {
    s = create_global(C, &op);
  } else {
    const PoolParams& p = pl.p;
    const bool padded = p.pad_t || p.pad_l || p.pad_b || p.pad_r;
    if (!pl.max) {
      if (p.dil_h != 1 || p.dil_w != 1) return Support::no("dilated average pooling has no XNNPACK operator");
      if (p.count_include_pad && (padded || p.ceil_mode))
        return Support::no("f32 average counting padding (XNNPACK's divisor excludes padding)");
    }
    // The remaining limits (1x1 windows, stride larger than the window, scale ranges) are
    // XNNPACK's own: ask it with the declared padding.
    s = create_window(pl, C, static_cast<uint32_t>(p.pad_b), static_cast<uint32_t>(p.pad_r), &op);
  }
  if (op) xnn_delete_operator(op);
  if (s != xnn_status_success) return Support::no(std::string("XNNPACK refuses this pooling: ") + status_name(s));
  return Support::yes();
}

std::unique_ptr<Kernel> make_pooling(const KernelContext& ctx) {
  return std::make_unique<PoolXnn>(ctx);
}

}  // namespace octet::xnn
