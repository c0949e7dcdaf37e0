// Float unary ops on XNNPACK's nc operators: Relu and Clip (clamp), LeakyRelu, Sigmoid,
// HardSwish, Abs, Neg, Sqrt. The tensor is one contiguous row of `elements` values (channels 1,
// batch = elements: XNNPACK treats contiguous rows as a single block). Int8 unary ops are not
// taken: the reference's 256-entry table is already exact and as fast; Tanh has no f32 operator in
// this XNNPACK version.
#include <cmath>

#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

xnn_status create_unary(const NodeDef& n, xnn_operator_t* op) {
  switch (n.op) {
    case OpKind::Relu: return xnn_create_clamp_nc_f32(1, 1, 1, 0.f, INFINITY, 0, op);
    case OpKind::Clip:
      return xnn_create_clamp_nc_f32(1, 1, 1, n.attrs.get_float("min", -INFINITY), n.attrs.get_float("max", INFINITY), 0, op);
    case OpKind::LeakyRelu: return xnn_create_leaky_relu_nc_f32(1, 1, 1, n.attrs.get_float("alpha", 0.01f), 0, op);
    case OpKind::Sigmoid: return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op);
    case OpKind::HardSwish: return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op);
    case OpKind::Abs: return xnn_create_abs_nc_f32(1, 1, 1, 0, op);
    case OpKind::Neg: return xnn_create_negate_nc_f32(1, 1, 1, 0, op);
    case OpKind::Sqrt: return xnn_create_square_root_nc_f32(1, 1, 1, 0, op);
    default: return xnn_status_unsupported_parameter;
  }
}

using SetupFn = xnn_status (*)(xnn_operator_t, size_t, const float*, float*, pthreadpool_t);

SetupFn setup_for(OpKind k) {
  switch (k) {
    case OpKind::Relu: case OpKind::Clip: return xnn_setup_clamp_nc_f32;
    case OpKind::LeakyRelu: return xnn_setup_leaky_relu_nc_f32;
    case OpKind::Sigmoid: return xnn_setup_sigmoid_nc_f32;
    case OpKind::HardSwish: return xnn_setup_hardswish_nc_f32;
    case OpKind::Abs: return xnn_setup_abs_nc_f32;
    case OpKind::Neg: return xnn_setup_negate_nc_f32;
    default: return xnn_setup_square_root_nc_f32;
  }
}

class UnaryXnn final : public XnnKernel {
 public:
  explicit UnaryXnn(const KernelContext& ctx) : XnnKernel(ctx), setup_(setup_for(ctx.node.op)) {
    xnn_operator_t op = nullptr;
    check(create_unary(ctx.node, &op), node_, "create unary operator");
    op_.reset(op);
    detail_ = std::string() + op_name(ctx.node.op) + "_nc_f32";
  }
  void run(const KernelArgs& a) override {
    check(setup_(op_.get(), static_cast<size_t>(a.in[0]->elements()), a.in[0]->as<float>(), a.out[0]->as<float>(), pool()),
          node_, "unary setup");
    run_op(op_.get());
  }

 private:
  SetupFn setup_;
  Op op_;
};

}  // namespace

Support unary_supports(const KernelContext& ctx) {
  xnn_operator_t op = nullptr;
  const xnn_status s = create_unary(ctx.node, &op);
  if (op) xnn_delete_operator(op);
  if (s != xnn_status_success)
    return Support::no(std::string(op_name(ctx.node.op)) + " has no f32 XNNPACK operator in octet (" + status_name(s) + ")");
  return Support::yes();
}

std::unique_ptr<Kernel> make_unary(const KernelContext& ctx) { return std::make_unique<UnaryXnn>(ctx); }

}  // namespace octet::xnn
