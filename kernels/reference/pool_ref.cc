// Reference MaxPool, AveragePool and GlobalAveragePool (NHWC). Input and output share their
// quantization, so max pooling compares codes and average pooling averages real values:
//   y = round(sum(x - zp) / count + zp)
// where count excludes padding unless count_include_pad (padding is real zero, i.e. code zp).
#include <limits>

#include "ops/params.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {
class PoolRef final : public Kernel {
 public:
  explicit PoolRef(const KernelContext& ctx) : node_(ctx.node) {
    if (node_.op != OpKind::GlobalAveragePool) p_ = parse_pool(node_);
  }

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const int64_t OH = y.shape[1], OW = y.shape[2];
    PoolParams p = p_;
    if (node_.op == OpKind::GlobalAveragePool) p.kernel_h = H, p.kernel_w = W;
    const bool quantized = x.dtype != DataType::f32;
    const int32_t zp = quantized ? x.zero_point() : 0;
    const bool is_max = node_.op == OpKind::MaxPool;
    auto load = [&](int64_t i) -> float {
      return quantized ? static_cast<float>(load_q(x.dtype, x.data, i)) : x.as<float>()[i];
    };
#pragma omp parallel for collapse(2)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          for (int64_t c = 0; c < C; ++c) {
            double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
            int64_t count = 0, window = 0;
            for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
              const int64_t ih = oh * p.stride_h - p.pad_t + kh * p.dil_h;
              for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                const int64_t iw = ow * p.stride_w - p.pad_l + kw * p.dil_w;
                // The window counted for count_include_pad stops at the padded edge.
                if (ih < H + p.pad_b && iw < W + p.pad_r) ++window;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const float v = load(((n * H + ih) * W + iw) * C + c);
                if (is_max) acc = std::max(acc, static_cast<double>(v));
                else acc += v - zp;
                ++count;
              }
            }
            const int64_t yi = ((n * OH + oh) * OW + ow) * C + c;
            float out;
            if (is_max) {
              out = static_cast<float>(acc);
            } else {
              const int64_t div = p.count_include_pad ? window : count;
              out = static_cast<float>(acc / static_cast<double>(div > 0 ? div : 1)) + static_cast<float>(zp);
            }
            if (quantized) store_q(y.dtype, y.data, yi, out);
            else y.as<float>()[yi] = out;
          }
  }

 private:
  const NodeDef& node_;
  PoolParams p_;
};
}  // namespace

std::unique_ptr<Kernel> make_pool(const KernelContext& ctx) { return std::make_unique<PoolRef>(ctx); }

}  // namespace octet::ref
