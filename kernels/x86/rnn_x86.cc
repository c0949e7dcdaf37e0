// LSTM, GRU, RNN on x86: the reference kernel's one step loop (kernels/reference/rnn_ref.h:
// sequence lengths, directions, layouts, GRU's two forms, the order of the float operations)
// with what must be fast overridden:
//  - the matrix products: oneDNN's matmul (float; onednn/gemm_onednn.h, one primitive per
//    shape, reading the model's weight rows in place) or octet's packed u8 x s8 GEMM
//    (int8_dynamic; gemm_u8s8.h, weights packed once at load, the zero point compensated with
//    the weights' row sums, the integers exactly the reference's);
//  - X/h quantization with AVX2 (quantize_avx2.h: the reference's codes bit for bit);
//  - the gate activations over a vector with math_avx2.h's polynomials, which differ from
//    std::exp/std::tanh by a few ulp: the only difference from the reference in int8 (float
//    products also sum in another order).
// oneDNN 2.6's gemm:jit re-packs plain weights on every call (int8 was no faster than float) and
// offers no pre-packed layout for it; it is used only for the input projection of many steps
// with VNNI, where that pays (products()). Float primitives depend only on shapes (created in
// reshape(), never per call).
#include <algorithm>
#include <cfloat>
#include <limits>
#include <memory>

#include "onednn/gemm_onednn.h"
#include "onednn/onednn_common.h"
#include "ops/rnn_params.h"
#include "reference/rnn_ref.h"
#include "x86/gemm_u8s8.h"
#include "x86/math_avx2.h"
#include "x86/quantize_avx2.h"
#include "x86/x86_kernels.h"

namespace octet::x86 {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// bad[r] = row r of x (rows of k) holds NaN or +-Inf.
OCTET_AVX2_FMA void mark_bad_rows(const float* x, int64_t rows, int64_t k, uint8_t* bad) {
  for (int64_t r = 0; r < rows; ++r) {
    bool finite = true;
    for (int64_t i = r * k; i < (r + 1) * k; ++i) finite &= std::fabs(x[i]) <= FLT_MAX;
    bad[r] = !finite;
  }
}

// out[r, j] = float(acc[r, j] - zp[r] sum[j]) * (s[r] sw[j]), or NaN for a bad row: the
// reference's dequantization of the exact sum of (code - zp) w.
OCTET_AVX2_FMA void dequantize(const ref::RnnRows& x, int64_t rows, const int32_t* acc, const int32_t* sum, const float* sw,
                               int64_t n, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* a = acc + r * n;
    float* o = out + r * n;
    if (x.bad[r]) {
      std::fill(o, o + n, kNaN);
      continue;
    }
    const int32_t zp = x.zero_point_of(r);
    const float s = x.scale_of(r);
    for (int64_t j = 0; j < n; ++j) o[j] = static_cast<float>(a[j] - zp * sum[j]) * (s * sw[j]);
  }
}

class RnnX86 final : public ref::RnnKernel {
 public:
  RnnX86(const KernelContext& ctx, GemmIsa isa) : RnnKernel(ctx), threads_(ctx.threads), isa_(isa) {
    for (const WeightRows& s : weight_rows()) {
      const TensorDef& w = ctx.input(s.kind == RowsKind::Input ? kRnnW : kRnnR);
      const int64_t K = w.shape.back();
      Slice sl;
      sl.rows = w.data + s.w0 * K * (int8_ ? 1 : 4);
      if (int8_) {   // packed once for octet's u8 x s8 kernel
        sl.packed = PackedU8S8(reinterpret_cast<const int8_t*>(sl.rows), s.n, K, K, isa);
        for (int64_t j = 0; j < s.n; ++j) sl.scale.push_back(w.quant.scale[w.quant.axis < 0 ? 0 : s.w0 + j]);
      }
      slices_.push_back(std::move(sl));
    }
  }

  // Float: one oneDNN matmul per kind of weight rows (their M x K x N), over every direction's.
  Support reshape(const KernelArgs& a) override {
    if (int8_) return Support::yes();
    const Shape& x = a.in[kRnnX]->shape;
    const int64_t rows = x[0] * x[1];   // S * B in either layout
    for (RowsKind kind : {RowsKind::Input, RowsKind::Recurrent, RowsKind::ResetHidden}) {
      std::vector<const float*> w;
      int64_t K = 0, N = 0;
      for (size_t i = 0; i < slices_.size(); ++i)
        if (weight_rows()[i].kind == kind) {
          w.push_back(reinterpret_cast<const float*>(slices_[i].rows));
          N = weight_rows()[i].n;
          K = kind == RowsKind::Input ? a.in[kRnnX]->shape[2] : p_.hidden;
        }
      const int64_t M = kind == RowsKind::Input ? rows : (p_.layout == 0 ? x[1] : x[0]);
      if (w.empty() || M == 0) continue;
      matmul(kind).init(M, K, N, w, threads_);
      impl_ = matmul(kind).impl();
    }
    return Support::yes();
  }

  std::string detail() const override { return int8_ ? std::string(isa_name(isa_)) + " u8s8 gemm" : "oneDNN matmul " + impl_; }

 protected:
  void products(const ref::RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out) override {
    if (rows <= 0) return;
    const size_t i = slice_of(w, w0, n);
    const WeightRows& s = weight_rows()[i];
    if (!int8_) return matmul(s.kind).run(x.f, static_cast<size_t>(s.dir), out);
    const Slice& sl = slices_[i];
    acc_.resize(static_cast<size_t>(rows * n));
    if (s.kind == RowsKind::Input && rows >= kLargeRows && large_gemm_) {
      // The input projection of all steps: oneDNN's own u8 x s8 GEMM on the model's rows, the
      // same raw products (no offsets; the zero point is compensated by the row sums).
      onednn::gemm_u8s8s32(x.codes.data(), rows, x.K, reinterpret_cast<const int8_t*>(sl.rows), n, acc_.data(), threads_, node_);
    } else {
      sl.packed.gemm(x.codes.data(), rows, x.K, acc_.data(), n, threads_);
    }
    dequantize(x, rows, acc_.data(), sl.packed.row_sums().data(), sl.scale.data(), n, out);
  }

  void quantize(const float* x, int64_t rows, int64_t k, bool per_row, ref::RnnRows* out) override {
    out->resize(rows, k);
    quantize_u8_rows_avx2(x, rows, k, per_row, out->params.data(), out->codes.data());
    mark_bad_rows(x, rows, k, out->bad.data());
  }

  OCTET_AVX2_FMA void activate(RnnAct a, float* v, int64_t n) override {
    int64_t i = 0;
    switch (a) {
      case RnnAct::Sigmoid:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, math::sigmoid8(_mm256_loadu_ps(v + i)));
        for (; i < n; ++i) v[i] = math::sigmoid(v[i]);
        break;
      case RnnAct::Tanh:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, math::tanh8(_mm256_loadu_ps(v + i)));
        for (; i < n; ++i) v[i] = math::tanh_approx(v[i]);
        break;
      case RnnAct::Relu: RnnKernel::activate(a, v, n); break;
    }
  }

 private:
  // One entry of weight_rows(): the model's rows, and (int8) packed with their scales.
  struct Slice {
    const uint8_t* rows = nullptr;
    PackedU8S8 packed;
    std::vector<float> scale;
  };
  onednn::MatMulF32& matmul(RowsKind kind) { return matmul_[static_cast<size_t>(kind)]; }

  // With VNNI, oneDNN's GEMM is faster than octet's kernel for the input projection of many
  // steps (it re-packs the weights per call, which pays only for many rows); without VNNI its
  // AVX2 path would saturate full-range weights.
  static constexpr int64_t kLargeRows = 32;
  const bool large_gemm_ = onednn::isa_has_vnni();
  int threads_;
  GemmIsa isa_;
  std::vector<Slice> slices_;        // per weight_rows() entry
  onednn::MatMulF32 matmul_[3];      // float: per RowsKind
  std::string impl_;
  std::vector<int32_t> acc_;
};
}  // namespace

Support rnn_supports(const KernelContext& ctx) {
  // int8_dynamic: any s8 weights are exact in PackedU8S8 (gemm_u8s8.h); packed once, so constant.
  for (size_t i : {size_t(kRnnW), size_t(kRnnR)})
    if (!ctx.input(i).data) return Support::no("W and R must be constant");
  return Support::yes();
}

std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx, GemmIsa isa) { return std::make_unique<RnnX86>(ctx, isa); }

}  // namespace octet::x86
