// octet bench: latency of a model on this machine (random inputs by default), with a per-op
// profile. Iterations alternate nothing: compare runtimes with benchmarks/compare.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "commands.h"
#include "io/npy.h"
#include "io/progress.h"
#include "octet/octet.h"

namespace octet::cli {

namespace {
io::Tensor random_input(const TensorInfo& info, int64_t batch, uint32_t seed) {
  io::Tensor t;
  t.dtype = info.dtype;
  for (size_t i = 0; i < info.shape.size(); ++i) t.shape.push_back(info.shape[i] >= 0 ? info.shape[i] : (i == 0 ? batch : 1));
  t.bytes.resize(static_cast<size_t>(t.elements()) * dtype_size(t.dtype));
  std::mt19937 rng(seed);
  if (t.dtype == DataType::f32) {
    std::normal_distribution<float> d(0.f, 1.f);
    for (int64_t i = 0; i < t.elements(); ++i) t.as<float>()[i] = d(rng);
  } else if (t.dtype == DataType::u8 || t.dtype == DataType::s8 || t.dtype == DataType::boolean) {
    for (auto& b : t.bytes) b = static_cast<uint8_t>(rng() & (t.dtype == DataType::boolean ? 1 : 0xff));
  } else {
    throw Error("input '" + info.name + "' is " + dtype_name(info.dtype) +
                ": values cannot be made up (token ids need a vocabulary range); give it with --input " + info.name + "=FILE.npy");
  }
  return t;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}
}  // namespace

Command add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure latency and a per-op profile on this machine");
  struct Opts {
    std::string model, backend = "auto";
    std::vector<std::string> inputs;
    int threads = 1, warmup = 5, iterations = 50, batch = 1;
    bool profile = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model graph file NAME.json")->required();
  cmd->add_option("--backend", o->backend, "auto, onednn, xnnpack or reference")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", o->batch, "value of a symbolic batch dimension")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
  cmd->add_option("--iterations", o->iterations, "timed runs")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("-i,--input", o->inputs, "NAME=FILE.npy instead of random data");
  cmd->add_flag("--profile", o->profile, "print time per node and per op type");
  return [o]() {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    auto model = Model::load(o->model);
    SessionOptions so;
    so.backend = o->backend;
    so.threads = o->threads;
    so.profile = o->profile;
    Session s(model, so);
    double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    std::map<std::string, io::Tensor> given;
    for (const auto& spec : o->inputs) {
      auto eq = spec.find('=');
      if (eq == std::string::npos) throw Error("--input takes NAME=FILE.npy");
      given[spec.substr(0, eq)] = io::read_npy(spec.substr(eq + 1));
    }
    uint32_t seed = 1;
    std::vector<io::Tensor> feeds;
    for (const auto& info : model->inputs()) {
      auto it = given.find(info.name);
      feeds.push_back(it != given.end() ? it->second : random_input(info, o->batch, seed++));
      s.set_input(info.name, feeds.back().view());
    }
    auto t1 = clock::now();
    s.run();
    double first_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
    for (int i = 0; i < o->warmup; ++i) s.run();
    s.reset_profile();
    std::vector<double> ms;
    io::Progress bar("bench", static_cast<size_t>(o->iterations));
    for (int i = 0; i < o->iterations; ++i) {
      auto a = clock::now();
      s.run();
      ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - a).count());
      bar.update(static_cast<size_t>(i + 1));
    }
    bar.finish();
    std::printf("model %s  backend %s  threads %d  batch %d\n", o->model.c_str(), s.backend().c_str(), o->threads, o->batch);
    std::printf("load %.1f ms  first run %.2f ms\n", load_ms, first_ms);
    std::printf("latency ms: min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%d runs)\n", *std::min_element(ms.begin(), ms.end()),
                percentile(ms, 50), percentile(ms, 90), percentile(ms, 99), *std::max_element(ms.begin(), ms.end()), o->iterations);
    if (o->profile) {
      auto prof = s.profile();
      double total = 0;
      for (const auto& p : prof) total += p.ms;
      std::map<std::string, double> by_op;
      for (const auto& p : prof) by_op[p.op + " (" + p.precision + ")"] += p.ms;
      std::vector<std::pair<double, std::string>> ops;
      for (const auto& [k, v] : by_op) ops.push_back({v, k});
      std::sort(ops.rbegin(), ops.rend());
      std::printf("per op type (ms per run, share):\n");
      for (const auto& [v, k] : ops) std::printf("  %-34s %8.3f  %5.1f%%\n", k.c_str(), v / o->iterations, 100 * v / total);
      std::printf("per node:\n");
      for (const auto& p : prof)
        std::printf("  %-28s %-16s %-12s %-9s %8.3f ms %5.1f%% %7.1f GOPS %s\n", p.node.c_str(), p.op.c_str(), p.precision.c_str(),
                    p.backend.c_str(), p.ms / o->iterations, 100 * p.ms / total, p.gops, p.impl.c_str());
    }
    return 0;
  };
}

}  // namespace octet::cli
