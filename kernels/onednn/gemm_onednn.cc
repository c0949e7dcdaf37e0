#include "onednn/gemm_onednn.h"

#include "onednn/onednn_common.h"
#include "ops/op_spec.h"

namespace octet::onednn {

void gemm_u8s8s32(const uint8_t* x, int64_t M, int64_t K, const int8_t* w, int64_t N, int32_t* y, int threads,
                  const NodeDef& node) {
  ThreadScope ts(threads);
  const int32_t co = 0;
  if (dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1.f, x, K, 0, w, K, 0, 0.f, y, N, &co) != dnnl_success)
    node_error(node, "dnnl_gemm_u8s8s32 failed");
}

struct MatMulF32::State {
  dnnl::matmul prim;
  dnnl::memory src, dst;
  std::vector<dnnl::memory> w;
  dnnl::stream stream{engine()};
  std::string impl;
  int threads = 1;
};

MatMulF32::MatMulF32() = default;
MatMulF32::~MatMulF32() = default;
MatMulF32::MatMulF32(MatMulF32&&) noexcept = default;
MatMulF32& MatMulF32::operator=(MatMulF32&&) noexcept = default;

void MatMulF32::init(int64_t M, int64_t K, int64_t N, const std::vector<const float*>& weights, int threads) {
  if (!s_) s_ = std::make_unique<State>();
  ThreadScope ts(threads);
  s_->threads = threads;
  // Asking oneDNN for its preferred weights layout instead measured slower here: gemm:jit has no
  // packed-weights format.
  dnnl::memory::desc src({M, K}, dt::f32, tag::ab), dst({M, N}, dt::f32, tag::ab), w({K, N}, dt::f32, dnnl::memory::dims{1, K});
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, w, dst), engine());
  s_->impl = pd.impl_info_str();
  s_->prim = dnnl::matmul(pd);
  s_->src = dnnl::memory(src, engine(), DNNL_MEMORY_NONE);
  s_->dst = dnnl::memory(dst, engine(), DNNL_MEMORY_NONE);
  s_->w.clear();
  for (const float* p : weights) s_->w.emplace_back(w, engine(), const_cast<float*>(p));
}

void MatMulF32::run(const float* x, size_t which, float* y) {
  ThreadScope ts(s_->threads);
  s_->src.set_data_handle(const_cast<float*>(x));
  s_->dst.set_data_handle(y);
  s_->prim.execute(s_->stream, {{DNNL_ARG_SRC, s_->src}, {DNNL_ARG_WEIGHTS, s_->w[which]}, {DNNL_ARG_DST, s_->dst}});
  s_->stream.wait();
}

const std::string& MatMulF32::impl() const {
  static const std::string none;
  return s_ ? s_->impl : none;
}

}  // namespace octet::onednn
