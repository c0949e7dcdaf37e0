// Reference Reduce* over `axes` (default: all), keepdims either way (the output shape comes from
// shape inference; the memory order is the same), and ArgMax/ArgMin along one axis.
//  float: accumulated in double. Of nothing: Sum, L1, L2, SumSquare 0, Prod 1, Mean NaN, Max
//         -inf, Min +inf, LogSum and LogSumExp -inf; a NaN anywhere in a max or min makes it NaN
//         (numpy).
//  int8 ReduceMean: mean of the real values s_x * (q - zp_x), quantized with the output's params.
//  int8 ReduceMax / ReduceMin: same quant in and out, so the max / min of the codes (of nothing:
//  the lowest / highest code).
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
    // No axes: all of them, or (noop_with_empty_axes, when the axes came at run time) none.
    std::vector<bool> reduced(r, axes_.empty() && node_.attrs.get_int("noop_with_empty_axes", 0) == 0);
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
    const OpKind op = node_.op;
    const bool is_max = op == OpKind::ReduceMax, is_min = op == OpKind::ReduceMin;
    const double inf = std::numeric_limits<double>::infinity();
    // In codes minus the zero point for int8, in real values for float.
    std::vector<double> acc(static_cast<size_t>(m), is_max ? -inf : is_min ? inf : op == OpKind::ReduceProd ? 1.0 : 0.0);
    const int32_t zp = quantized ? x.zero_point() : 0;
    std::vector<int64_t> idx(r, 0);
    int64_t o = 0;   // output offset of the current input index
    const int64_t n = x.elements();
    for (int64_t i = 0; i < n; ++i) {
      const double v = quantized ? static_cast<double>(load_q(x.dtype, x.data, i) - zp) : x.as<float>()[i];
      double& s = acc[o];
      switch (op) {
        case OpKind::ReduceMax: case OpKind::ReduceMin:
          if (std::isnan(v) || std::isnan(s)) s = NAN;
          else if (is_max ? v > s : v < s) s = v;
          break;
        case OpKind::ReduceProd: s *= v; break;
        case OpKind::ReduceL1: s += std::fabs(v); break;
        case OpKind::ReduceL2: case OpKind::ReduceSumSquare: s += v * v; break;
        case OpKind::ReduceLogSumExp: s += std::exp(v); break;
        default: s += v;   // Sum, Mean, LogSum
      }
      for (size_t d = r; d-- > 0;) {   // next input index, updating the output offset
        o += out_stride[d];
        if (++idx[d] < x.shape[d]) break;
        o -= out_stride[d] * x.shape[d];
        idx[d] = 0;
      }
    }

    for (int64_t j = 0; j < m; ++j) {
      double v = acc[j];
      if (op == OpKind::ReduceMean) v = count > 0 ? v / static_cast<double>(count) : NAN;
      if (op == OpKind::ReduceL2) v = std::sqrt(v);
      if (op == OpKind::ReduceLogSum || op == OpKind::ReduceLogSumExp) v = std::log(v);
      if (!quantized) {
        y.as<float>()[j] = static_cast<float>(v);
      } else if (is_max || is_min) {
        // Same params: the largest / smallest code (zp + max(q - zp)); empty reductions saturate.
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
// ArgMax / ArgMin: the index of the first (or with select_last_index the last) extreme element
// along `axis`; a NaN counts as the extreme (numpy's argmax and ONNX Runtime agree).
class ArgReduceRef final : public Kernel {
 public:
  explicit ArgReduceRef(const KernelContext& ctx)
      : node_(ctx.node), last_(ctx.node.attrs.get_int("select_last_index", 0) != 0) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const int64_t r = static_cast<int64_t>(x.shape.size());
    const int64_t ax = normalize_axis(node_.attrs.get_int("axis", 0), r, node_);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < ax; ++d) outer *= x.shape[d];
    for (int64_t d = ax + 1; d < r; ++d) inner *= x.shape[d];
    switch (x.dtype) {
      case DataType::f32: arg(x.as<float>(), outer, x.shape[ax], inner, a.out[0]->as<int64_t>()); break;
      case DataType::s32: arg(x.as<int32_t>(), outer, x.shape[ax], inner, a.out[0]->as<int64_t>()); break;
      case DataType::i64: arg(x.as<int64_t>(), outer, x.shape[ax], inner, a.out[0]->as<int64_t>()); break;
      default: node_error(node_, "unsupported dtype");
    }
  }

 private:
  template <class T>
  void arg(const T* x, int64_t outer, int64_t n, int64_t inner, int64_t* y) const {
    const bool max = node_.op == OpKind::ArgMax;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* p = x + o * n * inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < n; ++k) {
          const T v = p[k * inner], b = p[best * inner];
          if (is_nan(b)) break;   // the first NaN wins
          const bool better = is_nan(v) || (max ? v > b : v < b) || (last_ && v == b);
          if (better) best = k;
        }
        y[o * inner + i] = best;
      }
  }
  template <class T>
  static bool is_nan(T v) { return v != v; }

  const NodeDef& node_;
  const bool last_;
};
}  // namespace

std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx) { return std::make_unique<ReduceRef>(ctx); }
std::unique_ptr<Kernel> make_arg_reduce(const KernelContext& ctx) { return std::make_unique<ArgReduceRef>(ctx); }

}  // namespace octet::ref
