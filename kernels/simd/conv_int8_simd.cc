// Static int8 Conv (one group) and FullyConnected (as a 1x1 convolution over rows of K) on the
// portable GEMM, with an optional fused residual (reference: kernels/reference/conv_ref.cc and
// gemm_ref.cc, which compute the same expression):
//   acc  = sum (x - zp_x) w + bias            exact, int32 GEMM over im2col rows
//   y    = requantize(acc, residual)          quant/requant.h
// in the reference's order of float operations, so the codes are the reference's exactly
// (vectorized for the clamps None/Relu/Clip by requantize.h, scalar for other activations).
// Output pixels are processed in chunks of kRows: the chunk's im2col rows (s16, zero point
// subtracted, padding = 0) stay in cache while every weight row passes over them. Contiguous
// ranges of chunks go to the backend's threads, each with its own buffers.
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "ops/params.h"
#include "quant/activation.h"
#include "reference/q8.h"
#include "simd/gemm_i16s8.h"
#include "simd/int8_epilogue.h"
#include "simd/simd_kernels.h"
#include "simd/widen_codes.h"

namespace octet::simd {

namespace {

constexpr int64_t kRows = 32;

class ConvInt8Simd final : public Kernel {
 public:
  explicit ConvInt8Simd(const KernelContext& ctx)
      : p_(parse_conv(ctx.node)), parallel_(ctx.parallel_for()), threads_(std::max(ctx.threads, 1)) {
    const TensorDef& w = ctx.input(1);
    fc_ = ctx.node.op == OpKind::FullyConnected;
    if (fc_) O_ = w.shape[0], KH_ = KW_ = 1, C_ = w.shape[1];
    else O_ = w.shape[0], KH_ = w.shape[1], KW_ = w.shape[2], C_ = w.shape[3];
    K_ = KH_ * KW_ * C_;
    packed_ = PackedS8(reinterpret_cast<const int8_t*>(w.data), O_, K_, K_);
    epilogue_ = Int8Epilogue(ctx, O_, K_);
    buffers_.resize(static_cast<size_t>(threads_));
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const Tensor* r = a.in.size() > 3 ? a.in[3] : nullptr;
    Tensor& y = *a.out[0];
    // FullyConnected: every row of K is one "pixel" of a 1x1 convolution.
    const int64_t rows = fc_ && K_ > 0 ? x.elements() / K_ : 0;
    const int64_t N = fc_ ? rows : x.shape[0], H = fc_ ? 1 : x.shape[1], W = fc_ ? 1 : x.shape[2];
    const int64_t OH = fc_ ? 1 : y.shape[1], OW = fc_ ? 1 : y.shape[2];
    const int64_t M = N * OH * OW, chunks = (M + kRows - 1) / kRows;
    if (M == 0) return;
    const int32_t zx = x.zero_point();
    const bool u8 = x.dtype == DataType::u8;
    const int64_t tasks = std::min<int64_t>(threads_, chunks);

    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      Buffers& buf = buffers_[t];
      buf.rows.resize(static_cast<size_t>(kRows * K_));
      buf.acc.resize(static_cast<size_t>(kRows * O_));
      for (int64_t c = chunks * static_cast<int64_t>(t) / tasks; c < chunks * static_cast<int64_t>(t + 1) / tasks; ++c) {
        const int64_t m0 = c * kRows, m1 = std::min(M, m0 + kRows);
        // im2col: one row of K = KH*KW*C per output pixel, in the weights' (kh, kw, c) order.
        for (int64_t m = m0; m < m1; ++m) {
          const int64_t n = m / (OH * OW), oh = m / OW % OH, ow = m % OW;
          int16_t* row = buf.rows.data() + (m - m0) * K_;
          for (int64_t kh = 0; kh < KH_; ++kh)
            for (int64_t kw = 0; kw < KW_; ++kw, row += C_) {
              const int64_t ih = oh * p_.stride_h - p_.pad_t + kh * p_.dil_h, iw = ow * p_.stride_w - p_.pad_l + kw * p_.dil_w;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                std::fill(row, row + C_, int16_t(0));   // padding is a real zero
                continue;
              }
              const int64_t off = ((n * H + ih) * W + iw) * C_;
              widen_codes(x.as<uint8_t>() + off, u8, C_, zx, row);
            }
        }
        packed_.gemm(buf.rows.data(), m1 - m0, K_, buf.acc.data(), O_, 0, O_);
        epilogue_.pixels(buf.acc.data(), y, m0 * O_, m1 - m0, r);
      }
    });
  }

  std::string detail() const override { return gemm_target(); }

 private:
  struct Buffers {
    std::vector<int16_t> rows;
    std::vector<int32_t> acc;
  };
  ConvParams p_;
  ParallelFor parallel_;
  int threads_;
  bool fc_ = false;
  int64_t O_ = 0, KH_ = 0, KW_ = 0, C_ = 0, K_ = 0;
  PackedS8 packed_;
  Int8Epilogue epilogue_;
  std::vector<Buffers> buffers_;
};

bool is_8bit(DataType t) { return t == DataType::u8 || t == DataType::s8; }

}  // namespace

Support conv_int8_supports(const KernelContext& ctx) {
  const NodeDef& n = ctx.node;
  const bool fc = n.op == OpKind::FullyConnected;
  if ((n.op != OpKind::Conv && !fc) || n.precision != Precision::Int8Static) return Support::no("not a static int8 Conv or FullyConnected");
  if (!fc && parse_conv(n).group != 1) return Support::no("grouped convolution");
  const TensorDef& w = ctx.input(1);
  if (w.dtype != DataType::s8 || !w.data) return Support::no("weights must be constant s8");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return Support::no("asymmetric weights");
  if (w.quant.axis > 0) return Support::no("weights quantized along another axis than the output channels");
  int64_t K = 1;
  for (size_t i = 1; i < w.shape.size(); ++i) K *= w.shape[i];
  if (K >= 65536) return Support::no("K >= 65536 could overflow the int32 sums");
  if (!is_8bit(ctx.input(0).dtype) || !is_8bit(ctx.output(0).dtype)) return Support::no("8-bit input and output needed");
  if (ctx.has_input(2) && ctx.input(2).dtype != DataType::s32) return Support::no("int8 bias must be s32");
  if (ctx.has_input(3) && !is_8bit(ctx.input(3).dtype)) return Support::no("8-bit residual needed");
  return Support::yes();
}

std::unique_ptr<Kernel> make_conv_int8(const KernelContext& ctx) {
  return std::make_unique<ConvInt8Simd>(ctx);
}

}  // namespace octet::simd
