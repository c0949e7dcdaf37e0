// int8_dynamic MatMul of two activations (attention's Q x K^T and scores x V, under the
// converter's --attention-matmul int8): A quantized per tensor to u8 and B to symmetric s8 at run
// time, exactly as the reference does (gemm_ref.cc), then u8 x s8 -> s32 on octet's packed AVX2 /
// VNNI kernel with B re-packed per batch into storage kept between runs, and
// y = float(acc - zp_a sum_k b[k, n]) * (s_a s_b) with the fused activation. The integers are
// the reference's and so is the float step: outputs are bit-identical to it.
// oneDNN 2.6 has no run-time quantization of a matmul operand, and its int8 matmul without VNNI
// saturates int16 pair sums with 8-bit B (onednn_common.h), so this is octet's own kernel.
#include <algorithm>
#include <vector>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/activation.h"
#include "quant/dynamic_quant.h"
#include "x86/gemm_u8s8.h"
#include "x86/quantize_avx2.h"
#include "x86/x86_kernels.h"

namespace octet::x86 {

namespace {

class MatMulDynamic final : public Kernel {
 public:
  MatMulDynamic(const KernelContext& ctx, GemmIsa isa) : node_(ctx.node), threads_(ctx.threads), isa_(isa) {}

  void run(const KernelArgs& a) override {
    const Tensor& A = *a.in[0];
    const Tensor& B = *a.in[1];
    Tensor& Y = *a.out[0];
    const int64_t M = A.shape[A.shape.size() - 2], K = A.shape.back(), N = B.shape.back();
    if (Y.elements() == 0) return;
    const int64_t batches = Y.elements() / (M * N);
    const size_t na = static_cast<size_t>(A.elements()), nb = static_cast<size_t>(B.elements());
    if (aq_.size() < na + 4) aq_.resize(na + 4);
    if (bq_.size() < nb) bq_.resize(nb);
    if (bt_.size() < static_cast<size_t>(K * N)) bt_.resize(static_cast<size_t>(K * N));
    const q::Params pa = dynamic_params_u8_avx2(A.as<float>(), na);
    quantize_u8_avx2(A.as<float>(), na, pa, aq_.data());
    const float sb = q::dynamic_scale_s8(B.as<float>(), nb);
    q::quantize_s8_symmetric(B.as<float>(), nb, sb, bq_.data());
    const float scale = pa.scale * sb;
    int64_t packed = -1;
    for (int64_t bi = 0; bi < batches; ++bi) {
      const int64_t ao = matmul_batch_offset(Y.shape, A.shape, bi), bo = matmul_batch_offset(Y.shape, B.shape, bi);
      if (bo != packed) {   // B [K, N] -> rows of K (the kernel's weight layout)
        const int8_t* b = bq_.data() + bo * K * N;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < K; ++k) bt_[static_cast<size_t>(n * K + k)] = b[k * N + n];
        packed_.pack(bt_.data(), N, K, K, isa_);
        packed = bo;
      }
      int32_t* acc = reinterpret_cast<int32_t*>(Y.data) + bi * M * N;
      packed_.gemm(aq_.data() + ao * M * K, M, K, acc, N, threads_);
      const std::vector<int32_t>& sums = packed_.row_sums();
      float* y = reinterpret_cast<float*>(acc);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          y[m * N + n] = static_cast<float>(acc[m * N + n] - pa.zero_point * sums[static_cast<size_t>(n)]) * scale;
      if (node_.activation.kind != ActKind::None)
        for (int64_t i = 0; i < M * N; ++i) y[i] = apply_activation(node_.activation, y[i]);
    }
  }

  std::string detail() const override { return std::string(isa_name(isa_)) + " u8s8 gemm"; }

 private:
  const NodeDef& node_;
  int threads_;
  GemmIsa isa_;
  PackedU8S8 packed_;
  std::vector<uint8_t> aq_;
  std::vector<int8_t> bq_, bt_;
};

}  // namespace

Support matmul_dynamic_supports(const KernelContext& ctx) {
  if (ctx.node.precision != Precision::Int8Dynamic) return Support::no("not int8_dynamic");
  if (ctx.input(0).dtype != DataType::f32 || ctx.input(1).dtype != DataType::f32)
    return Support::no("dynamic MatMul takes float operands");
  return Support::yes();
}

std::unique_ptr<Kernel> make_matmul_dynamic(const KernelContext& ctx, GemmIsa isa) { return std::make_unique<MatMulDynamic>(ctx, isa); }

}  // namespace octet::x86
