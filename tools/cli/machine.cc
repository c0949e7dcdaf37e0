#include "machine.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/file.h"
#include "octet/octet.h"
#include "writer/model_writer.h"

namespace octet::cli {

namespace {
std::string cpuinfo_field(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(std::min(colon + 2, line.size()));
    }
  }
  return "";
}
}  // namespace

std::string cpu_model() {
  std::string m = cpuinfo_field("model name");
  if (m.empty()) m = cpuinfo_field("CPU part");   // aarch64 Linux has no model name
  return m.empty() ? "unknown" : m;
}

std::vector<std::string> cpu_features() {
  static const char* wanted[] = {"sse4_1", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16",
                                 "amx_int8", "amx_bf16", "asimd", "asimddp", "i8mm", "sve", "sve2", "bf16"};
  std::string flags = cpuinfo_field("flags");
  if (flags.empty()) flags = cpuinfo_field("Features");
  std::istringstream in(flags);
  std::vector<std::string> have, out;
  for (std::string f; in >> f;) have.push_back(f);
  for (const char* w : wanted)
    if (std::find(have.begin(), have.end(), w) != have.end()) out.push_back(w);
  return out;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;   // Linux: kilobytes
}

namespace {
// The GEMM shapes measured: a FullyConnected (M=128, K=N=1024) and a 1x1 convolution over
// 28x28x512 -> 512 (M=784, K=N=512), the bulk of a CNN. The better of the two is the peak.
struct GemmShape {
  bool conv;
  int64_t m, k, n;
  double ops() const { return 2.0 * m * k * n; }
};

std::shared_ptr<const Model> gemm_model(const GemmShape& g, bool int8) {
  ModelWriter w;
  std::mt19937 rng(7);
  std::vector<ModelWriter::Dim> xs = g.conv ? std::vector<ModelWriter::Dim>{1, 28, 28, g.k} : std::vector<ModelWriter::Dim>{g.m, g.k};
  std::vector<ModelWriter::Dim> ws = g.conv ? std::vector<ModelWriter::Dim>{g.n, 1, 1, g.k} : std::vector<ModelWriter::Dim>{g.n, g.k};
  std::vector<ModelWriter::Dim> ys = g.conv ? std::vector<ModelWriter::Dim>{1, 28, 28, g.n} : std::vector<ModelWriter::Dim>{g.m, g.n};
  if (int8) {
    std::vector<int8_t> wt(static_cast<size_t>(g.n * g.k));
    for (auto& v : wt) v = static_cast<int8_t>(static_cast<int>(rng() % 129) - 64);
    w.add_tensor({"x", DataType::u8, xs, QuantInfo{{0.02f}, {128}, -1}, {}, false});
    w.add_constant("w", DataType::s8, ws, wt, QuantInfo{std::vector<float>(g.n, 0.001f), std::vector<int32_t>(g.n, 0), 0});
    w.add_tensor({"y", DataType::u8, ys, QuantInfo{{0.05f}, {128}, -1}, {}, false});
  } else {
    std::vector<float> wt(static_cast<size_t>(g.n * g.k));
    std::uniform_real_distribution<float> d(-0.05f, 0.05f);
    for (auto& v : wt) v = d(rng);
    w.add_tensor({"x", DataType::f32, xs, {}, {}, false});
    w.add_constant("w", DataType::f32, ws, wt);
    w.add_tensor({"y", DataType::f32, ys, {}, {}, false});
  }
  w.add_node({"gemm", g.conv ? "Conv" : "FullyConnected", {"x", "w"}, {"y"}, nlohmann::json::object(), nullptr,
              int8 ? "int8_static" : "float"});
  w.set_inputs({"x"});
  w.set_outputs({"y"});
  std::string json;
  std::vector<uint8_t> bin;
  w.serialize("peak.bin", &json, &bin);
  return Model::from_memory(json, std::move(bin), "<gemm peak>");
}

// Best of several ~40 ms rounds: the peak, not the typical, is what this number means.
double measure(const GemmShape& g, bool int8, const std::string& backend, int threads) {
  auto model = gemm_model(g, int8);
  SessionOptions so;
  so.backend = backend;
  so.threads = threads;
  Session s(model, so);
  const auto& in = model->inputs()[0];
  std::vector<int64_t> shape = in.shape;
  int64_t elems = 1;
  for (auto d : shape) elems *= d;
  std::vector<uint8_t> x8(static_cast<size_t>(elems));
  std::vector<float> xf(static_cast<size_t>(elems));
  std::mt19937 rng(3);
  for (auto& b : x8) b = static_cast<uint8_t>(rng() & 0xff);
  for (size_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(x8[i]) / 255.f;
  if (int8) s.set_input("x", TensorView::of(x8.data(), shape));
  else s.set_input("x", TensorView::of(xf.data(), shape));
  s.run();
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    int reps = 0;
    auto t0 = std::chrono::steady_clock::now();
    double ms = 0;
    while (ms < 40) {
      s.run();
      ++reps;
      ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    best = std::min(best, ms / reps);
  }
  return g.ops() / (best * 1e6);
}

double best_of_shapes(bool int8, const std::string& backend, int threads) {
  const GemmShape shapes[] = {{false, 128, 1024, 1024}, {true, 784, 512, 512}};
  double best = 0;
  for (const auto& g : shapes) best = std::max(best, measure(g, int8, backend, threads));
  return best;
}

std::filesystem::path cache_file() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path dir = xdg && *xdg ? std::filesystem::path(xdg) : std::filesystem::path(home ? home : "/tmp") / ".cache";
  return dir / "octet" / "peak.json";
}
}  // namespace

GemmPeak gemm_peak(const std::string& backend, int threads) {
  const std::string key = cpu_model() + " | " + backend + " | " + std::to_string(threads) + " threads | octet " + version();
  nlohmann::json cache = nlohmann::json::object();
  const auto path = cache_file();
  try {
    std::ifstream f(path);
    if (f) cache = nlohmann::json::parse(f);
    if (cache.contains(key)) return {cache[key].at("int8_gops").get<double>(), cache[key].at("float_gflops").get<double>(), true};
  } catch (const std::exception&) {
    cache = nlohmann::json::object();   // unreadable cache: measure again and rewrite it
  }
  GemmPeak p;
  p.int8_gops = best_of_shapes(true, backend, threads);
  p.float_gflops = best_of_shapes(false, backend, threads);
  try {
    std::filesystem::create_directories(path.parent_path());
    cache[key] = {{"int8_gops", p.int8_gops}, {"float_gflops", p.float_gflops}};
    const std::string text = cache.dump(2);
    io::write_file_atomic(path.string(), text.data(), text.size());
  } catch (const std::exception&) {
    // A read-only home only costs the measurement next time.
  }
  return p;
}

}  // namespace octet::cli
