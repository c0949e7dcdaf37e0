// Add, Sub and Mul on XNNPACK's N-d operators (numpy broadcasting up to XNN_MAX_TENSOR_DIMS), in
// f32 and static int8. The int8 operator type follows the output (qs8 for s8, qu8 for u8); an
// operand of the other signedness is flipped into a scratch buffer (xnnpack_common.h). Only
// Relu/Clip fuse (as the output clamp). XNNPACK limits the scale ratios (add: s_a/s_y and s_b/s_y
// in [2^-10, 2^8); mul: s_a s_b / s_y in [2^-16, 2^8)); supports() asks XNNPACK by creating the
// operator. Its fixed-point add and float-requantized mul may differ from the reference's float
// arithmetic by 1 code.
#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

struct Operand {
  float scale = 1.f;
  int32_t zp = 0;   // in the operator's signedness
  bool flip = false;
};

Operand operand(const TensorDef& t, DataType op_type) {
  Operand o;
  if (t.dtype == DataType::f32) return o;
  o.scale = t.quant.scale[0];
  o.flip = t.dtype != op_type;
  o.zp = t.quant.zero_point[0] + (o.flip ? (op_type == DataType::s8 ? -128 : 128) : 0);
  return o;
}

xnn_status create_binary(const KernelContext& ctx, xnn_operator_t* op) {
  const OpKind k = ctx.node.op;
  const TensorDef& y = ctx.output(0);
  if (y.dtype == DataType::f32) {
    float lo, hi;
    float_clamp(ctx.node.activation, &lo, &hi);
    if (k == OpKind::Add) return xnn_create_add_nd_f32(lo, hi, 0, op);
    if (k == OpKind::Sub) return xnn_create_subtract_nd_f32(lo, hi, 0, op);
    return xnn_create_multiply_nd_f32(lo, hi, 0, op);
  }
  const bool s8 = y.dtype == DataType::s8;
  const Operand a = operand(ctx.input(0), y.dtype), b = operand(ctx.input(1), y.dtype);
  const float sy = y.quant.scale[0];
  const int32_t zy = y.quant.zero_point[0];
  int32_t lo, hi;
  if (!code_clamp(ctx.node.activation, sy, zy, s8 ? -128 : 0, s8 ? 127 : 255, &lo, &hi)) return xnn_status_unsupported_parameter;
  if (s8) {
    const int8_t za = static_cast<int8_t>(a.zp), zb = static_cast<int8_t>(b.zp), zo = static_cast<int8_t>(zy);
    const int8_t l = static_cast<int8_t>(lo), h = static_cast<int8_t>(hi);
    if (k == OpKind::Add) return xnn_create_add_nd_qs8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
    if (k == OpKind::Sub) return xnn_create_subtract_nd_qs8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
    return xnn_create_multiply_nd_qs8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
  }
  const uint8_t za = static_cast<uint8_t>(a.zp), zb = static_cast<uint8_t>(b.zp), zo = static_cast<uint8_t>(zy);
  const uint8_t l = static_cast<uint8_t>(lo), h = static_cast<uint8_t>(hi);
  if (k == OpKind::Add) return xnn_create_add_nd_qu8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
  if (k == OpKind::Sub) return xnn_create_subtract_nd_qu8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
  return xnn_create_multiply_nd_qu8(za, a.scale, zb, b.scale, zo, sy, l, h, 0, op);
}

using SetupFn = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*, const void*, const void*,
                               void*, pthreadpool_t);

// The typed setup functions behind one signature (the pointer types differ only by element type).
template <class T, xnn_status (*F)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*, const T*, const T*, T*,
                                   pthreadpool_t)>
xnn_status setup_as(xnn_operator_t op, size_t na, const size_t* sa, size_t nb, const size_t* sb, const void* a, const void* b,
                    void* y, pthreadpool_t pool) {
  return F(op, na, sa, nb, sb, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), pool);
}

SetupFn setup_for(OpKind k, DataType t) {
  switch (t) {
    case DataType::f32:
      return k == OpKind::Add ? setup_as<float, xnn_setup_add_nd_f32>
           : k == OpKind::Sub ? setup_as<float, xnn_setup_subtract_nd_f32>
                              : setup_as<float, xnn_setup_multiply_nd_f32>;
    case DataType::s8:
      return k == OpKind::Add ? setup_as<int8_t, xnn_setup_add_nd_qs8>
           : k == OpKind::Sub ? setup_as<int8_t, xnn_setup_subtract_nd_qs8>
                              : setup_as<int8_t, xnn_setup_multiply_nd_qs8>;
    default:
      return k == OpKind::Add ? setup_as<uint8_t, xnn_setup_add_nd_qu8>
           : k == OpKind::Sub ? setup_as<uint8_t, xnn_setup_subtract_nd_qu8>
                              : setup_as<uint8_t, xnn_setup_multiply_nd_qu8>;
  }
}

class BinaryXnn final : public XnnKernel {
 public:
  BinaryXnn(const KernelContext& ctx) : XnnKernel(ctx) {
    const DataType t = ctx.output(0).dtype;
    flip_a_ = operand(ctx.input(0), t).flip;
    flip_b_ = operand(ctx.input(1), t).flip;
    xnn_operator_t op = nullptr;
    check(create_binary(ctx, &op), node_, "create binary operator");
    op_.reset(op);
    setup_ = setup_for(ctx.node.op, t);
    const char* name = ctx.node.op == OpKind::Add ? "add" : ctx.node.op == OpKind::Sub ? "subtract" : "multiply";
    detail_ = std::string() + name + "_nd_" + (t == DataType::f32 ? "f32" : t == DataType::s8 ? "qs8" : "qu8");
    if (flip_a_ || flip_b_) detail_ += " (flipped operand)";
  }

  void run(const KernelArgs& args) override {
    const Tensor& a = *args.in[0];
    const Tensor& b = *args.in[1];
    size_t sa[XNN_MAX_TENSOR_DIMS], sb[XNN_MAX_TENSOR_DIMS];
    for (size_t i = 0; i < a.shape.size(); ++i) sa[i] = static_cast<size_t>(a.shape[i]);
    for (size_t i = 0; i < b.shape.size(); ++i) sb[i] = static_cast<size_t>(b.shape[i]);
    // Flipped copies are taken before the run, so in-place output (Y sharing A's or B's memory)
    // stays correct.
    const void* pa = flip_a_ ? flipped(a, a_buf_) : a.data;
    const void* pb = flip_b_ ? flipped(b, b_buf_) : b.data;
    check(setup_(op_.get(), a.shape.size(), sa, b.shape.size(), sb, pa, pb, args.out[0]->data, pool()), node_,
          "binary setup");
    run_op(op_.get());
  }

 private:
  static const void* flipped(const Tensor& t, Scratch& buf) {
    void* p = buf.reserve(t.bytes());
    flip_sign(t.data, p, t.bytes());
    return p;
  }

  Op op_;
  SetupFn setup_ = nullptr;
  bool flip_a_ = false, flip_b_ = false;
  Scratch a_buf_, b_buf_;
};

}  // namespace

Support binary_supports(const KernelContext& ctx) {
  const TensorDef &a = ctx.input(0), &b = ctx.input(1), &y = ctx.output(0);
  if (y.dtype != DataType::f32 && y.dtype != DataType::u8 && y.dtype != DataType::s8)
    return Support::no(std::string("binary ops on ") + dtype_name(y.dtype) + " have no XNNPACK operator");
  if ((a.dtype == DataType::f32) != (y.dtype == DataType::f32) || (b.dtype == DataType::f32) != (y.dtype == DataType::f32))
    return Support::no("mixed float and int8 operands");
  if (a.shape.size() > XNN_MAX_TENSOR_DIMS || b.shape.size() > XNN_MAX_TENSOR_DIMS)
    return Support::no("rank above XNNPACK's " + std::to_string(XNN_MAX_TENSOR_DIMS));
  Support s = clamp_supported(ctx.node.activation);
  if (!s.ok) return s;
  xnn_operator_t op = nullptr;
  const xnn_status st = create_binary(ctx, &op);
  if (op) xnn_delete_operator(op);
  if (st != xnn_status_success)
    return Support::no(std::string("XNNPACK refuses these scales or clamp: ") + status_name(st));
  return Support::yes();
}

std::unique_ptr<Kernel> make_binary(const KernelContext& ctx) {
  return std::make_unique<BinaryXnn>(ctx);
}

}  // namespace octet::xnn
