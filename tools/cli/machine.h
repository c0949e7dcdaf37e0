// What `octet bench` reports about the machine: CPU model and features, peak memory, and the
// int8/float GEMM peak that per-op GOPS are compared with.
#pragma once

#include <string>
#include <vector>

namespace octet::cli {

std::string cpu_model();
// The SIMD features relevant to int8 (e.g. avx2, avx512_vnni, amx_int8; asimddp, i8mm, sve).
std::vector<std::string> cpu_features();
double peak_rss_mb();

struct GemmPeak {
  double int8_gops = 0, float_gflops = 0;
  bool cached = false;
};
// Measures large GEMMs (a FullyConnected and a 1x1 Conv) through octet's own kernels on `backend`, or
// reads the result cached in ~/.cache/octet/peak.json for this CPU, backend and thread count.
GemmPeak gemm_peak(const std::string& backend, int threads);

}  // namespace octet::cli
