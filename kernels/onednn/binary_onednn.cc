// Add, Sub, Mul (float and static int8) and Div (float) on oneDNN's binary primitive. oneDNN
// needs src0 to have the output's shape and broadcasts src1; for Add and Mul the operands are
// swapped when only B has the full shape.
//
// Static int8 (oneDNN 2.6's binary has per-source scales but no zero points):
//   Add/Sub: real = s_a a +- s_b b - (s_a zp_a +- s_b zp_b): source scales, then a linear post-op
//            adding the constant; then the activation and the quantization tail.
//   Mul:     real = s_a s_b (a - zp_a)(b - zp_b) is only a product of scaled codes when both zero
//            points are 0; otherwise the node is refused.
// With an activation that commutes with positive scaling, 1/s_y is folded into the source scales.
#include "onednn/onednn_common.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"

namespace octet::onednn {

namespace {

// Whether `big` covers `small` under numpy broadcasting: aligned from the right, every dim of
// `small` is 1 or equal to big's; `big` has at least small's rank. Symbolic dims (-1) are equal
// only when their names are (anonymous "?" never is).
bool covers(const TensorDef& big, const TensorDef& small) {
  if (big.shape.size() < small.shape.size()) return false;
  const size_t off = big.shape.size() - small.shape.size();
  for (size_t i = 0; i < small.shape.size(); ++i) {
    const int64_t b = big.shape[off + i], s = small.shape[i];
    if (s == 1) continue;
    if (b >= 0 && s >= 0 && b == s) continue;
    if (b < 0 && s < 0 && big.dim_names[off + i] == small.dim_names[i] && big.dim_names[off + i] != "?") continue;
    return false;
  }
  return true;
}

bool commutative(OpKind op) { return op == OpKind::Add || op == OpKind::Mul; }

dnnl::algorithm algorithm_of(OpKind op) {
  switch (op) {
    case OpKind::Add: return dnnl::algorithm::binary_add;
    case OpKind::Sub: return dnnl::algorithm::binary_sub;
    case OpKind::Mul: return dnnl::algorithm::binary_mul;
    default: return dnnl::algorithm::binary_div;
  }
}

Shape pad_rank(const Shape& s, size_t rank) {
  Shape r(rank - s.size(), 1);
  r.insert(r.end(), s.begin(), s.end());
  return r;
}

// The attributes of the node: per-source scales and post-ops (shape independent).
struct BinarySetup {
  bool swap;
  DataType t0, t1, ty;
  dnnl::algorithm alg;
  dnnl::primitive_attr attr;
  int pre_add_index = -1;
  float pre_add = 0.f;
  std::string unsupported;

  BinarySetup(const KernelContext& ctx, bool swapped) : swap(swapped) {
    const TensorDef& a = ctx.input(swap ? 1 : 0);
    const TensorDef& b = ctx.input(swap ? 0 : 1);
    const TensorDef& y = ctx.output(0);
    t0 = a.dtype, t1 = b.dtype, ty = y.dtype;
    const OpKind op = ctx.node.op;
    alg = algorithm_of(op);
    if (ctx.node.precision == Precision::Int8Static) {
      const float s0 = a.quant.scale[0], s1 = b.quant.scale[0];
      const float z0 = static_cast<float>(a.quant.zero_point[0]), z1 = static_cast<float>(b.quant.zero_point[0]);
      // real = op(s0 c0, s1 c1) + offset (Sub is never swapped).
      const float offset = op == OpKind::Add ? -(s0 * z0 + s1 * z1) : op == OpKind::Sub ? -(s0 * z0 - s1 * z1) : 0.f;
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], offset, nullptr,
                                 static_cast<int>(y.shape.size()));
      unsupported = q.unsupported;
      if (op == OpKind::Mul) {   // one scale carries the whole product's factor
        attr.set_scales(DNNL_ARG_SRC_0, 0, {s0 * s1 * q.factor});
        attr.set_scales(DNNL_ARG_SRC_1, 0, {1.f});
      } else {
        attr.set_scales(DNNL_ARG_SRC_0, 0, {s0 * q.factor});
        attr.set_scales(DNNL_ARG_SRC_1, 0, {s1 * q.factor});
      }
      attr.set_post_ops(q.po);
      pre_add_index = q.pre_add_index;
      pre_add = q.pre_add;
    } else {
      attr.set_post_ops(float_chain(ctx.node.activation, false));
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  dnnl::binary::primitive_desc pd(const Shape& a, const Shape& b, const Shape& y) const {
    (void)a;
    dnnl::memory::desc m0 = plain_desc(y, t0), m1 = plain_desc(pad_rank(b, y.size()), t1), my = plain_desc(y, ty);
    return dnnl::binary::primitive_desc(dnnl::binary::desc(alg, m0, m1, my), attr, engine());
  }
};

class BinaryOnednn final : public CachedKernel {
 public:
  BinaryOnednn(const KernelContext& ctx, bool swap) : CachedKernel(ctx), s_(ctx, swap) {
    pre_add_ = s_.pre_add;
    prepare(ctx);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    const Shape& y = out[0];
    const Shape& a = in[s_.swap ? 1 : 0];
    const Shape& b = in[s_.swap ? 0 : 1];
    Prim p;
    if (pad_rank(a, y.size()) != y) {   // only when a symbolic dim took an unexpected value
      p.declined = true;
      p.why = "first operand is broadcast";
      return p;
    }
    auto pd = s_.pd(a, b, y);
    p.impl = pd.impl_info_str();
    p.prim = dnnl::binary(pd);
    p.args[DNNL_ARG_SRC_0] = dnnl::memory(pd.src_desc(0), engine(), DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_SRC_1] = dnnl::memory(pd.src_desc(1), engine(), DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), engine(), DNNL_MEMORY_NONE);
    if (s_.pre_add_index >= 0)
      p.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(s_.pre_add_index) | DNNL_ARG_SRC_1] =
          dnnl::memory(plain_desc(Shape(y.size(), 1), DataType::f32), engine(), &pre_add_);
    add_scratchpad(p, pd.scratchpad_desc());
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC_0].set_data_handle(a.in[s_.swap ? 1 : 0]->data);
    p.args[DNNL_ARG_SRC_1].set_data_handle(a.in[s_.swap ? 0 : 1]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  BinarySetup s_;
  float pre_add_ = 0.f;
};

// -1: unsupported broadcast; 0: as given; 1: swapped.
int operand_order(const KernelContext& ctx) {
  const TensorDef &a = ctx.input(0), &b = ctx.input(1);
  if (covers(a, b)) return 0;
  if (commutative(ctx.node.op) && covers(b, a)) return 1;
  return -1;
}

}  // namespace

Support binary_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  const OpKind op = n.op;
  if (op == OpKind::Pow) return Support::no("Pow is not on oneDNN");
  if (op == OpKind::Max || op == OpKind::Min) return Support::no("oneDNN's max/min do not propagate NaN as the reference does");
  const TensorDef &a = ctx.input(0), &b = ctx.input(1);
  if (n.precision == Precision::Float && a.dtype != DataType::f32)
    return Support::no(std::string("integer (") + dtype_name(a.dtype) + ") arithmetic stays on the reference kernel");
  if (op == OpKind::Div && n.precision != Precision::Float) return Support::no("Div has no int8 form");
  if (n.precision == Precision::Int8Static && op == OpKind::Mul && (a.quant.zero_point[0] != 0 || b.quant.zero_point[0] != 0))
    return Support::no("int8 Mul with a non-zero input zero point (oneDNN 2.6's binary has no zero points)");
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  if (ctx.output(0).shape.size() > DNNL_MAX_NDIMS) return Support::no("rank above oneDNN's limit");
  const int order = operand_order(ctx);
  if (order < 0)
    return Support::no("broadcast pattern where neither operand has the output's shape" +
                       std::string(commutative(op) ? "" : " (or only B has it, and the op is not commutative)"));
  BinarySetup s(ctx, order == 1);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "binary op", [&](const std::vector<Shape>& in, const std::vector<Shape>& out) {
    return std::string(s.pd(in[order == 1 ? 1 : 0], in[order == 1 ? 0 : 1], out[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_binary(const KernelContext& ctx) {
  return std::make_unique<BinaryOnednn>(ctx, operand_order(ctx) == 1);
}

}  // namespace octet::onednn
