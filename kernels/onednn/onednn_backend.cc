// The oneDNN backend (default on x86): for each op, the implementations it tries, best first
// (the reference one follows, appended by Backend). Reading this list tells what runs where:
// oneDNN's primitives, octet's own x86 kernels (kernels/x86) where oneDNN 2.6 is slow or has no
// form, and octet's portable exact kernels (kernels/simd) where oneDNN would round differently
// (full-range int8 weights without VNNI).
#include "onednn/onednn_kernels.h"
#include "x86/x86_kernels.h"
#ifdef OCTET_WITH_SIMD
#include "simd/simd_kernels.h"
#endif

namespace octet {

namespace {
using x86::GemmIsa;
using namespace op_table;   // precision sets: F float, S int8_static, D int8_dynamic

// x86 entries come in pairs: <...>__x86_vnni (AVX-512 VNNI) and <...>__x86 (AVX2 + FMA); the
// kernel is packed for the ISA its entry names.
template <Support (*S)(const KernelContext&)>
Support on_vnni(const KernelContext& ctx) {
  if (!x86::cpu_has_vnni()) return Support::no("needs AVX-512 VNNI");
  return S(ctx);
}
template <Support (*S)(const KernelContext&)>
Support on_avx2(const KernelContext& ctx) {
  if (!x86::cpu_has_avx2()) return Support::no("needs AVX2 and FMA");
  return S(ctx);
}
template <std::unique_ptr<Kernel> (*M)(const KernelContext&, GemmIsa), GemmIsa I>
std::unique_ptr<Kernel> with_isa(const KernelContext& ctx) {
  return M(ctx, I);
}
#define OCTET_X86_PAIR(op, prec, variant, supports, make)                                              \
  {OpKind::op, prec, variant, "x86_vnni", on_vnni<supports>, with_isa<make, GemmIsa::Vnni>},            \
  {OpKind::op, prec, variant, "x86", on_avx2<supports>, with_isa<make, GemmIsa::Avx2>}

#ifdef OCTET_WITH_SIMD
// octet's exact portable kernels, for static int8 Conv/FullyConnected whose weights oneDNN
// cannot compute exactly without VNNI (the oneDNN entry before refuses them, saying why).
#define OCTET_SIMD_CONV(op) {OpKind::op, S, "", "simd", simd::conv_int8_supports, simd::make_conv_int8},
#else
#define OCTET_SIMD_CONV(op)
#endif

const std::vector<Impl>& onednn_list() {
  static const std::vector<Impl> list = {
      {OpKind::Conv, FS, "", "onednn", onednn::conv_supports, onednn::make_conv},
      OCTET_SIMD_CONV(Conv)
      {OpKind::ConvTranspose, FS, "", "onednn", onednn::conv_transpose_supports, onednn::make_conv_transpose},
#ifdef OCTET_WITH_SIMD
      {OpKind::ConvTranspose, S, "", "simd", simd::conv_transpose_int8_supports, simd::make_conv_transpose_int8},
#endif
      OCTET_X86_PAIR(FullyConnected, S, "small_m", x86::fc_small_m_supports, x86::make_fc_small_m),
      {OpKind::FullyConnected, FS, "", "onednn", onednn::fc_supports, onednn::make_fc},
      OCTET_SIMD_CONV(FullyConnected)
      OCTET_X86_PAIR(FullyConnected, D, "", x86::fc_dynamic_supports, x86::make_fc_dynamic),
      {OpKind::MatMul, FS, "", "onednn", onednn::matmul_supports, onednn::make_matmul},
      OCTET_X86_PAIR(MatMul, D, "", x86::matmul_dynamic_supports, x86::make_matmul_dynamic),
      {OpKind::MaxPool, FS, "", "onednn", onednn::pool_supports, onednn::make_pool},
      {OpKind::AveragePool, FS, "", "onednn", onednn::pool_supports, onednn::make_pool},
      {OpKind::GlobalAveragePool, FS, "", "onednn", onednn::pool_supports, onednn::make_pool},
      {OpKind::Add, FS, "", "onednn", onednn::binary_supports, onednn::make_binary},
      {OpKind::Sub, FS, "", "onednn", onednn::binary_supports, onednn::make_binary},
      {OpKind::Mul, FS, "", "onednn", onednn::binary_supports, onednn::make_binary},
      {OpKind::Div, F, "", "onednn", onednn::binary_supports, onednn::make_binary},
      {OpKind::Concat, FS, "", "onednn", onednn::concat_supports, onednn::make_concat},
      {OpKind::Transpose, FS, "", "onednn", onednn::reorder_supports, onednn::make_reorder},
      {OpKind::Slice, FS, "", "onednn", onednn::reorder_supports, onednn::make_reorder},
      {OpKind::QuantizeLinear, FS, "", "onednn", onednn::reorder_supports, onednn::make_reorder},
      {OpKind::DequantizeLinear, FS, "", "onednn", onednn::reorder_supports, onednn::make_reorder},
      {OpKind::LayerNormalization, F, "", "x86", on_avx2<x86::norm_supports>, x86::make_layernorm},
      {OpKind::Softmax, F, "", "x86", on_avx2<x86::norm_supports>, x86::make_softmax},
      // Recurrent: int8_dynamic on octet's u8 x s8 GEMM; float with oneDNN's matmul for the
      // products (the AVX2 entry: VNNI changes nothing there).
      OCTET_X86_PAIR(LSTM, D, "", x86::rnn_supports, x86::make_rnn),
      OCTET_X86_PAIR(GRU, D, "", x86::rnn_supports, x86::make_rnn),
      OCTET_X86_PAIR(RNN, D, "", x86::rnn_supports, x86::make_rnn),
      {OpKind::LSTM, F, "", "x86", on_avx2<x86::rnn_supports>, with_isa<x86::make_rnn, GemmIsa::Avx2>},
      {OpKind::GRU, F, "", "x86", on_avx2<x86::rnn_supports>, with_isa<x86::make_rnn, GemmIsa::Avx2>},
      {OpKind::RNN, F, "", "x86", on_avx2<x86::rnn_supports>, with_isa<x86::make_rnn, GemmIsa::Avx2>},
  };
  return list;
}

class OnednnBackend final : public Backend {
 public:
  OnednnBackend() : Backend(onednn_list()) {}
  const char* name() const override { return "onednn"; }
};
}  // namespace

std::unique_ptr<Backend> make_onednn_backend() { return std::make_unique<OnednnBackend>(); }

}  // namespace octet
