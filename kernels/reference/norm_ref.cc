// Reference Softmax and LayerNormalization (float only), accumulated in double.
//  Softmax along `axis` (ONNX 13, default -1), numerically stable:
//    y_i = exp(x_i - max) / sum_j exp(x_j - max)
//  LayerNormalization over the dimensions [axis, rank) (default axis -1):
//    y = (x - mean) / sqrt(var + epsilon) * scale + bias    (var: population variance)
//  scale and bias broadcast numpy-style over the normalized shape; bias is optional.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {
int64_t product(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= s[d];
  return n;
}

class SoftmaxRef final : public Kernel {
 public:
  explicit SoftmaxRef(const KernelContext& ctx) : node_(ctx.node), axis_(ctx.node.attrs.get_int("axis", -1)) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const size_t r = x.shape.size();
    const int64_t ax = normalize_axis(axis_, static_cast<int64_t>(r), node_);
    const int64_t outer = product(x.shape, 0, ax), len = x.shape[ax], inner = product(x.shape, ax + 1, r);
    const float* in = x.as<float>();
    float* out = y.as<float>();
    std::vector<double> e(static_cast<size_t>(len));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * len * inner + i;   // element k of this line is at base + k * inner
        double mx = -INFINITY;
        // A plain compare (NaN ignored, as fmax would): fmax here crashes aarch64 GCC 12's vectorizer.
        for (int64_t k = 0; k < len; ++k) {
          const double v = in[base + k * inner];
          if (v > mx) mx = v;
        }
        double sum = 0;
        for (int64_t k = 0; k < len; ++k) sum += e[k] = std::exp(static_cast<double>(in[base + k * inner]) - mx);
        for (int64_t k = 0; k < len; ++k) out[base + k * inner] = static_cast<float>(e[k] / sum);
      }
  }

 private:
  const NodeDef& node_;
  int64_t axis_;
};

// Offsets into a tensor of shape `s` broadcast to `full` (numpy rules), for every flat index of
// `full` in row-major order.
std::vector<int64_t> broadcast_offsets(const Shape& full, const Shape& s) {
  const size_t r = full.size(), lead = r - s.size();
  std::vector<int64_t> stride(r, 0);
  int64_t st = 1;
  for (size_t d = r; d-- > lead;) {
    stride[d] = s[d - lead] == 1 ? 0 : st;
    st *= s[d - lead];
  }
  const int64_t n = product(full, 0, r);
  std::vector<int64_t> off(static_cast<size_t>(n));
  std::vector<int64_t> idx(r, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    off[i] = o;
    for (size_t d = r; d-- > 0;) {
      o += stride[d];
      if (++idx[d] < full[d]) break;
      o -= stride[d] * full[d];
      idx[d] = 0;
    }
  }
  return off;
}

class LayerNormRef final : public Kernel {
 public:
  explicit LayerNormRef(const KernelContext& ctx)
      : node_(ctx.node), axis_(ctx.node.attrs.get_int("axis", -1)), eps_(ctx.node.attrs.get_float("epsilon", 1e-5f)) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const Tensor& scale = *a.in[1];
    const Tensor* bias = a.in.size() > 2 ? a.in[2] : nullptr;
    Tensor& y = *a.out[0];
    const size_t r = x.shape.size();
    const int64_t ax = normalize_axis(axis_, static_cast<int64_t>(r), node_);
    const Shape norm(x.shape.begin() + ax, x.shape.end());
    const int64_t outer = product(x.shape, 0, ax), len = product(norm, 0, norm.size());
    const std::vector<int64_t> so = broadcast_offsets(norm, scale.shape);
    const std::vector<int64_t> bo = bias ? broadcast_offsets(norm, bias->shape) : std::vector<int64_t>();
    const float* in = x.as<float>();
    float* out = y.as<float>();
    float* mean_out = a.out.size() > 1 && a.out[1] ? a.out[1]->as<float>() : nullptr;
    float* inv_std_out = a.out.size() > 2 && a.out[2] ? a.out[2]->as<float>() : nullptr;
    if (len == 0) return;
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = in + o * len;
      double mean = 0;
      for (int64_t k = 0; k < len; ++k) mean += row[k];
      mean /= static_cast<double>(len);
      double var = 0;
      for (int64_t k = 0; k < len; ++k) var += (row[k] - mean) * (row[k] - mean);
      var /= static_cast<double>(len);
      const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps_));
      if (mean_out) mean_out[o] = static_cast<float>(mean);
      if (inv_std_out) inv_std_out[o] = static_cast<float>(inv_std);
      for (int64_t k = 0; k < len; ++k) {
        double v = (row[k] - mean) * inv_std * scale.as<float>()[so[k]];
        if (bias) v += bias->as<float>()[bo[k]];
        out[o * len + k] = static_cast<float>(v);
      }
    }
  }

 private:
  const NodeDef& node_;
  int64_t axis_;
  float eps_;
};
// InstanceNormalization: each (n, c) plane normalized by its own mean and variance (in double),
// then scale[c] * . + B[c].
class InstanceNormRef final : public Kernel {
 public:
  explicit InstanceNormRef(const KernelContext& ctx) : eps_(ctx.node.attrs.get_float("epsilon", 1e-5f)) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const float* scale = a.in[1]->as<float>();
    const float* bias = a.in[2]->as<float>();
    const int64_t N = x.shape[0], C = x.shape[1], len = product(x.shape, 2, x.shape.size());
    const float* in = x.as<float>();
    float* out = a.out[0]->as<float>();
    for (int64_t p = 0; p < N * C; ++p) {
      const float* row = in + p * len;
      double mean = 0, var = 0;
      for (int64_t k = 0; k < len; ++k) mean += row[k];
      mean /= static_cast<double>(std::max<int64_t>(len, 1));
      for (int64_t k = 0; k < len; ++k) var += (row[k] - mean) * (row[k] - mean);
      var /= static_cast<double>(std::max<int64_t>(len, 1));
      const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps_));
      const int64_t c = p % C;
      for (int64_t k = 0; k < len; ++k) out[p * len + k] = static_cast<float>((row[k] - mean) * inv_std * scale[c] + bias[c]);
    }
  }

 private:
  float eps_;
};
}  // namespace

std::unique_ptr<Kernel> make_instance_norm(const KernelContext& ctx) { return std::make_unique<InstanceNormRef>(ctx); }
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx) { return std::make_unique<SoftmaxRef>(ctx); }
std::unique_ptr<Kernel> make_layernorm(const KernelContext& ctx) { return std::make_unique<LayerNormRef>(ctx); }

}  // namespace octet::ref
