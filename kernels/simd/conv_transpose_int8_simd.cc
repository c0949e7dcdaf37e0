// Static int8 ConvTranspose on the portable GEMM, bit-identical to the reference
// (kernels/reference/conv_ref.cc's transposed loop):
//   acc[n, oh, ow, o] = sum over (ih, iw, kh, kw) with oh = ih s_h - pad_t + kh d_h,
//                       ow = iw s_w - pad_l + kw d_w, of sum_c (x - zp_x)[n, ih, iw, c] w[o, kh, kw, c]
//   y = requantize(acc + bias)                                         quant/requant.h
// Every input pixel's channels times W^T give KH*KW*O/group products; they are added (col2im)
// into the output pixels they reach, all in exact int32 (no zero-point fold: border outputs get
// fewer taps, which a bias fold would get wrong). The work is split by output row: output row
// (n, oh) takes, for every kh with (oh + pad_t - kh d_h) divisible by s_h, the input row
// ih = (oh + pad_t - kh d_h) / s_h times the weights of that kh only (one packed GEMM operand
// per group and kh, columns (kw, o)), so every (ih, kh) product is computed exactly once, rows
// are independent (threads write disjoint outputs) and one output row's int32 sums stay in cache.
#include <algorithm>
#include <vector>

#include "ops/params.h"
#include "simd/gemm_i16s8.h"
#include "simd/int8_epilogue.h"
#include "simd/simd_kernels.h"
#include "simd/widen_codes.h"

namespace octet::simd {

namespace {

class ConvTransposeInt8Simd final : public Kernel {
 public:
  explicit ConvTransposeInt8Simd(const KernelContext& ctx)
      : p_(parse_conv(ctx.node)), parallel_(ctx.parallel_for()), threads_(std::max(ctx.threads, 1)) {
    const TensorDef& w = ctx.input(1);
    O_ = w.shape[0], KH_ = w.shape[1], KW_ = w.shape[2], Cg_ = w.shape[3];
    G_ = p_.group, Og_ = O_ / G_;
    // Per group and kh: KW * Og rows of Cg codes, row (kw, o) = w[g Og + o, kh, kw, :].
    const int8_t* wp = reinterpret_cast<const int8_t*>(w.data);
    std::vector<int8_t> rows(static_cast<size_t>(KW_ * Og_ * Cg_));
    for (int64_t g = 0; g < G_; ++g)
      for (int64_t kh = 0; kh < KH_; ++kh) {
        for (int64_t kw = 0; kw < KW_; ++kw)
          for (int64_t o = 0; o < Og_; ++o)
            std::copy_n(wp + (((g * Og_ + o) * KH_ + kh) * KW_ + kw) * Cg_, Cg_, rows.begin() + (kw * Og_ + o) * Cg_);
        packed_.emplace_back(rows.data(), KW_ * Og_, Cg_, Cg_);
      }
    epilogue_ = Int8Epilogue(ctx, O_, KH_ * KW_ * Cg_);
    buffers_.resize(static_cast<size_t>(threads_));
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const int64_t OH = y.shape[1], OW = y.shape[2];
    const int64_t rows = N * OH, cols = KW_ * Og_;
    if (rows == 0 || OW == 0) return;
    const int32_t zx = x.zero_point();
    const bool u8 = x.dtype == DataType::u8;
    const int64_t tasks = std::min<int64_t>(threads_, rows);

    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      Buffers& buf = buffers_[t];
      buf.x.resize(static_cast<size_t>(W * Cg_));
      buf.products.resize(static_cast<size_t>(W * cols));
      buf.acc.resize(static_cast<size_t>(OW * O_));
      for (int64_t row = rows * static_cast<int64_t>(t) / tasks; row < rows * static_cast<int64_t>(t + 1) / tasks; ++row) {
        const int64_t n = row / OH, oh = row % OH;
        std::fill(buf.acc.begin(), buf.acc.end(), 0);
        for (int64_t kh = 0; kh < KH_; ++kh) {
          const int64_t t_h = oh + p_.pad_t - kh * p_.dil_h;
          if (t_h < 0 || t_h % p_.stride_h != 0 || t_h / p_.stride_h >= H) continue;
          const int64_t ih = t_h / p_.stride_h;
          for (int64_t g = 0; g < G_; ++g) {
            const uint8_t* xrow = x.as<uint8_t>() + (n * H + ih) * W * C + g * Cg_;
            for (int64_t iw = 0; iw < W; ++iw) widen_codes(xrow + iw * C, u8, Cg_, zx, buf.x.data() + iw * Cg_);
            packed_[static_cast<size_t>(g * KH_ + kh)].gemm(buf.x.data(), W, Cg_, buf.products.data(), cols, 0, cols);
            scatter(buf, W, OW, g);
          }
        }
        const int64_t y0 = (n * OH + oh) * OW * O_;
        for (int64_t ow = 0; ow < OW; ++ow) epilogue_.pixel(buf.acc.data() + ow * O_, y, y0 + ow * O_, nullptr);
      }
    });
  }

  std::string detail() const override { return gemm_target(); }

 private:
  struct Buffers {
    std::vector<int16_t> x;          // one input row of one group, widened: [W, Cg]
    std::vector<int32_t> products;   // its products with one kh's weights: [W, KW, Og]
    std::vector<int32_t> acc;        // the output row's sums: [OW, O]
  };

  // col2im of one input row's products into the output row: input pixel iw, tap kw reaches
  // output pixel iw s_w - pad_l + kw d_w (when inside), channels [g Og, (g + 1) Og).
  void scatter(Buffers& buf, int64_t W, int64_t OW, int64_t g) const {
    for (int64_t iw = 0; iw < W; ++iw)
      for (int64_t kw = 0; kw < KW_; ++kw) {
        const int64_t ow = iw * p_.stride_w - p_.pad_l + kw * p_.dil_w;
        if (ow < 0 || ow >= OW) continue;
        const int32_t* src = buf.products.data() + (iw * KW_ + kw) * Og_;
        int32_t* dst = buf.acc.data() + ow * O_ + g * Og_;
        for (int64_t o = 0; o < Og_; ++o) dst[o] += src[o];
      }
  }

  ConvParams p_;
  ParallelFor parallel_;
  int threads_;
  int64_t O_ = 0, KH_ = 0, KW_ = 0, Cg_ = 0, G_ = 1, Og_ = 0;
  std::vector<PackedS8> packed_;   // [group][kh]
  Int8Epilogue epilogue_;
  std::vector<Buffers> buffers_;
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
