// FullyConnected on oneDNN's matmul: X [..., K] is viewed as rows x K, W [N, K] is described as a
// K x N matrix with strides (1, K) and reordered once into the layout oneDNN chose. Static int8:
// the input zero point is always folded into an s32 bias (an FC has no padding), so oneDNN runs
// without zero-point attributes: acc' = sum(x w) + bias - zp_x sum(w) = sum((x - zp_x) w) + bias.
#include <immintrin.h>

#include <cmath>
#include <limits>

#include "onednn/gemm_u8s8.h"
#include "onednn/quant_avx2.h"
#include "onednn/onednn_common.h"
#include "onednn/rnn_math.h"
#include "onednn/onednn_kernels.h"
#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/activation.h"
#include "quant/dynamic_quant.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::onednn {

namespace {

struct FcSetup {
  Precision prec;
  int64_t N = 0, K = 0;
  bool has_bias = false;   // the primitive has a bias (the node's, or the folded zero point)
  DataType xt = DataType::f32, yt = DataType::f32;
  int32_t zp_x = 0;
  std::string unsupported;
  dnnl::primitive_attr attr;
  dnnl::memory::desc user_w_md;

  explicit FcSetup(const KernelContext& ctx) : prec(ctx.node.precision) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    N = w.shape[0], K = w.shape[1];
    xt = x.dtype, yt = y.dtype;
    user_w_md = dnnl::memory::desc({K, N}, prec == Precision::Float ? dt::f32 : dt::s8, tag::ba);
    has_bias = ctx.has_input(2);
    if (prec == Precision::Int8Static) {
      zp_x = x.quant.zero_point[0];
      has_bias = has_bias || zp_x != 0;
      QuantChain q = quant_chain(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0], 0.f, nullptr, 2, /*round_first=*/true);
      unsupported = q.unsupported;
      const float sx = x.quant.scale[0];
      if (w.quant.axis == 0 && w.quant.scale.size() > 1) {
        std::vector<float> scales(N);
        for (int64_t c = 0; c < N; ++c) scales[c] = sx * w.quant.scale[c] * q.factor;
        attr.set_output_scales(1 << 1, scales);
      } else {
        attr.set_output_scales(0, {sx * w.quant.scale[0] * q.factor});
      }
      attr.set_post_ops(q.po);
    } else {
      attr.set_post_ops(float_chain(ctx.node.activation, false));
    }
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  }

  dnnl::matmul::primitive_desc pd(const Shape& x) const {
    const int64_t rows = shape_elements(x) / K;
    dnnl::memory::desc src({rows, K}, to_dnnl(xt), tag::ab);
    dnnl::memory::desc dst({rows, N}, to_dnnl(yt), tag::ab);
    dnnl::memory::desc wei({K, N}, user_w_md.data_type(), tag::any);
    if (has_bias) {
      dnnl::memory::desc bias({1, N}, prec == Precision::Float ? dt::f32 : dt::s32, tag::ab);
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, bias, dst), attr, engine());
    }
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, engine());
  }
};

class FcOnednn final : public CachedKernel {
 public:
  explicit FcOnednn(const KernelContext& ctx)
      : CachedKernel(ctx, ref::make_fully_connected(ctx)), s_(ctx), weights_(s_.user_w_md, ctx.input(1).data) {
    if (ctx.has_input(2)) bias_data_ = const_cast<uint8_t*>(ctx.input(2).data);
    if (s_.zp_x != 0) {
      const int8_t* w = reinterpret_cast<const int8_t*>(ctx.input(1).data);
      const int32_t* b = static_cast<const int32_t*>(bias_data_);
      folded_bias_.resize(s_.N);
      for (int64_t n = 0; n < s_.N; ++n) {
        int64_t sum = 0;
        for (int64_t k = 0; k < s_.K; ++k) sum += w[n * s_.K + k];
        const int64_t v = (b ? b[n] : 0) - static_cast<int64_t>(s_.zp_x) * sum;
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
          node_error(ctx.node, "bias with the input zero point folded in overflows int32");
        folded_bias_[n] = static_cast<int32_t>(v);
      }
      bias_data_ = folded_bias_.data();
    }
    std::vector<Shape> in, out;
    if (representative_shapes(ctx, &in, &out)) prepare(in, out);
  }

 private:
  Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) override {
    auto pd = s_.pd(in[0]);
    Prim p;
    p.impl = pd.impl_info_str();
    if (is_ref_impl(p.impl)) return p;
    p.prim = dnnl::matmul(pd);
    const auto& eng = engine();
    p.args[DNNL_ARG_SRC] = dnnl::memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_DST] = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    p.args[DNNL_ARG_WEIGHTS] = weights_.get(pd.weights_desc(), stream_);
    if (s_.has_bias) p.args[DNNL_ARG_BIAS] = dnnl::memory(pd.bias_desc(), eng, bias_data_);
    p.scratchpad = pd.scratchpad_desc().get_size();
    if (p.scratchpad) p.args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    return p;
  }

  void bind(Prim& p, const KernelArgs& a) override {
    p.args[DNNL_ARG_SRC].set_data_handle(a.in[0]->data);
    p.args[DNNL_ARG_DST].set_data_handle(a.out[0]->data);
  }

  FcSetup s_;
  PackedWeights weights_;
  void* bias_data_ = nullptr;
  std::vector<int32_t> folded_bias_;
};


// Static int8 FullyConnected at small M (a classifier head at batch 1): oneDNN 2.6's int8 matmul
// takes ~8x longer there than octet's packed u8 x s8 kernel (gemm_u8s8.h; 251 vs 31 us for
// 1x512x2048 in benchmarks/micro). Up to kSmallRows rows run on that kernel with the reference's
// integers and float steps (so outputs equal the reference's); more rows go to oneDNN.
class FcStaticSmallM final : public Kernel {
 public:
  static constexpr int64_t kSmallRows = 16;

  explicit FcStaticSmallM(const KernelContext& ctx) : ctx_(ctx), node_(ctx.node), threads_(ctx.threads) {
    const TensorDef& x = ctx.input(0);
    const TensorDef& w = ctx.input(1);
    const TensorDef& y = ctx.output(0);
    N_ = w.shape[0], K_ = w.shape[1];
    packed_ = PackedU8S8(reinterpret_cast<const int8_t*>(w.data), N_, K_, K_);
    flip_ = x.dtype == DataType::s8;   // s8 x as u8 x + 128, with the zero point moved along
    const int32_t zp_x = x.quant.zero_point[0] + (flip_ ? 128 : 0);
    // The input zero point folded into the bias once: acc - zp_x sum(w) + b.
    const int32_t* b = ctx.has_input(2) ? reinterpret_cast<const int32_t*>(ctx.input(2).data) : nullptr;
    bias_.resize(N_);
    for (int64_t n = 0; n < N_; ++n) {
      const int64_t v = (b ? b[n] : 0) - static_cast<int64_t>(zp_x) * packed_.row_sums()[static_cast<size_t>(n)];
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        node_error(ctx.node, "bias with the input zero point folded in overflows int32");
      bias_[static_cast<size_t>(n)] = static_cast<int32_t>(v);
    }
    rq_ = q::requant_for(ctx.node.activation, y.quant.scale[0], y.quant.zero_point[0]);
    scale_.resize(N_);
    for (int64_t n = 0; n < N_; ++n) scale_[n] = ref::requant_multiplier(rq_, x.quant.scale[0], w.quant.scale[w.quant.axis < 0 ? 0 : n]);
  }

  void reshape(const KernelArgs& a) override {
    small_ = a.in[0]->elements() / std::max<int64_t>(K_, 1) <= kSmallRows;
    if (small_) return;
    // oneDNN's primitive (and its copy of the weights) only once more rows than kSmallRows come.
    if (!large_) large_ = std::make_unique<FcOnednn>(ctx_);
    large_->reshape(a);
  }

  void run(const KernelArgs& a) override {
    if (!small_) return large_->run(a);
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

  std::string impl() const override { return small_ ? std::string("fc u8s8 small-M octet ") + packed_.isa() : large_->impl(); }

 private:
  const KernelContext ctx_;
  const NodeDef& node_;
  int threads_;
  std::unique_ptr<FcOnednn> large_;   // created on the first run with more than kSmallRows rows
  int64_t N_ = 0, K_ = 0;
  PackedU8S8 packed_;
  bool flip_ = false, small_ = true;
  q::Requant rq_;
  std::vector<int32_t> bias_, acc_;
  std::vector<float> scale_;
  std::vector<uint8_t> xf_;
};

// int8_dynamic FullyConnected (docs/format.md; reference: gemm_ref.cc): X quantized to u8 at run
// time, per tensor or per row (input_quant), u8 x s8 -> s32 on octet's packed kernel (weights
// packed once here) or oneDNN's GEMM, then y = float(acc - zp_x[r] sum(w)) * (s_x[r] s_w[n]) +
// b[n] and the fused activation, in the reference's order. The s32 products are written into
// Y's own memory and converted in place.
class FcDynamic final : public Kernel {
 public:
  explicit FcDynamic(const KernelContext& ctx) : node_(ctx.node), threads_(ctx.threads), per_row_(dynamic_input_per_row(ctx.node)) {
    const TensorDef& w = ctx.input(1);
    N_ = w.shape[0], K_ = w.shape[1];
    packed_ = PackedU8S8(reinterpret_cast<const int8_t*>(w.data), N_, K_, K_);
    sw_.resize(N_);
    for (int64_t n = 0; n < N_; ++n) sw_[n] = w.quant.axis < 0 ? w.quant.scale[0] : w.quant.scale[n];
    bias_.assign(N_, 0.f);
    if (ctx.has_input(2)) std::copy_n(reinterpret_cast<const float*>(ctx.input(2).data), N_, bias_.begin());
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t rows = x.elements() / std::max<int64_t>(K_, 1), n = rows * K_;
    if (rows == 0) return;
    if (xq_.size() < static_cast<size_t>(n + 4)) xq_.resize(static_cast<size_t>(n + 4));
    params_.resize(static_cast<size_t>(rows));
    quantize_u8_rows_avx2(x.as<float>(), rows, K_, per_row_, params_.data(), xq_.data());
    int32_t* acc = reinterpret_cast<int32_t*>(y.data);
    large_ = large_gemm_ && rows >= kLargeRows;
    if (large_) {
      // Raw u8 x s8 products (zero point 0 here: the epilogue subtracts each row's, exactly).
      ThreadScope ts(threads_);
      const int32_t co = 0;
      if (dnnl_gemm_u8s8s32('N', 'T', 'F', rows, N_, K_, 1.f, xq_.data(), K_, 0, a.in[1]->as<int8_t>(), K_, 0, 0.f, acc, N_,
                            &co) != dnnl_success)
        node_error(node_, "dnnl_gemm_u8s8s32 failed");
    } else {
      packed_.gemm(xq_.data(), rows, K_, acc, N_, threads_);
    }
    epilogue(acc, rows);
  }

  std::string impl() const override {
    return large_ ? "fc u8s8 dynamic onednn gemm_u8s8s32" : std::string("fc u8s8 dynamic octet ") + packed_.isa();
  }

 private:
  __attribute__((target("avx2,fma"))) void epilogue(int32_t* acc, int64_t rows) {
    const std::vector<int32_t>& sums = packed_.row_sums();
    float* y = reinterpret_cast<float*>(acc);
    const bool gelu = node_.activation.kind == ActKind::Gelu, act = node_.activation.kind != ActKind::None;
    // Rows split over the session's threads (GELU over 128 x 3072 outputs is ~0.5 ms on one core).
#pragma omp parallel for num_threads(threads_) if (threads_ > 1 && rows * N_ > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      int32_t* ar = acc + r * N_;
      float* yr = y + r * N_;
      int64_t n = 0;
      const int32_t zp = params_[r].zero_point;
      const float sx = params_[r].scale;
      const __m256i vz = _mm256_set1_epi32(zp);
      const __m256 vsx = _mm256_set1_ps(sx);
      for (; n + 8 <= N_; n += 8) {
        const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums.data() + n));
        const __m256i v = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + n)), _mm256_mullo_epi32(vz, s));
        const __m256 real = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(vsx, _mm256_loadu_ps(sw_.data() + n)));
        _mm256_storeu_ps(yr + n, _mm256_add_ps(real, _mm256_loadu_ps(bias_.data() + n)));
      }
      for (; n < N_; ++n) yr[n] = static_cast<float>(ar[n] - zp * sums[n]) * (sx * sw_[n]) + bias_[n];
      if (gelu) {
        for (n = 0; n + 8 <= N_; n += 8) _mm256_storeu_ps(yr + n, rnnmath::gelu8(_mm256_loadu_ps(yr + n)));
        for (; n < N_; ++n) yr[n] = gelu_erf(yr[n]);
      } else if (act) {
        for (n = 0; n < N_; ++n) yr[n] = apply_activation(node_.activation, yr[n]);
      }
    }
  }

  // From kLargeRows rows (a transformer's tokens), with VNNI, oneDNN's own u8 x s8 GEMM is faster
  // than octet's kernel (measured: 128 x 768 x 3072 in 1.65 ms vs 2.8-3.2 ms on an AVX-512 VNNI
  // Zen 4); it re-packs the weights per call, which only pays for many rows. Without VNNI its
  // AVX2 path would saturate full-range weights, so octet's exact kernel stays.
  static constexpr int64_t kLargeRows = 64;
  const NodeDef& node_;
  int threads_;
  int64_t N_ = 0, K_ = 0;
  PackedU8S8 packed_;
  bool per_row_;
  bool large_gemm_ = isa_has_vnni(), large_ = false;
  std::vector<float> sw_, bias_;
  std::vector<q::Params> params_;   // per row of X (all equal when per tensor)
  std::vector<uint8_t> xq_;
};

}  // namespace

Support fc_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (n.precision == Precision::Int8Dynamic) {
    if (!u8s8_gemm_supported()) return Support::no("dynamic int8 needs AVX2");
    // Any s8 weights are exact in PackedU8S8 (gemm_u8s8.h); they must be constant to be packed.
    return ctx.input(1).data ? Support::yes() : Support::no("dynamic int8 weights must be constant");
  }
  if (n.precision == Precision::Int8Static) {
    // An s8 X needs no care here: oneDNN's matmul adds 128 to it and compensates, without
    // touching the weights, so [-64, 64] weights stay exact (onednn_common.h). Beyond that,
    // without VNNI, octet's exact simd kernel runs the node.
    const std::string unsafe = int8_weights_unsafe(ctx.input(1));
    if (!unsafe.empty()) return simd_instead(ctx, unsafe);
  }
  std::string why;
  if (!activation_supported(n.activation, &why)) return Support::no(why);
  FcSetup s(ctx);
  if (!s.unsupported.empty()) return Support::no(s.unsupported);
  return probe(ctx, "fully-connected matmul", [&](const std::vector<Shape>& in, const std::vector<Shape>&) {
    return std::string(s.pd(in[0]).impl_info_str());
  });
}

std::unique_ptr<Kernel> make_fc(const KernelContext& ctx) {
  if (ctx.node.precision == Precision::Int8Dynamic) return std::make_unique<FcDynamic>(ctx);
#ifdef OCTET_WITH_SIMD
  if (ctx.node.precision == Precision::Int8Static && !int8_weights_unsafe(ctx.input(1)).empty())
    return simd::make_conv_int8(ctx, omp_parallel_for(ctx.threads));
#endif
  if (ctx.node.precision == Precision::Int8Static && u8s8_gemm_supported() && (ctx.output(0).dtype == DataType::u8 || ctx.output(0).dtype == DataType::s8))
    return std::make_unique<FcStaticSmallM>(ctx);
  return std::make_unique<FcOnednn>(ctx);
}

}  // namespace octet::onednn
