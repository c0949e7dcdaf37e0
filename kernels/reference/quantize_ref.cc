// Reference QuantizeLinear (f32 -> u8/s8 with the output's parameters) and DequantizeLinear
// (u8/s8/s32 -> f32 with the input's parameters, per tensor or per channel).
#include "quant/quant.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {
class QuantizeRef final : public Kernel {
 public:
  explicit QuantizeRef(const KernelContext& ctx) : node_(ctx.node) {}
  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    Tensor& y = *a.out[0];
    const int64_t n = x.elements();
    if (node_.op == OpKind::QuantizeLinear) {
      const float inv = 1.f / y.scale();
      const float zp = static_cast<float>(y.zero_point());
      const float* in = x.as<float>();
      if (y.dtype == DataType::u8) {
        for (int64_t i = 0; i < n; ++i) y.as<uint8_t>()[i] = q::saturate_round<uint8_t>(in[i] * inv + zp);
      } else {
        for (int64_t i = 0; i < n; ++i) y.as<int8_t>()[i] = q::saturate_round<int8_t>(in[i] * inv + zp);
      }
      return;
    }
    const QuantInfo& qi = x.quant();
    // Per-channel: the channel of flat index i is (i / inner) % dim[axis].
    int64_t inner = 1, dim = 1;
    if (qi.axis >= 0) {
      dim = x.shape[qi.axis];
      for (size_t d = qi.axis + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = qi.axis >= 0 ? (i / inner) % dim : 0;
      const int32_t v = x.dtype == DataType::s32 ? x.as<int32_t>()[i] : load_q(x.dtype, x.data, i);
      y.as<float>()[i] = qi.scale[c] * static_cast<float>(static_cast<int64_t>(v) - qi.zero_point[c]);
    }
  }

 private:
  const NodeDef& node_;
};
}  // namespace

std::unique_ptr<Kernel> make_quantize(const KernelContext& ctx) { return std::make_unique<QuantizeRef>(ctx); }

}  // namespace octet::ref
