// Reference ReduceMean, ReduceSum and ReduceMax over `axes` (default: all), keepdims either way
// (the output shape comes from shape inference; the memory order is the same).
//  float: accumulated in double. Sum of nothing is 0, mean of nothing NaN, max of nothing -inf;
//         a NaN anywhere in a max makes it NaN (numpy).
//  int8 ReduceMean: mean of the real values s_x * (q - zp_x), quantized with the output's params.
//  int8 ReduceMax: same quant in and out, so the max of the codes (of nothing: the lowest code).
#include <cmath>
#include <limits>
#include <vector>

#include "ops/op_spec.h"
#include "quant/quant.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {
class ReduceRef final : public Kernel {
 public:
  explicit ReduceRef(const KernelContext& ctx)
      : node_(ctx.node), axes_(ctx.node.attrs.get_ints("axes", {})) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const size_t r = x.shape.size();
    std::vector<bool> reduced(r, axes_.empty());
    for (int64_t ax : axes_) reduced[normalize_axis(ax, static_cast<int64_t>(r), node_)] = true;

    // Output element of each input element: strides of the kept dimensions, 0 for reduced ones.
    std::vector<int64_t> out_stride(r, 0);
    int64_t m = 1, count = 1;
    for (size_t d = r; d-- > 0;) {
      if (reduced[d]) {
        count *= x.shape[d];
      } else {
        out_stride[d] = m;
        m *= x.shape[d];
      }
    }
    if (m != y.elements()) node_error(node_, "output shape does not match the reduction");

    const bool quantized = x.dtype != DataType::f32;
    const bool is_max = node_.op == OpKind::ReduceMax;
    // In codes minus the zero point for int8, in real values for float.
    std::vector<double> acc(static_cast<size_t>(m), is_max ? -std::numeric_limits<double>::infinity() : 0.0);
    const int32_t zp = quantized ? x.zero_point() : 0;
    std::vector<int64_t> idx(r, 0);
    int64_t o = 0;   // output offset of the current input index
    const int64_t n = x.elements();
    for (int64_t i = 0; i < n; ++i) {
      const double v = quantized ? static_cast<double>(load_q(x.dtype, x.data, i) - zp) : x.as<float>()[i];
      double& s = acc[o];
      if (!is_max) s += v;
      else if (std::isnan(v) || std::isnan(s)) s = NAN;
      else if (v > s) s = v;
      for (size_t d = r; d-- > 0;) {   // next input index, updating the output offset
        o += out_stride[d];
        if (++idx[d] < x.shape[d]) break;
        o -= out_stride[d] * x.shape[d];
        idx[d] = 0;
      }
    }

    for (int64_t j = 0; j < m; ++j) {
      double v = acc[j];
      if (node_.op == OpKind::ReduceMean) v = count > 0 ? v / static_cast<double>(count) : NAN;
      if (!quantized) {
        y.as<float>()[j] = static_cast<float>(v);
      } else if (is_max) {
        // Same params: the largest code (zp + max(q - zp)); empty reductions give the lowest code.
        store_q(y.dtype, y.data, j, static_cast<float>(v + zp));
      } else {
        const float real = x.scale() * static_cast<float>(v);
        if (y.dtype == DataType::u8) y.as<uint8_t>()[j] = q::quantize<uint8_t>(real, 1.f / y.scale(), y.zero_point());
        else y.as<int8_t>()[j] = q::quantize<int8_t>(real, 1.f / y.scale(), y.zero_point());
      }
    }
  }

 private:
  const NodeDef& node_;
  std::vector<int64_t> axes_;
};
}  // namespace

std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx) { return std::make_unique<ReduceRef>(ctx); }

}  // namespace octet::ref
