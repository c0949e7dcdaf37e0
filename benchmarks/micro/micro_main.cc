// octet_micro: micro-benchmarks of octet's kernels next to the reference kernels they replace
// (benchmarks/micro/bench_*.cc). Single-threaded; Google Benchmark's flags apply, e.g.
//   octet_micro --benchmark_filter=Gemm --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cstdio>
#include <string>

#include "micro_util.h"
#include "octet/octet.h"

namespace octet::micro {
namespace {
// The fixed cost of Session::run around a kernel (one Relu on one float), to read the
// session-level numbers of the small cases against.
void register_overhead() {
  OneNode g;
  g.input("x", DataType::f32, {1}, random_f32(1, -1, 1, 1));
  g.output("y", DataType::f32, {1});
  g.node("Relu", {"x"});
  register_session("BM_SessionRun", "Relu_1", g, Work{1, 8, 0});
}
}  // namespace
}  // namespace octet::micro

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef _OPENMP
  omp_set_num_threads(1);   // oneDNN's own GEMM (bench_gemm.cc) uses OpenMP's default otherwise
#endif
  std::string backends;
  for (const std::string& b : octet::available_backends()) backends += (backends.empty() ? "" : ",") + b;
  benchmark::AddCustomContext("octet", octet::version());
  benchmark::AddCustomContext("octet_backends", backends);
  benchmark::AddCustomContext("octet_threads", "1");
#if defined(__x86_64__)   // __builtin_cpu_supports names x86 features; says whether int8 can use VNNI here
  benchmark::AddCustomContext("cpu_avx2", __builtin_cpu_supports("avx2") ? "yes" : "no");
  benchmark::AddCustomContext("cpu_avx512_vnni", __builtin_cpu_supports("avx512vnni") ? "yes" : "no");
#endif
  using namespace octet::micro;
  try {
    register_overhead();
    register_quant_benchmarks();
    register_gemm_benchmarks();
    register_rnn_benchmarks();
    register_norm_benchmarks();
    register_conv_benchmarks();
    report_left_out();
  } catch (const octet::Error& e) {
    std::fprintf(stderr, "octet_micro: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
