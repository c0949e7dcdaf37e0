// FullyConnected on octet's own x86 GEMM (x86/gemm_u8s8.h): static int8 at small M, and
// dynamic int8.
#include <immintrin.h>

#include <algorithm>

#include "onednn/gemm_onednn.h"
#include "onednn/onednn_common.h"
#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/activation.h"
#include "quant/bias_fold.h"
#include "reference/q8.h"
#include "simd/fc_dynamic.h"
#include "x86/math_avx2.h"
#include "x86/quantize_avx2.h"
#include "x86/x86_kernels.h"

namespace octet::x86 {

namespace {

// Static int8 FullyConnected at small M (a classifier head at batch 1): oneDNN 2.6's int8 matmul
// takes ~8x longer there than octet's packed u8 x s8 kernel (gemm_u8s8.h; 251 vs 31 us for
// 1x512x2048 in benchmarks/micro). Up to kSmallRows rows run on that kernel with the reference's
// integers and float steps (so outputs equal the reference's); more rows are declined, and the
// backend's next implementation (oneDNN's matmul) takes them.
class FcStaticSmallM final : public Kernel {
 public:
  static constexpr int64_t kSmallRows = 16;

  FcStaticSmallM(const KernelContext& ctx, GemmIsa isa) : node_(ctx.node), threads_(ctx.threads) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    N_ = w.shape[0], K_ = w.shape[1];
    packed_ = PackedU8S8(reinterpret_cast<const int8_t*>(w.data), N_, K_, K_, isa);
    flip_ = x.dtype == DataType::s8;   // s8 x as u8 x + 128, with the zero point moved along
    const int32_t zp_x = x.quant.zero_point[0] + (flip_ ? 128 : 0);
    // The input zero point folded into the bias once: acc - zp_x sum(w) + b.
    const int32_t* b = ctx.has_input(2) ? reinterpret_cast<const int32_t*>(ctx.input(2).data) : nullptr;
    if (!q::fold_zero_point(packed_.row_sums(), b, zp_x, &bias_))
      node_error(ctx.node, "bias with the input zero point folded in overflows int32");
    rq_ = q::requant_for(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0]);
    scale_.resize(N_);
    for (int64_t n = 0; n < N_; ++n) scale_[n] = ref::requant_multiplier(rq_, x.quant.scale[0], w.quant.scale[w.quant.axis < 0 ? 0 : n]);
  }

  Support reshape(const KernelArgs& a) override {
    if (a.in[0]->elements() / std::max<int64_t>(K_, 1) <= kSmallRows) return Support::yes();
    return Support::no("more than " + std::to_string(kSmallRows) + " rows (oneDNN's matmul is faster there)");
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t rows = x.elements() / std::max<int64_t>(K_, 1);
    if (rows == 0) return;
    const uint8_t* xq = static_cast<const uint8_t*>(x.data);
    if (flip_) {
      xf_.resize(static_cast<size_t>(rows * K_));
      for (size_t i = 0; i < xf_.size(); ++i) xf_[i] = static_cast<uint8_t>(xq[i] ^ 0x80);
      xq = xf_.data();
    }
    acc_.resize(static_cast<size_t>(rows * N_));
    packed_.gemm(xq, rows, K_, acc_.data(), N_, threads_);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t n = 0; n < N_; ++n) {
        const int32_t acc = acc_[static_cast<size_t>(r * N_ + n)] + bias_[static_cast<size_t>(n)];
        ref::store_requant(y.dtype, y.data, r * N_ + n, acc, scale_[static_cast<size_t>(n)], false, 0.f, 0.f, node_.activation, rq_);
      }
  }

  std::string detail() const override { return isa_name(packed_.isa()); }

 private:
  const NodeDef& node_;
  int threads_;
  int64_t N_ = 0, K_ = 0;
  PackedU8S8 packed_;
  bool flip_ = false;
  q::Requant rq_;
  std::vector<int32_t> bias_, acc_;
  std::vector<float> scale_;
  std::vector<uint8_t> xf_;
};

// int8_dynamic FullyConnected: the kernel skeleton (simd/fc_dynamic.h: quantize rows, GEMM,
// epilogue in the reference's order) with x86's parts: AVX2 quantization (quantize_avx2.h, the
// reference's codes), products on octet's packed kernel (weights packed once here) or oneDNN's
// GEMM, and GELU on 8 lanes (math_avx2.h; the other activations are the reference's).
class FcDynamic final : public simd::FcDynamicKernel {
 public:
  FcDynamic(const KernelContext& ctx, GemmIsa isa) : FcDynamicKernel(ctx), packed_(w_, N_, K_, K_, isa) {}

  std::string detail() const override { return large_ ? "oneDNN gemm_u8s8s32" : std::string(isa_name(packed_.isa())) + " u8s8 gemm"; }

 protected:
  void quantize(const float* x, int64_t rows, bool per_row, q::Params* params, uint8_t* codes) override {
    quantize_u8_rows_avx2(x, rows, K_, per_row, params, codes);
  }

  void products(const uint8_t* codes, int64_t rows, int32_t* acc) override {
    large_ = large_gemm_ && rows >= kLargeRows;
    // Raw u8 x s8 products either way (the epilogue subtracts each row's zero point, exactly).
    if (large_) onednn::gemm_u8s8s32(codes, rows, K_, w_, N_, acc, threads_, node_);
    else packed_.gemm(codes, rows, K_, acc, N_, threads_);
  }

  OCTET_AVX2_FMA void activate(float* y, int64_t n) override {
    if (node_.activation.kind != ActKind::Gelu) return FcDynamicKernel::activate(y, n);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, math::gelu8(_mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] = gelu_erf(y[i]);
  }

 private:
  // The GEMM routine: from kLargeRows rows (a transformer's tokens), with VNNI, oneDNN's own u8 x
  // s8 GEMM is faster than octet's kernel (measured: 128 x 768 x 3072 in 1.65 ms vs 2.8-3.2 ms on
  // an AVX-512 VNNI Zen 4); it re-packs the weights per call, which only pays for many rows.
  // Without VNNI its AVX2 path would saturate full-range weights, so octet's exact kernel stays.
  // The same integers either way; detail() says which ran.
  static constexpr int64_t kLargeRows = 64;
  PackedU8S8 packed_;
  bool large_gemm_ = onednn::isa_has_vnni(), large_ = false;
};

}  // namespace

Support fc_small_m_supports(const KernelContext& ctx) {
  if (ctx.node.precision != Precision::Int8Static) return Support::no("not int8_static");
  const DataType yt = ctx.output(0).dtype;
  if (yt != DataType::u8 && yt != DataType::s8) return Support::no("needs an 8-bit output");
  return Support::yes();   // any s8 weights are exact in PackedU8S8
}

std::unique_ptr<Kernel> make_fc_small_m(const KernelContext& ctx, GemmIsa isa) { return std::make_unique<FcStaticSmallM>(ctx, isa); }

Support fc_dynamic_supports(const KernelContext& ctx) {
  if (ctx.node.precision != Precision::Int8Dynamic) return Support::no("not int8_dynamic");
  // Any s8 weights are exact in PackedU8S8 (gemm_u8s8.h); they must be constant to be packed.
  return ctx.input(1).data ? Support::yes() : Support::no("dynamic int8 weights must be constant");
}

std::unique_ptr<Kernel> make_fc_dynamic(const KernelContext& ctx, GemmIsa isa) { return std::make_unique<FcDynamic>(ctx, isa); }

}  // namespace octet::x86
