// Reference kernels of the ops that make shapes and index ranges: Shape, Size, Range (Tile and
// ConstantOfShape move or fill elements: data_ref.cc). Operands are attributes by now.
//  - Shape writes dims [start, end) of input 0's shape as i64; Size its element count.
//  - Range: y[i] = start + i * delta, computed in the output's type (as ONNX's reference does,
//    so integer ranges are exact and float ones accumulate no error).
#include "ops/op_spec.h"
#include "ops/params.h"
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
        const int64_t b = shape_range(node_, static_cast<int64_t>(x.size())).first;
        for (int64_t i = 0; i < y.elements(); ++i) y.as<int64_t>()[i] = x[b + i];
        return;
      }
      case OpKind::Size: *y.as<int64_t>() = a.in[0]->elements(); return;
      case OpKind::Range: return range(y);
      default: node_error(node_, "is not a shape op");
    }
  }

 private:
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

  const NodeDef& node_;
};

}  // namespace

std::unique_ptr<Kernel> make_shape_op(const KernelContext& ctx) { return std::make_unique<ShapeOpRef>(ctx); }

}  // namespace octet::ref
