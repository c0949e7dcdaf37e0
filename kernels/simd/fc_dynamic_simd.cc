// int8_dynamic FullyConnected on the portable GEMM: the kernel skeleton (fc_dynamic.h) with its
// products on PackedS8::gemm (the u8 codes as s16; exact), the output columns split over the
// backend's threads. Quantization and epilogue are the skeleton's portable ones, which compute
// the reference's arithmetic exactly: the output is the reference's bit for bit.
#include <algorithm>
#include <vector>

#include "simd/fc_dynamic.h"
#include "simd/gemm_i16s8.h"
#include "simd/simd_kernels.h"

namespace octet::simd {

namespace {

class FcDynamicSimd final : public FcDynamicKernel {
 public:
  explicit FcDynamicSimd(const KernelContext& ctx) : FcDynamicKernel(ctx), packed_(w_, N_, K_, K_) {}

  std::string detail() const override { return gemm_target(); }

 protected:
  void products(const uint8_t* codes, int64_t rows, int32_t* acc) override {
    xi_.assign(codes, codes + rows * K_);   // s16, exact
    const int64_t tasks = std::min<int64_t>(threads_, (N_ + packed_.block() - 1) / packed_.block());
    parallel_(static_cast<size_t>(tasks), [&](size_t t) {
      const int64_t n0 = packed_.split(static_cast<int64_t>(t), tasks), n1 = packed_.split(static_cast<int64_t>(t) + 1, tasks);
      packed_.gemm(xi_.data(), rows, K_, acc, N_, n0, n1);
    });
  }

 private:
  PackedS8 packed_;
  std::vector<int16_t> xi_;
};

}  // namespace

Support fc_dynamic_supports(const KernelContext& ctx) {
  const TensorDef& w = ctx.input(1);
  if (ctx.node.precision != Precision::Int8Dynamic) return Support::no("not int8_dynamic");
  if (!w.data) return Support::no("dynamic int8 weights must be constant");
  if (w.dtype != DataType::s8) return Support::no("dynamic int8 weights must be s8");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return Support::no("asymmetric weights");
  if (w.shape.size() != 2 || w.shape[1] >= 65536) return Support::no("K >= 65536 could overflow the int32 sums");
  return Support::yes();
}

std::unique_ptr<Kernel> make_fc_dynamic(const KernelContext& ctx) {
  return std::make_unique<FcDynamicSimd>(ctx);
}

}  // namespace octet::simd
