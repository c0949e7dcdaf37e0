// Quantization at graph boundaries and inside the dynamic kernels:
//  - BM_Quantize{U8,S8}: QuantizeLinear (f32 -> u8/s8) and BM_Dequantize{U8,S8}: DequantizeLinear
//    (u8/s8 -> f32), per tensor, as nodes.
//    Only the reference kernel (quantize_ref.cc) runs them; no backend has its own yet, so these
//    rows have no optimized partner: they are the baseline for one.
//  - BM_DynamicQuantizeU8: the inline range + quantize of quant/dynamic_quant.h that the
//    reference and the oneDNN dynamic kernels share (FullyConnected, LSTM/GRU/RNN); it is the
//    quantization part of BM_FcDynamic and BM_Lstm*Dynamic.
// There is no standalone requantize kernel (s32 -> u8 with per-channel scales): requantization is
// fused into the static int8 Conv/FC kernels; BM_FcStatic (bench_gemm.cc) measures it there.
#include <vector>

#include "micro_util.h"
#include "quant/dynamic_quant.h"

namespace octet::micro {

namespace {

void quantize_linear(DataType dt, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const char* t = dt == DataType::u8 ? "U8" : "S8";
  const QuantInfo q = per_tensor(0.05f, dt == DataType::u8 ? 128 : 0);
  {
    OneNode g;
    g.input("x", DataType::f32, shape, random_f32(static_cast<size_t>(n), -7, 7, 1));
    g.output("y", dt, shape, q);
    g.node("QuantizeLinear", {"x"});
    register_session(std::string("BM_Quantize") + t, dims(shape), g, Work{double(n), 5.0 * n, 0});
  }
  {
    OneNode g;
    g.input("x", dt, shape, random_u8(static_cast<size_t>(n), 2), q);
    g.output("y", DataType::f32, shape);
    g.node("DequantizeLinear", {"x"});
    register_session(std::string("BM_Dequantize") + t, dims(shape), g, Work{double(n), 5.0 * n, 0});
  }
}

void dynamic_quantize(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  auto x = std::make_shared<std::vector<uint8_t>>(random_f32(static_cast<size_t>(n), -3, 4, 3));
  // Range pass + quantize pass: the float input is read twice.
  const Work w{double(n), 9.0 * n, 0};
  benchmark::RegisterBenchmark(("BM_DynamicQuantizeU8/shared/" + dims(shape)).c_str(),
                               [x, n, w](benchmark::State& st) {
                                 const float* src = reinterpret_cast<const float*>(x->data());
                                 std::vector<uint8_t> dst(static_cast<size_t>(n));
                                 for (auto _ : st) {
                                   const q::Params p = q::dynamic_params_u8(src, static_cast<size_t>(n));
                                   q::quantize_u8(src, static_cast<size_t>(n), p, dst.data());
                                   benchmark::DoNotOptimize(dst.data());
                                   benchmark::ClobberMemory();
                                 }
                                 st.SetLabel("quant/dynamic_quant.h");
                                 set_counters(st, w);
                               })
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

void register_quant_benchmarks() {
  // A BERT-base activation (128 tokens x 768) and an image input (224 x 224 x 3, NHWC).
  for (DataType dt : {DataType::u8, DataType::s8}) {
    quantize_linear(dt, {128, 768});
    quantize_linear(dt, {1, 224, 224, 3});
  }
  dynamic_quantize({1, 512});
  dynamic_quantize({128, 768});
}

}  // namespace octet::micro
