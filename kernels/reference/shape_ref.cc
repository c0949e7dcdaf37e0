// Reference kernels of the ops on run-time shapes: Shape, Size, ConstantOfShape, Range, Tile.
// Their operands are attributes by the time they run (ops/operands.h).
//  - Shape writes dims [start, end) of input 0's shape as i64; Size its element count.
//  - ConstantOfShape fills the output with `value` converted to the output dtype.
//  - Range: y[i] = start + i * delta, computed in the output's type (as ONNX's reference does,
//    so integer ranges are exact and float ones accumulate no error).
//  - Tile: output element (o_0, ...) is input element (o_0 mod x_0, ...), for any dtype (bytes).
#include <cstring>

#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

class ShapeOpRef final : public Kernel {
 public:
  explicit ShapeOpRef(const KernelContext& ctx) : node_(ctx.node) {}

  void run(const KernelArgs& a) override {
    Tensor& y = *a.out[0];
    switch (node_.op) {
      case OpKind::Shape: {
        const Shape& x = a.in[0]->shape;
        const int64_t r = static_cast<int64_t>(x.size());
        auto clamp = [&](int64_t v) { return std::max<int64_t>(0, std::min(r, v < 0 ? v + r : v)); };
        const int64_t b = clamp(node_.attrs.get_int("start", 0));
        for (int64_t i = 0; i < y.elements(); ++i) y.as<int64_t>()[i] = x[b + i];
        return;
      }
      case OpKind::Size: *y.as<int64_t>() = a.in[0]->elements(); return;
      case OpKind::ConstantOfShape: return fill(y, node_.attrs.json().value("value", 0.0));
      case OpKind::Range: return range(y);
      case OpKind::Tile: return tile(*a.in[0], y);
      default: node_error(node_, "is not a shape op");
    }
  }

 private:
  static void fill(Tensor& y, double v) {
    const int64_t n = y.elements();
    switch (y.dtype) {
      case DataType::f32: for (int64_t i = 0; i < n; ++i) y.as<float>()[i] = static_cast<float>(v); break;
      case DataType::i64: for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DataType::s32: for (int64_t i = 0; i < n; ++i) y.as<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DataType::boolean: std::memset(y.data, v != 0 ? 1 : 0, static_cast<size_t>(n)); break;
      default: throw Error("ConstantOfShape: unsupported output dtype");
    }
  }

  template <class T>
  void range_as(Tensor& y) const {
    const auto& j = node_.attrs.json();
    const T start = j.at("start").get<T>(), delta = j.at("delta").get<T>();
    for (int64_t i = 0; i < y.elements(); ++i) y.as<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  }

  void range(Tensor& y) const {
    switch (y.dtype) {
      case DataType::f32: return range_as<float>(y);
      case DataType::i64: return range_as<int64_t>(y);
      case DataType::s32: return range_as<int32_t>(y);
      default: node_error(node_, "unsupported output dtype");
    }
  }

  static void tile(const Tensor& x, Tensor& y) {
    const size_t es = dtype_size(y.dtype), r = y.shape.size();
    const int64_t n = y.elements();
    if (n == 0) return;
    std::vector<int64_t> xstride(r, 1), idx(r, 0);
    for (size_t d = r; d-- > 1;) xstride[d - 1] = xstride[d] * x.shape[d];
    const uint8_t* in = static_cast<const uint8_t*>(x.data);
    uint8_t* out = static_cast<uint8_t*>(y.data);
    for (int64_t i = 0; i < n; ++i) {
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) src += (idx[d] % x.shape[d]) * xstride[d];
      std::memcpy(out + i * es, in + src * es, es);
      for (size_t d = r; d-- > 0;) {
        if (++idx[d] < y.shape[d]) break;
        idx[d] = 0;
      }
    }
  }

  const NodeDef& node_;
};

}  // namespace

std::unique_ptr<Kernel> make_shape_op(const KernelContext& ctx) { return std::make_unique<ShapeOpRef>(ctx); }

}  // namespace octet::ref
