// Matrix products, as MxKxN (x [M, K] times W [N, K]^T):
//  - BM_GemmU8S8: the bare u8 x s8 -> s32 product. octet_avx2 is octet's x86 GEMM
//    (x86/gemm_u8s8.h, weights packed once; on AVX2 the portable GEMM below fed with the u8
//    codes widened to s16 per call, with VNNI its own micro-kernel); onednn_gemm_u8s8s32 is
//    oneDNN's own GEMM API on the same plain weights, which it re-packs on every call (what the
//    dynamic kernels used before); simd_i16s8 is octet's portable Highway GEMM
//    (simd/gemm_i16s8.h) on the same codes already widened to s16 (as its callers hand them
//    over), so the two octet rows differ by the widening pass. Only the time is measured here:
//    on AVX2 without VNNI oneDNN's kernel saturates s16 pair sums for 8-bit weights, so its
//    results are not those of the other rows.
//  - BM_FcDynamic: int8_dynamic FullyConnected through a Session (x quantized per tensor at run
//    time, s32 -> float epilogue): reference (gemm_ref.cc) vs oneDNN backend (x86/fully_connected_x86.cc,
//    on octet_avx2 above).
//  - BM_FcStatic: int8_static FullyConnected, u8 x s8 (7-bit weights, per output channel) -> u8,
//    i.e. including the requantization of the s32 accumulators with per-channel scales.
//  - BM_FcFloat: the float FullyConnected the int8 forms replace, for scale.
// GOPS counts 2 M N K per run; bytes count weights + input + output once.
#include <cmath>
#include <vector>

#include "micro_util.h"

#ifdef OCTET_WITH_ONEDNN   // the bare GEMMs are part of the oneDNN backend (x86 builds only)
#include <oneapi/dnnl/dnnl.h>

#include "x86/gemm_u8s8.h"
#endif
#ifdef OCTET_WITH_SIMD
#include "simd/gemm_i16s8.h"
#endif

namespace octet::micro {

namespace {

struct Mkn {
  int64_t M, K, N;
  std::string name() const { return dims({M, K, N}); }
  double ops() const { return 2.0 * M * K * N; }
};

std::vector<float> weight_scales(int64_t N, int64_t K, int qmax) {
  std::vector<float> s(N);
  for (int64_t n = 0; n < N; ++n) s[n] = (0.5f + 0.5f * static_cast<float>(n % 7) / 7.f) / (qmax * std::sqrt(static_cast<float>(K)));
  return s;
}

#ifdef OCTET_WITH_ONEDNN
void gemm_u8s8(const Mkn& s) {
  if (!x86::cpu_has_avx2()) return;
  auto x = std::make_shared<std::vector<uint8_t>>(random_u8(static_cast<size_t>(s.M * s.K), 1));
  auto w = std::make_shared<std::vector<uint8_t>>(random_s8(static_cast<size_t>(s.N * s.K), -127, 127, 2));
  const Work work{0, double(s.N * s.K + s.M * s.K + 4 * s.M * s.N), s.ops()};
  benchmark::RegisterBenchmark(("BM_GemmU8S8/octet_avx2/" + s.name()).c_str(), [s, x, w, work](benchmark::State& st) {
    const x86::PackedU8S8 packed(reinterpret_cast<const int8_t*>(w->data()), s.N, s.K, s.K, x86::best_gemm_isa());
    std::vector<int32_t> y(static_cast<size_t>(s.M * s.N));
    packed.gemm(x->data(), s.M, s.K, y.data(), s.N, 1);   // sizes its scratch: not timed
    for (auto _ : st) {
      packed.gemm(x->data(), s.M, s.K, y.data(), s.N, 1);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    st.SetLabel("PackedU8S8, 1 thread");
    set_counters(st, work);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("BM_GemmU8S8/onednn_gemm_u8s8s32/" + s.name()).c_str(), [s, x, w, work](benchmark::State& st) {
    std::vector<int32_t> y(static_cast<size_t>(s.M * s.N));
    const int32_t co = 0;
    // Row-major C[M, N] = A[M, K] B^T with B stored [N, K]: transb = 'T', ldb = K. The first call
    // generates oneDNN's JIT kernels (milliseconds): not timed.
    auto call = [&] {
      return dnnl_gemm_u8s8s32('N', 'T', 'F', s.M, s.N, s.K, 1.f, x->data(), s.K, 0, reinterpret_cast<const int8_t*>(w->data()),
                               s.K, 0, 0.f, y.data(), s.N, &co) == dnnl_success;
    };
    if (!call()) {
      st.SkipWithError("dnnl_gemm_u8s8s32 failed");
      return;
    }
    for (auto _ : st) {
      call();
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    st.SetLabel("dnnl_gemm_u8s8s32, 1 thread");
    set_counters(st, work);
  })->Unit(benchmark::kMicrosecond);
}
#endif

#ifdef OCTET_WITH_SIMD
void gemm_i16s8(const Mkn& s) {
  const std::vector<uint8_t> xu = random_u8(static_cast<size_t>(s.M * s.K), 1);
  auto x = std::make_shared<std::vector<int16_t>>(xu.begin(), xu.end());
  auto w = std::make_shared<std::vector<uint8_t>>(random_s8(static_cast<size_t>(s.N * s.K), -127, 127, 2));
  const Work work{0, double(s.N * s.K + 2 * s.M * s.K + 4 * s.M * s.N), s.ops()};
  benchmark::RegisterBenchmark(("BM_GemmU8S8/simd_i16s8/" + s.name()).c_str(), [s, x, w, work](benchmark::State& st) {
    const simd::PackedS8 packed(reinterpret_cast<const int8_t*>(w->data()), s.N, s.K, s.K);
    std::vector<int32_t> y(static_cast<size_t>(s.M * s.N));
    for (auto _ : st) {
      packed.gemm(x->data(), s.M, s.K, y.data(), s.N, 0, s.N);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    st.SetLabel(std::string("PackedS8 (") + simd::gemm_target() + "), 1 thread");
    set_counters(st, work);
  })->Unit(benchmark::kMicrosecond);
}
#endif

void fc_dynamic(const Mkn& s) {
  OneNode g;
  g.input("x", DataType::f32, {s.M, s.K}, random_f32(static_cast<size_t>(s.M * s.K), -2, 3, 3));
  g.constant("w", DataType::s8, {s.N, s.K}, random_s8(static_cast<size_t>(s.N * s.K), -127, 127, 4),
             per_channel(weight_scales(s.N, s.K, 127)));
  g.constant("b", DataType::f32, {s.N}, random_f32(static_cast<size_t>(s.N), -0.5f, 0.5f, 5));
  g.output("y", DataType::f32, {s.M, s.N});
  g.node("FullyConnected", {"x", "w", "b"}, nlohmann::json::object(), "int8_dynamic");
  register_session("BM_FcDynamic", s.name(), g, Work{0, double(s.N * s.K + 4 * s.M * s.K + 4 * s.M * s.N), s.ops()});
}

void fc_static(const Mkn& s) {
  // u8 x with zero point 128, 7-bit weights (what the converter writes by default, exact on
  // oneDNN without VNNI); y's scale puts about 3 standard deviations of the result in range.
  const float sx = 0.02f;
  std::vector<float> sw = weight_scales(s.N, s.K, 64);
  const float acc_std = std::sqrt(static_cast<float>(s.K)) * 73.9f * 37.5f;   // (x - 128) w, uniform codes
  const float sy = sx * sw[0] * acc_std * 3.f / 127.f;
  OneNode g;
  g.input("x", DataType::u8, {s.M, s.K}, random_u8(static_cast<size_t>(s.M * s.K), 6), per_tensor(sx, 128));
  g.constant("w", DataType::s8, {s.N, s.K}, random_s8(static_cast<size_t>(s.N * s.K), -64, 64, 7), per_channel(sw));
  g.constant("b", DataType::s32, {s.N}, random_s32(static_cast<size_t>(s.N), -5000, 5000, 8));
  g.output("y", DataType::u8, {s.M, s.N}, per_tensor(sy, 128));
  g.node("FullyConnected", {"x", "w", "b"}, nlohmann::json::object(), "int8_static");
  register_session("BM_FcStatic", s.name(), g, Work{0, double(s.N * s.K + 4 * s.N + s.M * s.K + s.M * s.N), s.ops()});
}

void fc_float(const Mkn& s) {
  OneNode g;
  g.input("x", DataType::f32, {s.M, s.K}, random_f32(static_cast<size_t>(s.M * s.K), -2, 3, 9));
  const float k = 1.f / std::sqrt(static_cast<float>(s.K));
  g.constant("w", DataType::f32, {s.N, s.K}, random_f32(static_cast<size_t>(s.N * s.K), -k, k, 10));
  g.constant("b", DataType::f32, {s.N}, random_f32(static_cast<size_t>(s.N), -0.5f, 0.5f, 11));
  g.output("y", DataType::f32, {s.M, s.N});
  g.node("FullyConnected", {"x", "w", "b"});
  register_session("BM_FcFloat", s.name(), g, Work{0, 4.0 * double(s.N * s.K + s.M * s.K + s.M * s.N), s.ops()});
}

}  // namespace

void register_gemm_benchmarks() {
  // An LSTM step's recurrent product at hidden 512 (M = 1, bound by weight bandwidth) and a
  // BERT-base FFN up-projection over 128 tokens (compute bound).
  for (const Mkn& s : {Mkn{1, 512, 2048}, Mkn{128, 768, 3072}}) {
#ifdef OCTET_WITH_ONEDNN
    gemm_u8s8(s);
#endif
#ifdef OCTET_WITH_SIMD
    gemm_i16s8(s);
#endif
    fc_dynamic(s);
    fc_static(s);
    fc_float(s);
  }
  // The bare GEMMs also at a batch-4 recurrent step (M = 4: the register tile's full height).
#ifdef OCTET_WITH_ONEDNN
  gemm_u8s8(Mkn{4, 512, 2048});
#endif
#ifdef OCTET_WITH_SIMD
  gemm_i16s8(Mkn{4, 512, 2048});
#endif
}

}  // namespace octet::micro
