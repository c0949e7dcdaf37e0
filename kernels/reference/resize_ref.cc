// Reference Resize with ONNX Resize-13 semantics, modes nearest and linear.
//
// Along each axis, output index x maps to a real coordinate c in the input
// (coordinate_transformation_mode):
//   half_pixel          c = (x + 0.5) / scale - 0.5
//   half_pixel_symmetric  the same, shifted so the output is centred on the input when
//                       in * scale is not whole: + (in / 2) * (1 - out / (in * scale)) (opset 19)
//   pytorch_half_pixel  c = (x + 0.5) / scale - 0.5, or 0 when the output length is 1
//   align_corners       c = x * (in - 1) / (out - 1), or 0 when the output length is 1; with
//                       `scales`, out is in * scale unrounded (ONNX's reference and ORT)
//   asymmetric          c = x / scale
//   tf_half_pixel_for_nn  c = (x + 0.5) / scale
// where scale is the attribute `scales` entry, or out / in when `sizes` are given (then x / scale
// is computed as x * in / out so that exact ratios stay exact).
//
// nearest: c is rounded per nearest_mode (round_prefer_floor / round_prefer_ceil round halves
// down / up, other values to the nearest integer; floor; ceil) and clamped into [0, in - 1]. Whole
// elements are copied, so any dtype works and 8-bit codes are untouched (same quant).
//
// linear: 1-D linear interpolation between floor(c) and floor(c) + 1 with c first clamped to
// [0, in - 1] (ONNX's edge rule, also PyTorch's), applied separably along every axis whose
// mapping is not the identity, which equals multilinear interpolation. Computed in double; 8-bit
// inputs are dequantized first and the result is quantized with the same params (quant/quant.h).
// cubic: 4 taps around c (floor(c) - 1 .. floor(c) + 2, or c - 2 .. c + 1 when c is whole) with
// Keys' coefficients for `cubic_coeff_a` (default -0.75, ORT's; -0.5 is PyTorch's), reading the
// edge element for taps outside the input, or with `exclude_outside` giving those taps weight 0
// and renormalizing; c is not clamped. Separable like linear, in double.
// antialias (opset 18; linear and cubic, when shrinking along an axis, scale < 1): the filter is
// stretched by 1/scale, so each output averages every input it covers: taps at the offsets
// i = floor(-support / scale) + 1 .. 1 - that from floor(c) (c whole: from c - 1, as ONNX's
// reference), weight filter((i - frac) * scale) normalized to sum 1, support 1 for linear and 2
// for cubic; c is not clamped, taps outside read the edge (or, exclude_outside, weigh 0).
// With these rules 'linear' + half_pixel matches PyTorch's F.interpolate(mode='bilinear',
// align_corners=False) and 'nearest' + asymmetric + floor matches mode='nearest'.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/quant.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

struct AxisMap {
  int64_t in = 1, out = 1;
  double scale = 1;         // attribute scale (used when !from_sizes)
  bool from_sizes = false;  // scale is out / in
  double divide(double v) const { return from_sizes ? v * static_cast<double>(in) / static_cast<double>(out) : v / scale; }
};

double source_coord(const std::string& mode, int64_t x, const AxisMap& m) {
  const double xd = static_cast<double>(x);
  if (mode == "asymmetric") return m.divide(xd);
  if (mode == "align_corners") {
    if (m.out == 1) return 0.0;
    const double out = m.from_sizes ? static_cast<double>(m.out) : static_cast<double>(m.in) * m.scale;
    return xd * static_cast<double>(m.in - 1) / (out - 1);
  }
  if (mode == "tf_half_pixel_for_nn") return m.divide(xd + 0.5);
  if (mode == "pytorch_half_pixel" && m.out == 1) return 0.0;
  if (mode == "half_pixel_symmetric" && !m.from_sizes) {
    const double adjustment = static_cast<double>(m.out) / (static_cast<double>(m.in) * m.scale);
    return static_cast<double>(m.in) / 2 * (1 - adjustment) + m.divide(xd + 0.5) - 0.5;
  }
  return m.divide(xd + 0.5) - 0.5;   // half_pixel (and _symmetric with sizes), pytorch_half_pixel
}

int64_t round_nearest(double c, const std::string& mode) {
  const double f = std::floor(c);
  double r;
  if (mode == "floor") r = f;
  else if (mode == "ceil") r = std::ceil(c);
  else if (c - f == 0.5) r = mode == "round_prefer_ceil" ? f + 1 : f;
  else r = std::round(c);
  return static_cast<int64_t>(r);
}

// Keys' cubic convolution kernel at distance x (|x| < 2; 0 beyond), coefficient A.
double keys_cubic(double x, double A) {
  x = std::abs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0.0;
}

template <class T>
void load_real(const void* p, int64_t n, float s, int32_t zp, std::vector<double>* out) {
  for (int64_t i = 0; i < n; ++i) (*out)[i] = q::dequantize<T>(static_cast<const T*>(p)[i], s, zp);
}

class ResizeRef final : public Kernel {
 public:
  explicit ResizeRef(const KernelContext& ctx) : node_(ctx.node), p_(parse_resize(ctx.node)) {
    const TensorDef& x = ctx.input(0);
    if (p_.mode != "nearest") {
      if (x.dtype != DataType::f32 && x.dtype != DataType::u8 && x.dtype != DataType::s8)
        node_error(node_, p_.mode + " resize needs f32 or 8-bit input");
      if (x.dtype != DataType::f32 && x.quant.scale.size() != 1) node_error(node_, "8-bit input must be quantized per tensor");
    }
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const size_t r = x.shape.size();
    if (y.shape.size() != r) node_error(node_, "output rank differs from the input's");
    std::vector<AxisMap> axes(r);
    for (size_t d = 0; d < r; ++d) {
      AxisMap& m = axes[d];
      m.in = x.shape[d];
      m.out = y.shape[d];
      m.from_sizes = p_.scales.empty();
      m.scale = m.from_sizes ? 1.0 : static_cast<double>(p_.scales[d]);
      if (m.in == 0 && m.out > 0) node_error(node_, "cannot resize an empty dimension " + std::to_string(d) + " to " + std::to_string(m.out));
    }
    if (y.elements() == 0) return;
    if (p_.mode == "nearest") nearest(x, y, axes);
    else interpolate(x, y, axes);
  }

 private:
  void nearest(const Tensor& x, Tensor& y, const std::vector<AxisMap>& axes) {
    const size_t r = axes.size();
    // src[d][o]: input index along d for output index o; stride[d]: input element stride.
    std::vector<std::vector<int64_t>> src(r);
    std::vector<int64_t> stride(r, 1);
    for (size_t d = r; d-- > 0;) {
      if (d + 1 < r) stride[d] = stride[d + 1] * axes[d + 1].in;
      for (int64_t o = 0; o < axes[d].out; ++o)
        src[d].push_back(std::clamp<int64_t>(round_nearest(source_coord(p_.coord, o, axes[d]), p_.nearest_mode), 0, axes[d].in - 1));
    }
    const size_t es = dtype_size(x.dtype);
    const uint8_t* in = static_cast<const uint8_t*>(x.data);
    uint8_t* out = static_cast<uint8_t*>(y.data);
    std::vector<int64_t> idx(r, 0);
    const int64_t n = y.elements();
    for (int64_t i = 0; i < n; ++i) {
      int64_t off = 0;
      for (size_t d = 0; d < r; ++d) off += src[d][idx[d]] * stride[d];
      std::memcpy(out + i * es, in + off * es, es);
      for (size_t d = r; d-- > 0;) {   // next output index, last dimension fastest
        if (++idx[d] < axes[d].out) break;
        idx[d] = 0;
      }
    }
  }

  // linear and cubic: separable passes over the axes that change, in double.
  void interpolate(const Tensor& x, Tensor& y, const std::vector<AxisMap>& axes) {
    const size_t r = axes.size();
    std::vector<double> cur(static_cast<size_t>(x.elements()));
    switch (x.dtype) {
      case DataType::f32: for (size_t i = 0; i < cur.size(); ++i) cur[i] = x.as<float>()[i]; break;
      case DataType::u8: load_real<uint8_t>(x.data, x.elements(), x.scale(), x.zero_point(), &cur); break;
      case DataType::s8: load_real<int8_t>(x.data, x.elements(), x.scale(), x.zero_point(), &cur); break;
      default: node_error(node_, "linear resize needs f32 or 8-bit input");
    }
    Shape shape = x.shape;   // shape of `cur`: resized along the axes done so far
    for (size_t d = 0; d < r; ++d) {
      const AxisMap& m = axes[d];
      // Taps along this axis: out[j] = sum over t of w[j][t] * in[idx[j][t]].
      std::vector<std::vector<int64_t>> idx(m.out);
      std::vector<std::vector<double>> w(m.out);
      bool identity = m.in == m.out;
      const double scale = m.from_sizes ? static_cast<double>(m.out) / static_cast<double>(m.in) : m.scale;
      for (int64_t j = 0; j < m.out; ++j) {
        if (p_.antialias && scale < 1) antialias_taps(source_coord(p_.coord, j, m), m.in, scale, &idx[j], &w[j]);
        else taps(source_coord(p_.coord, j, m), m.in, &idx[j], &w[j]);
        for (size_t t = 0; t < idx[j].size(); ++t) identity = identity && (w[j][t] == 0 || (idx[j][t] == j && w[j][t] == 1));
      }
      if (identity) continue;
      int64_t outer = 1, inner = 1;
      for (size_t k = 0; k < d; ++k) outer *= shape[k];
      for (size_t k = d + 1; k < r; ++k) inner *= shape[k];
      std::vector<double> next(static_cast<size_t>(outer * m.out * inner), 0.0);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < m.out; ++j) {
          double* dst = &next[(o * m.out + j) * inner];
          for (size_t t = 0; t < idx[j].size(); ++t) {
            const double* a = &cur[(o * m.in + idx[j][t]) * inner];
            for (int64_t i = 0; i < inner; ++i) dst[i] += w[j][t] * a[i];
          }
        }
      cur.swap(next);
      shape[d] = m.out;
    }
    const int64_t n = y.elements();
    if (static_cast<int64_t>(cur.size()) != n) node_error(node_, "resized extent differs from the output shape");
    switch (y.dtype) {
      case DataType::f32: for (int64_t i = 0; i < n; ++i) y.as<float>()[i] = static_cast<float>(cur[i]); break;
      case DataType::u8: {
        const float inv = 1.f / y.scale();
        for (int64_t i = 0; i < n; ++i) y.as<uint8_t>()[i] = q::quantize<uint8_t>(static_cast<float>(cur[i]), inv, y.zero_point());
        break;
      }
      case DataType::s8: {
        const float inv = 1.f / y.scale();
        for (int64_t i = 0; i < n; ++i) y.as<int8_t>()[i] = q::quantize<int8_t>(static_cast<float>(cur[i]), inv, y.zero_point());
        break;
      }
      default: node_error(node_, "linear resize needs f32 or 8-bit output");
    }
  }

  // The input positions and weights one output position reads (linear: 2 taps; cubic: 4).
  void taps(double c, int64_t in, std::vector<int64_t>* idx, std::vector<double>* w) const {
    if (p_.mode == "linear") {
      c = std::clamp(c, 0.0, static_cast<double>(in - 1));
      const int64_t i0 = static_cast<int64_t>(std::floor(c));
      *idx = {i0, std::min(i0 + 1, in - 1)};
      *w = {1 - (c - static_cast<double>(i0)), c - static_cast<double>(i0)};
      return;
    }
    const double f = std::floor(c);
    const bool whole = c == f;
    const int64_t base = static_cast<int64_t>(f) - (whole ? 1 : 0);   // the tap left of c (ONNX)
    const double r = whole ? 1.0 : c - f, A = p_.cubic_a;
    const double s = 1 - r;
    *w = {keys_cubic(r + 1, A), keys_cubic(r, A), keys_cubic(s, A), keys_cubic(s + 1, A)};
    idx->clear();
    double sum = 0;
    for (int64_t t = 0; t < 4; ++t) {
      const int64_t i = base - 1 + t;
      if (p_.exclude_outside && (i < 0 || i >= in)) (*w)[t] = 0;
      sum += (*w)[t];
      idx->push_back(std::clamp<int64_t>(i, 0, in - 1));
    }
    if (p_.exclude_outside && sum != 0)
      for (double& v : *w) v /= sum;
  }

  void antialias_taps(double c, int64_t in, double scale, std::vector<int64_t>* idx, std::vector<double>* w) const {
    const double f = std::floor(c);
    const bool whole = c == f;
    const int64_t base = static_cast<int64_t>(f) - (whole ? 1 : 0);
    const double frac = whole ? 1.0 : c - f;
    const bool linear = p_.mode == "linear";
    auto filter = [&](double x) { return linear ? std::max(0.0, 1 - std::abs(x)) : keys_cubic(x, p_.cubic_a); };
    const int64_t start = static_cast<int64_t>(std::floor(-(linear ? 1.0 : 2.0) / scale)) + 1;
    idx->clear(), w->clear();
    double sum = 0;
    for (int64_t i = start; i < 2 - start; ++i) {
      const int64_t at = base + i;
      double v = filter((static_cast<double>(i) - frac) * scale);
      if (p_.exclude_outside && (at < 0 || at >= in)) v = 0;
      idx->push_back(std::clamp<int64_t>(at, 0, in - 1));
      w->push_back(v);
      sum += v;
    }
    if (sum != 0)
      for (double& v : *w) v /= sum;
  }

  const NodeDef& node_;
  ResizeParams p_;
};
}  // namespace

std::unique_ptr<Kernel> make_resize(const KernelContext& ctx) { return std::make_unique<ResizeRef>(ctx); }

}  // namespace octet::ref
