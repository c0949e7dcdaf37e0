// LayerNormalization and Softmax over the last axis, float, on x86: octet's own AVX2 loops (the
// ops of transformer encoders between the matrix products). Same formulas as the reference
// (norm_ref.cc), accumulated in float over 8 lanes instead of double: mean, then the population
// variance of (x - mean) (two passes, no cancellation), y = (x - mean) * (1 / sqrt(var + eps))
// * scale + bias; Softmax subtracts the row max, exponentiates (math_avx2.h's exp8, ~2 ulp) and
// divides by the sum. Rows are split over the session's threads.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/op_spec.h"
#include "x86/math_avx2.h"
#include "x86/x86_kernels.h"

namespace octet::x86 {

namespace {
#define OCTET_NORM_SIMD __attribute__((target("avx2,fma")))

OCTET_NORM_SIMD inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

OCTET_NORM_SIMD inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

int64_t last_axis_len(const NodeDef& n, const Shape& x) {
  const int64_t r = static_cast<int64_t>(x.size());
  int64_t ax = n.attrs.get_int("axis", -1);
  if (ax < 0) ax += r;
  return ax == r - 1 && r > 0 ? x.back() : -1;
}

class LayerNormAvx2 final : public Kernel {
 public:
  explicit LayerNormAvx2(const KernelContext& ctx) : node_(ctx.node), threads_(ctx.threads), eps_(ctx.node.attrs.get_float("epsilon", 1e-5f)) {
    const TensorDef& s = ctx.input(1);
    len_ = static_cast<int64_t>(shape_elements(s.shape));
    scale_.assign(reinterpret_cast<const float*>(s.data), reinterpret_cast<const float*>(s.data) + len_);
    bias_.assign(static_cast<size_t>(len_), 0.f);
    if (ctx.has_input(2)) std::copy_n(reinterpret_cast<const float*>(ctx.input(2).data), len_, bias_.begin());
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t rows = len_ ? x.elements() / len_ : 0;
#pragma omp parallel for num_threads(threads_) if (threads_ > 1 && rows * len_ > 32768)
    for (int64_t r = 0; r < rows; ++r) row(x.as<float>() + r * len_, y.as<float>() + r * len_);
  }

  

 private:
  OCTET_NORM_SIMD void row(const float* x, float* y) const {
    const int64_t n = len_;
    int64_t k = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; k + 8 <= n; k += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + k));
    float sum = hsum(acc);
    for (; k < n; ++k) sum += x[k];
    const float mean = sum / static_cast<float>(n);
    const __m256 vm = _mm256_set1_ps(mean);
    acc = _mm256_setzero_ps();
    for (k = 0; k + 8 <= n; k += 8) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + k), vm);
      acc = _mm256_fmadd_ps(d, d, acc);
    }
    float var = hsum(acc);
    for (; k < n; ++k) var += (x[k] - mean) * (x[k] - mean);
    var /= static_cast<float>(n);
    const float inv = 1.f / std::sqrt(var + eps_);
    const __m256 vi = _mm256_set1_ps(inv);
    for (k = 0; k + 8 <= n; k += 8) {
      const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + k), vm), vi);
      _mm256_storeu_ps(y + k, _mm256_fmadd_ps(d, _mm256_loadu_ps(scale_.data() + k), _mm256_loadu_ps(bias_.data() + k)));
    }
    for (; k < n; ++k) y[k] = (x[k] - mean) * inv * scale_[k] + bias_[k];
  }

  const NodeDef& node_;
  int threads_;
  float eps_;
  int64_t len_ = 0;
  std::vector<float> scale_, bias_;
};

class SoftmaxAvx2 final : public Kernel {
 public:
  explicit SoftmaxAvx2(const KernelContext& ctx) : threads_(ctx.threads) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t len = x.shape.empty() ? 1 : x.shape.back();
    const int64_t rows = len ? x.elements() / len : 0;
#pragma omp parallel for num_threads(threads_) if (threads_ > 1 && rows * len > 32768)
    for (int64_t r = 0; r < rows; ++r) row(x.as<float>() + r * len, y.as<float>() + r * len, len);
  }

  

 private:
  OCTET_NORM_SIMD static void row(const float* x, float* y, int64_t n) {
    int64_t k = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; k + 8 <= n; k += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + k));
    float mx = hmax(vmax);
    for (; k < n; ++k) mx = x[k] > mx ? x[k] : mx;
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 acc = _mm256_setzero_ps();
    for (k = 0; k + 8 <= n; k += 8) {
      const __m256 e = math::exp8(_mm256_sub_ps(_mm256_loadu_ps(x + k), vm));
      _mm256_storeu_ps(y + k, e);
      acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum(acc);
    for (; k < n; ++k) sum += y[k] = math::exp_approx(x[k] - mx);
    const float inv = 1.f / sum;
    const __m256 vi = _mm256_set1_ps(inv);
    for (k = 0; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_mul_ps(_mm256_loadu_ps(y + k), vi));
    for (; k < n; ++k) y[k] *= inv;
  }

  int threads_;
};
}  // namespace

Support norm_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (n.precision != Precision::Float) return Support::no("float only");
  const TensorDef& x = ctx.input(0);
  if (x.shape.empty() || x.shape.back() <= 0) return Support::no("needs a known last dimension");
  if (last_axis_len(n, x.shape) < 0) return Support::no("only the last axis");
  if (n.op == OpKind::LayerNormalization) {
    if (n.outputs.size() > 1) return Support::no("the Mean/InvStdDev outputs are the reference's");
    const int64_t len = x.shape.back();
    if (!ctx.input(1).data || static_cast<int64_t>(shape_elements(ctx.input(1).shape)) != len) return Support::no("scale must be a constant of the last dimension");
    if (ctx.has_input(2) && (!ctx.input(2).data || static_cast<int64_t>(shape_elements(ctx.input(2).shape)) != len))
      return Support::no("bias must be a constant of the last dimension");
  }
  return Support::yes();
}

std::unique_ptr<Kernel> make_layernorm(const KernelContext& ctx) { return std::make_unique<LayerNormAvx2>(ctx); }
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx) { return std::make_unique<SoftmaxAvx2>(ctx); }

}  // namespace octet::x86
