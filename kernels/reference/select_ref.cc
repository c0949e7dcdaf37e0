// Reference kernels of the ops whose outputs are sized by the input values (OpSpec::value_shaped):
// each writes into the upper-bound buffer the session gives it and sets the shape it filled.
//  - NonZero: the coordinates of the elements that are not 0 (NaN is not 0), row-major order,
//    as [rank, count] i64; a scalar is treated as a 1-element vector.
//  - NonMaxSuppression (ONNX 11, ONNX Runtime's rules): per batch and class, boxes whose score is
//    above score_threshold (when given) are taken by descending score (ties: the lower index),
//    each kept unless its IoU with a kept box exceeds iou_threshold, until
//    max_output_boxes_per_class are kept (absent or <= 0: none). Boxes are corner pairs in either
//    order (center_point_box 0) or [x_center, y_center, width, height] (1); a box of zero area
//    suppresses nothing. Output [selected, 3] i64 rows (batch, class, box), batch then class order.
//  - Compress: the slices along `axis` (without it: the flattened elements) whose condition is
//    true; a condition shorter than the axis leaves the rest out (ONNX).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

struct Box {
  float y1, x1, y2, x2;   // y1 <= y2, x1 <= x2
  float area() const { return (y2 - y1) * (x2 - x1); }
};

class SelectRef final : public Kernel {
 public:
  explicit SelectRef(const KernelContext& ctx) : node_(ctx.node) {}

  void run(const KernelArgs& a) override {
    if (node_.op == OpKind::NonZero) return nonzero(*a.in[0], *a.out[0]);
    if (node_.op == OpKind::NonMaxSuppression) return nms(a);
    if (node_.op == OpKind::Compress) return compress(*a.in[0], *a.in[1], *a.out[0]);
    node_error(node_, "is not a value-sized op");
  }

 private:
  template <class T>
  static std::vector<int64_t> nonzero_positions(const T* v, int64_t n) {
    std::vector<int64_t> at;
    for (int64_t i = 0; i < n; ++i)
      if (!(v[i] == T(0))) at.push_back(i);
    return at;
  }

  void nonzero(const Tensor& x, Tensor& y) const {
    const int64_t n = x.elements();
    std::vector<int64_t> at;
    switch (x.dtype) {
      case DataType::f32: at = nonzero_positions(x.as<float>(), n); break;
      case DataType::s32: at = nonzero_positions(x.as<int32_t>(), n); break;
      case DataType::i64: at = nonzero_positions(x.as<int64_t>(), n); break;
      case DataType::boolean: at = nonzero_positions(x.as<uint8_t>(), n); break;
      default: node_error(node_, "unsupported input dtype");
    }
    const Shape dims = x.shape.empty() ? Shape{1} : x.shape;
    const int64_t r = static_cast<int64_t>(dims.size()), count = static_cast<int64_t>(at.size());
    y.shape = {r, count};
    int64_t* out = y.as<int64_t>();
    for (int64_t j = 0; j < count; ++j) {
      int64_t rest = at[j];
      for (int64_t d = r; d-- > 0;) {
        out[d * count + j] = rest % dims[d];
        rest /= dims[d];
      }
    }
  }

  void compress(const Tensor& x, const Tensor& cond, Tensor& y) const {
    const uint8_t* c = cond.as<uint8_t>();
    const size_t es = dtype_size(x.dtype);
    const uint8_t* in = static_cast<const uint8_t*>(x.data);
    uint8_t* out = static_cast<uint8_t*>(y.data);
    const bool flat = !node_.attrs.has("axis");
    const int64_t ax = flat ? 0 : normalize_axis(node_.attrs.get_int("axis", 0), static_cast<int64_t>(x.shape.size()), node_);
    // outer x len x inner around the axis (flattened: 1 x elements x 1)
    int64_t outer = 1, len = flat ? x.elements() : x.shape[ax], inner = 1;
    if (!flat)
      for (int64_t d = 0; d < static_cast<int64_t>(x.shape.size()); ++d) {
        if (d < ax) outer *= x.shape[d];
        if (d > ax) inner *= x.shape[d];
      }
    const int64_t n = std::min<int64_t>(len, cond.elements());
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) kept += c[i] != 0;
    for (int64_t o = 0; o < outer; ++o) {
      int64_t j = 0;
      for (int64_t i = 0; i < n; ++i)
        if (c[i]) std::memcpy(out + ((o * kept + j++) * inner) * es, in + ((o * len + i) * inner) * es, static_cast<size_t>(inner) * es);
    }
    if (flat) y.shape = {kept};
    else y.shape = x.shape, y.shape[ax] = kept;
  }

  Box box_at(const float* b) const {
    if (node_.attrs.get_int("center_point_box", 0)) {
      const float xc = b[0], yc = b[1], w = b[2], h = b[3];
      return {yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2};
    }
    return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
  }

  static bool suppresses(const Box& a, const Box& b, float iou_threshold) {
    const float iy1 = std::max(a.y1, b.y1), ix1 = std::max(a.x1, b.x1), iy2 = std::min(a.y2, b.y2), ix2 = std::min(a.x2, b.x2);
    if (iy2 <= iy1 || ix2 <= ix1) return false;
    const float aa = a.area(), ab = b.area();
    if (aa <= 0 || ab <= 0) return false;
    const float inter = (iy2 - iy1) * (ix2 - ix1), uni = aa + ab - inter;
    return uni > 0 && inter / uni > iou_threshold;
  }

  void nms(const KernelArgs& a) const {
    const Tensor &boxes = *a.in[0], &scores = *a.in[1];
    auto scalar = [&](size_t i) -> const Tensor* { return i < a.in.size() && a.in[i] ? a.in[i] : nullptr; };
    int64_t max_out = 0;
    if (const Tensor* t = scalar(2)) max_out = t->dtype == DataType::i64 ? t->as<int64_t>()[0] : t->as<int32_t>()[0];
    const float iou = scalar(3) ? scalar(3)->as<float>()[0] : 0.f;
    const bool has_score_threshold = scalar(4) != nullptr;
    const float score_threshold = has_score_threshold ? scalar(4)->as<float>()[0] : 0.f;
    if (iou < 0 || iou > 1) node_error(node_, "iou_threshold " + std::to_string(iou) + " is outside [0, 1]");
    const int64_t batches = scores.shape[0], classes = scores.shape[1], count = scores.shape[2];
    Tensor& y = *a.out[0];
    int64_t* out = y.as<int64_t>();
    int64_t selected = 0;
    std::vector<int64_t> order;
    std::vector<Box> kept;
    for (int64_t b = 0; b < batches && max_out > 0; ++b)
      for (int64_t c = 0; c < classes; ++c) {
        const float* s = scores.as<float>() + (b * classes + c) * count;
        order.clear();
        for (int64_t i = 0; i < count; ++i)
          if (!has_score_threshold || s[i] > score_threshold) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return s[p] > s[q]; });
        kept.clear();
        for (int64_t i : order) {
          if (static_cast<int64_t>(kept.size()) >= max_out) break;
          const Box bx = box_at(boxes.as<float>() + (b * count + i) * 4);
          bool keep = true;
          for (const Box& k : kept) keep = keep && !suppresses(k, bx, iou);
          if (!keep) continue;
          kept.push_back(bx);
          out[selected * 3] = b, out[selected * 3 + 1] = c, out[selected * 3 + 2] = i;
          ++selected;
        }
      }
    y.shape = {selected, 3};
  }

  const NodeDef& node_;
};
}  // namespace

std::unique_ptr<Kernel> make_select_op(const KernelContext& ctx) { return std::make_unique<SelectRef>(ctx); }

}  // namespace octet::ref
