// Static int8 ConvTranspose on the portable GEMM, bit-identical to the reference
// (kernels/reference/conv_ref.cc's transposed loop):
//   acc[n, oh, ow, o] = sum over (ih, iw, kh, kw) with oh = ih s_h - pad_t + kh d_h,
//                       ow = iw s_w - pad_l + kw d_w, of sum_c (x - zp_x)[n, ih, iw, c] w[o, kh, kw, c]
//   y = requantize(acc + bias)                                         quant/requant.h
// all in exact int32 (no zero-point fold: border outputs get fewer taps, which a bias fold would
// get wrong).
//
// Sub-pixel form: output row oh receives exactly the taps kh with kh d_h = oh + pad_t (mod s_h),
// each from input row ih = (oh + pad_t - kh d_h) / s_h, and output column ow the taps kw with
// kw d_w = ow + pad_l (mod s_w). So the outputs of one column phase r_w = (ow + pad_l) mod s_w
// of one output row are, per valid kh, an ordinary GEMM: one row per output pixel holding the
// codes of its input pixels for that phase's taps kw (s16, zero point subtracted), times the
// weights of (kh, phase) packed once. With the taps ordered by decreasing kw, consecutive taps
// read consecutive input pixels when d_w divides s_w, so for one group (or one tap) the GEMM reads
// its rows straight from X widened once per run (row stride C, rows overlapping); otherwise they
// are gathered. X is widened with zero columns on both sides, so border taps read real zeros.
// The first valid kh writes the phase's sums into the output row's accumulators (stride s_w O),
// later ones are added. Threads take contiguous ranges of output rows.
#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/params.h"
#include "simd/gemm_i16s8.h"
#include "simd/int8_epilogue.h"
#include "simd/simd_kernels.h"
#include "simd/widen_codes.h"

namespace octet::simd {

namespace {

// The taps of each phase along one axis, by decreasing k: taps[r] = {k : k d = r (mod s)}.
std::vector<std::vector<int64_t>> phase_taps(int64_t K, int64_t s, int64_t d) {
  std::vector<std::vector<int64_t>> taps(static_cast<size_t>(s));
  for (int64_t k = K; k-- > 0;) taps[static_cast<size_t>(k * d % s)].push_back(k);
  return taps;
}

class ConvTransposeInt8Simd final : public Kernel {
 public:
  explicit ConvTransposeInt8Simd(const KernelContext& ctx)
      : p_(parse_conv(ctx.node)), parallel_(ctx.parallel_for()), threads_(std::max(ctx.threads, 1)) {
    const TensorDef& w = ctx.input(1);
    O_ = w.shape[0], KH_ = w.shape[1], KW_ = w.shape[2], Cg_ = w.shape[3];
    G_ = p_.group, Og_ = O_ / G_;
    taps_w_ = phase_taps(KW_, p_.stride_w, p_.dil_w);
    // Consecutive taps of a phase are s_w / gcd(s_w, d_w) apart, their input pixels d_w / gcd apart.
    const bool adjacent = p_.dil_w / std::gcd(p_.stride_w, p_.dil_w) == 1;
    // Per group, kh and column phase: Og rows of |taps| Cg codes in the GEMM's (kw, c) order.
    const int8_t* wp = reinterpret_cast<const int8_t*>(w.data);
    for (int64_t g = 0; g < G_; ++g)
      for (int64_t kh = 0; kh < KH_; ++kh)
        for (const auto& tw : taps_w_) {
          const int64_t K = static_cast<int64_t>(tw.size()) * Cg_;
          std::vector<int8_t> rows(static_cast<size_t>(Og_ * K));
          for (int64_t o = 0; o < Og_; ++o)
            for (size_t t = 0; t < tw.size(); ++t)
              std::copy_n(wp + (((g * Og_ + o) * KH_ + kh) * KW_ + tw[t]) * Cg_, Cg_, rows.data() + o * K + static_cast<int64_t>(t) * Cg_);
          packed_.emplace_back(rows.data(), Og_, K, K);
          direct_.push_back(tw.size() <= 1 || (adjacent && G_ == 1));
          max_k_ = std::max(max_k_, K);
        }
    epilogue_ = Int8Epilogue(ctx, O_, KH_ * KW_ * Cg_);
    buffers_.resize(static_cast<size_t>(threads_));
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3], OH = y.shape[1], OW = y.shape[2];
    const int64_t rows = N * OH;
    if (rows == 0 || OW == 0) return;
    // Input columns the taps reach: from (pad_l - (KW - 1) d_w) / s_w (rounded down) to (OW - 1 + pad_l) / s_w.
    const int64_t sw = p_.stride_w;
    const int64_t lo = p_.pad_l - (KW_ - 1) * p_.dil_w, hi = (OW - 1 + p_.pad_l) / sw;
    pad_l_ = std::max<int64_t>(0, -((lo - (sw - 1)) / sw)), Wp_ = pad_l_ + std::max(W, hi + 1);
    xs_.assign(static_cast<size_t>(N * H * Wp_ * C), 0);
    const int64_t tasks = std::min<int64_t>(threads_, rows);
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {   // X widened once: every pixel feeds several outputs
      for (int64_t r = N * H * static_cast<int64_t>(t) / tasks; r < N * H * static_cast<int64_t>(t + 1) / tasks; ++r)
        widen_codes(x.as<uint8_t>() + r * W * C, x.dtype == DataType::u8, W * C, x.zero_point(), xs_.data() + (r * Wp_ + pad_l_) * C);
    });
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      Buffers& buf = buffers_[t];
      buf.cols.resize(static_cast<size_t>((OW / sw + 1) * max_k_));
      buf.sums.resize(static_cast<size_t>((OW / sw + 1) * Og_));
      buf.acc.resize(static_cast<size_t>(OW * O_));
      for (int64_t row = rows * static_cast<int64_t>(t) / tasks; row < rows * static_cast<int64_t>(t + 1) / tasks; ++row)
        output_row(x.shape, y, row / OH, row % OH, buf);
    });
  }

  std::string detail() const override { return gemm_target(); }

 private:
  struct Buffers {
    std::vector<int16_t> cols;   // gathered GEMM rows (phases not read straight from X): [pixels, K]
    std::vector<int32_t> sums;   // a later kh's sums before they are added: [pixels, Og]
    std::vector<int32_t> acc;    // the output row's sums: [OW, O]
  };

  void output_row(const Shape& xs, Tensor& y, int64_t n, int64_t oh, Buffers& buf) const {
    const int64_t H = xs[1], C = xs[3], OW = y.shape[2];
    const int64_t sh = p_.stride_h, sw = p_.stride_w;
    for (int64_t rw = 0; rw < sw; ++rw) {
      // This phase's output pixels: ow0, ow0 + s_w, ... < OW; pixel m's first tap reads input
      // column iw0 + m.
      const int64_t ow0 = ((rw - p_.pad_l) % sw + sw) % sw;
      if (ow0 >= OW) continue;
      const int64_t M = (OW - 1 - ow0) / sw + 1;
      const std::vector<int64_t>& tw = taps_w_[static_cast<size_t>(rw)];
      const int64_t K = static_cast<int64_t>(tw.size()) * Cg_;
      const int64_t iw0 = tw.empty() ? 0 : (ow0 + p_.pad_l - tw[0] * p_.dil_w) / sw;
      for (int64_t g = 0; g < G_; ++g) {
        int32_t* acc = buf.acc.data() + ow0 * O_ + g * Og_;
        bool first = true;
        for (int64_t kh = 0; kh < KH_ && K > 0; ++kh) {
          const int64_t t = oh + p_.pad_t - kh * p_.dil_h;
          if (t < 0 || t % sh != 0 || t / sh >= H) continue;
          const int16_t* row0 = xs_.data() + ((n * H + t / sh) * Wp_ + pad_l_ + iw0) * C + g * Cg_;
          const size_t k = static_cast<size_t>((g * KH_ + kh) * sw + rw);
          const int16_t* xg = row0;
          int64_t ldx = C;
          if (!direct_[k]) {   // gather: tap j of pixel m reads input column iw0 + m + (tw[0] - tw[j]) d_w / s_w
            for (int64_t m = 0; m < M; ++m)
              for (size_t j = 0; j < tw.size(); ++j)
                std::copy_n(row0 + (m + (tw[0] - tw[j]) * p_.dil_w / sw) * C, Cg_, buf.cols.data() + m * K + static_cast<int64_t>(j) * Cg_);
            xg = buf.cols.data(), ldx = K;
          }
          if (first) {
            packed_[k].gemm(xg, M, ldx, acc, sw * O_, 0, Og_);
            first = false;
            continue;
          }
          packed_[k].gemm(xg, M, ldx, buf.sums.data(), Og_, 0, Og_);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t o = 0; o < Og_; ++o) acc[m * sw * O_ + o] += buf.sums[static_cast<size_t>(m * Og_ + o)];
        }
        if (first)   // no tap reaches these outputs: their sums are 0 (bias only)
          for (int64_t m = 0; m < M; ++m) std::fill_n(acc + m * sw * O_, Og_, 0);
      }
    }
    epilogue_.pixels(buf.acc.data(), y, (n * y.shape[1] + oh) * OW * O_, OW, nullptr);
  }

  ConvParams p_;
  ParallelFor parallel_;
  int threads_;
  int64_t O_ = 0, KH_ = 0, KW_ = 0, Cg_ = 0, G_ = 1, Og_ = 0, max_k_ = 0;
  std::vector<std::vector<int64_t>> taps_w_;   // per column phase r in [0, s_w), by decreasing kw
  std::vector<PackedS8> packed_;               // [group][kh][column phase]
  std::vector<bool> direct_;                   // the same index: GEMM rows read straight from X
  Int8Epilogue epilogue_;
  std::vector<Buffers> buffers_;
  std::vector<int16_t> xs_;                    // this run's X minus its zero point, [N, H, Wp, C]
  int64_t pad_l_ = 0, Wp_ = 0;                 // zero columns left of X in xs_; its width
};

bool is_8bit(DataType t) { return t == DataType::u8 || t == DataType::s8; }

}  // namespace

Support conv_transpose_int8_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  if (n.op != OpKind::ConvTranspose || n.precision != Precision::Int8Static) return Support::no("not a static int8 ConvTranspose");
  const TensorDef& w = ctx.input(1);
  if (w.dtype != DataType::s8 || !w.data) return Support::no("weights must be constant s8");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return Support::no("asymmetric weights");
  if (w.quant.axis > 0) return Support::no("weights quantized along another axis than the output channels");
  // Every output sums at most KH*KW*C/group products of |x - zp| <= 255 and |w| <= 128.
  if (w.shape[1] * w.shape[2] * w.shape[3] >= 65536) return Support::no("KH*KW*C/group >= 65536 could overflow the int32 sums");
  if (!is_8bit(ctx.input(0).dtype) || !is_8bit(ctx.output(0).dtype)) return Support::no("8-bit input and output needed");
  if (ctx.has_input(2) && ctx.input(2).dtype != DataType::s32) return Support::no("int8 bias must be s32");
  return Support::yes();
}

std::unique_ptr<Kernel> make_conv_transpose_int8(const KernelContext& ctx) {
  return std::make_unique<ConvTransposeInt8Simd>(ctx);
}

}  // namespace octet::simd
