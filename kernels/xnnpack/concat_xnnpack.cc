// Concat on XNNPACK as strided row copies (copy_nc_x8 over bytes, any dtype): with
// outer = product of the dimensions before the axis, input i is `outer` rows of chunk_i bytes
// that land at byte offset sum(chunk_<i) of output rows of sum(chunk) bytes. Only inputs that
// share the output's dtype and quantization are taken (a pure copy); the reference requantizes
// the others. Chunk sizes include the batch when the axis is 0, so the copy operators are
// recreated in reshape() when a chunk or the row changes.
#include <vector>

#include "xnnpack/xnnpack_kernels.h"

namespace octet::xnn {

namespace {

size_t product(const Shape& s, size_t begin, size_t end) {
  size_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= static_cast<size_t>(s[d]);
  return n;
}

class ConcatXnn final : public XnnKernel {
 public:
  ConcatXnn(const KernelContext& ctx) : XnnKernel(ctx) {
    const int64_t rank = static_cast<int64_t>(ctx.output(0).shape.size());
    const int64_t a = ctx.node.attrs.get_int("axis");
    axis_ = static_cast<size_t>(a < 0 ? a + rank : a);
    esize_ = dtype_size(ctx.output(0).dtype);
    copies_.resize(ctx.node.inputs.size());
    detail_ = "copy_nc_x8 (concat)";
  }

  Support reshape(const KernelArgs& args) override {
    const Shape& y = args.out[0]->shape;
    const size_t row = product(y, axis_, y.size()) * esize_;
    for (size_t i = 0; i < copies_.size(); ++i) {
      const Shape& x = args.in[i]->shape;
      const size_t chunk = product(x, axis_, x.size()) * esize_;
      Copy& c = copies_[i];
      if (c.op && c.chunk == chunk && c.row == row) continue;
      c.op.reset();
      c.chunk = chunk, c.row = row;
      if (chunk == 0) continue;   // an empty input copies nothing
      xnn_operator_t op = nullptr;
      check(xnn_create_copy_nc_x8(chunk, chunk, row, 0, &op), node_, "xnn_create_copy_nc_x8");
      c.op.reset(op);
    }
    return Support::yes();
  }

  void run(const KernelArgs& args) override {
    const Shape& y = args.out[0]->shape;
    const size_t outer = product(y, 0, axis_);
    uint8_t* dst = static_cast<uint8_t*>(args.out[0]->data);
    for (size_t i = 0; i < copies_.size(); ++i) {
      Copy& c = copies_[i];
      if (c.op && outer > 0) {
        check(xnn_setup_copy_nc_x8(c.op.get(), outer, args.in[i]->data, dst, pool()), node_, "xnn_setup_copy_nc_x8");
        run_op(c.op.get());
      }
      dst += c.chunk;
    }
  }

 private:
  struct Copy {
    Op op;
    size_t chunk = 0, row = 0;
  };
  size_t axis_ = 0, esize_ = 1;
  std::vector<Copy> copies_;
};

}  // namespace

Support concat_supports(const KernelContext& ctx) {
  const TensorDef& y = ctx.output(0);
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    const TensorDef& x = ctx.input(i);
    if (x.dtype != y.dtype) return Support::no("inputs of another dtype than the output");
    if (y.dtype == DataType::u8 || y.dtype == DataType::s8) {
      if (x.quant.scale.size() != 1 || y.quant.scale.size() != 1 || x.quant.scale[0] != y.quant.scale[0] ||
          x.quant.zero_point[0] != y.quant.zero_point[0])
        return Support::no("inputs with other quantization than the output (the reference requantizes)");
    }
  }
  return Support::yes();
}

std::unique_ptr<Kernel> make_concat(const KernelContext& ctx) {
  return std::make_unique<ConcatXnn>(ctx);
}

}  // namespace octet::xnn
