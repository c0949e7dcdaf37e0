// octet bench: latency, throughput, memory and a per-op profile of a model on this machine,
// random inputs by default. One model, one runtime: compare runtimes with benchmarks/compare.sh,
// which alternates them run by run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/npy.h"
#include "io/progress.h"
#include "machine.h"
#include "octet/octet.h"

namespace octet::cli {

namespace {
io::NdArray random_input(const TensorInfo& info, int64_t batch, uint32_t seed) {
  io::NdArray t;
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

struct Opts {
  std::string model, backend = "auto";
  std::vector<std::string> inputs;
  int threads = 1, warmup = 5, iterations = 0, batch = 1;
  double seconds = 0;
  bool profile = false, json = false, no_peak = false, strict = false;
};
}  // namespace

Command add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure load time, latency, throughput, peak memory and a per-op profile on this machine");
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model graph file NAME.json")->required();
  cmd->add_option("--backend", o->backend, "auto, onednn, xnnpack or reference")->capture_default_str();
  cmd->add_flag("--strict", o->strict, "fail, naming the node, if any node would run on the reference kernel of --backend");
  cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", o->batch, "value of a symbolic batch dimension")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs first")->check(CLI::NonNegativeNumber)->capture_default_str();
  auto* it = cmd->add_option("--iterations", o->iterations, "timed runs (default: as many as fit in --seconds, at least 10)")
                 ->check(CLI::PositiveNumber);
  cmd->add_option("--seconds", o->seconds, "time budget for the timed runs (default 3 s)")->check(CLI::PositiveNumber)->excludes(it);
  cmd->add_option("-i,--input", o->inputs, "NAME=FILE.npy instead of random data (needed for integer inputs such as token ids)");
  cmd->add_flag("--profile", o->profile, "print time per node and per op type, with GOPS against the machine's GEMM peak");
  cmd->add_flag("--json", o->json, "print one JSON object on stdout instead of text (profile included; no progress bar)");
  cmd->add_flag("--no-peak", o->no_peak, "skip measuring the machine's GEMM peak (cached in ~/.cache/octet/peak.json)");
  return [o]() {
    using clock = std::chrono::steady_clock;
    auto since = [](clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); };
    auto t0 = clock::now();
    auto model = Model::load(o->model);
    SessionOptions so;
    so.backend = o->backend;
    so.allow_fallback = !o->strict;
    so.threads = o->threads;
    so.profile = true;   // two clock reads per node: far below the noise of a shared machine
    Session s(model, so);
    const double load_ms = since(t0);

    std::map<std::string, io::NdArray> given;
    for (const auto& spec : o->inputs) {
      auto eq = spec.find('=');
      if (eq == std::string::npos) throw Error("--input takes NAME=FILE.npy, got '" + spec + "'");
      given[spec.substr(0, eq)] = io::read_npy(spec.substr(eq + 1));
    }
    for (const auto& [name, t] : given) {
      bool known = false;
      for (const auto& info : model->inputs()) known |= info.name == name;
      if (!known) throw Error("--input " + name + ": the model has no input of that name");
    }
    uint32_t seed = 1;
    std::vector<io::NdArray> feeds;
    for (const auto& info : model->inputs()) {
      auto g = given.find(info.name);
      feeds.push_back(g != given.end() ? g->second : random_input(info, o->batch, seed++));
      s.set_input(info.name, feeds.back().view());
    }
    auto t1 = clock::now();
    s.run();
    const double first_ms = since(t1);
    for (int i = 0; i < o->warmup; ++i) s.run();
    s.reset_profile();

    const double budget_ms = (o->seconds > 0 ? o->seconds : 3.0) * 1000;
    const bool by_count = o->iterations > 0;
    std::vector<double> ms;
    io::Progress bar("bench", by_count ? static_cast<size_t>(o->iterations) : 100, !o->json);
    auto start = clock::now();
    while (by_count ? static_cast<int>(ms.size()) < o->iterations : (since(start) < budget_ms || ms.size() < 10)) {
      auto a = clock::now();
      s.run();
      ms.push_back(since(a));
      bar.update(by_count ? ms.size() : static_cast<size_t>(std::min(100.0, 100 * since(start) / budget_ms)));
    }
    bar.finish();
    const double total_ms = since(start);
    const int runs = static_cast<int>(ms.size());
    const double p50 = percentile(ms, 50);

    GemmPeak peak;
    if (!o->no_peak && (o->json || o->profile)) peak = gemm_peak(s.backend(), o->threads);

    auto prof = s.profile();
    double prof_total = 0;
    for (const auto& p : prof) prof_total += p.ms;
    const auto features = cpu_features();
    std::string feature_list;
    for (const auto& f : features) feature_list += (feature_list.empty() ? "" : " ") + f;

    if (o->json) {
      nlohmann::ordered_json j;
      j["model"] = o->model;
      j["backend"] = s.backend();
      j["threads"] = o->threads;
      j["batch"] = o->batch;
      j["cpu"] = cpu_model();
      j["cpu_features"] = features;
      j["load_ms"] = load_ms;
      j["first_run_ms"] = first_ms;
      j["iterations"] = runs;
      j["latency_ms"] = {{"min", *std::min_element(ms.begin(), ms.end())}, {"p50", p50}, {"p90", percentile(ms, 90)},
                         {"p99", percentile(ms, 99)}, {"max", *std::max_element(ms.begin(), ms.end())}, {"mean", total_ms / runs}};
      j["throughput_per_s"] = 1000.0 * runs * o->batch / total_ms;
      j["peak_rss_mb"] = peak_rss_mb();
      j["arena_mb"] = static_cast<double>(s.arena_bytes()) / (1 << 20);
      j["profile_sum_ms"] = prof_total / runs;   // compare with latency_ms.mean: both are averages
      j["gemm_peak"] = {{"int8_gops", peak.int8_gops}, {"float_gflops", peak.float_gflops}, {"cached", peak.cached}};
      auto ops = nlohmann::ordered_json::array();
      for (const auto& p : prof)
        ops.push_back({{"node", p.node}, {"op", p.op}, {"backend", p.backend}, {"precision", p.precision}, {"impl", p.impl},
                       {"detail", p.detail}, {"ms", p.ms / runs}, {"share", prof_total > 0 ? p.ms / prof_total : 0}, {"gops", p.gops}});
      j["ops"] = ops;
      std::cout << j.dump(2) << "\n";
      return 0;
    }

    std::printf("model %s  backend %s  threads %d  batch %d\n", o->model.c_str(), s.backend().c_str(), o->threads, o->batch);
    std::printf("cpu %s (%s)\n", cpu_model().c_str(), feature_list.c_str());
    std::printf("load %.1f ms  first run %.2f ms  peak RSS %.1f MB  activations %.2f MB\n", load_ms, first_ms, peak_rss_mb(),
                static_cast<double>(s.arena_bytes()) / (1 << 20));
    std::printf("latency ms: min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%d runs)\n", *std::min_element(ms.begin(), ms.end()),
                p50, percentile(ms, 90), percentile(ms, 99), *std::max_element(ms.begin(), ms.end()), runs);
    std::printf("throughput %.1f inferences/s\n", 1000.0 * runs * o->batch / total_ms);
    if (o->profile) {
      std::map<std::string, double> by_op;
      for (const auto& p : prof) by_op[p.op + " (" + p.precision + ")"] += p.ms;
      std::vector<std::pair<double, std::string>> ops;
      for (const auto& [k, v] : by_op) ops.push_back({v, k});
      std::sort(ops.rbegin(), ops.rend());
      if (peak.int8_gops > 0)
        std::printf("GEMM peak on this machine (%s, %d threads): int8 %.0f GOPS, float %.0f GFLOPS%s\n", s.backend().c_str(),
                    o->threads, peak.int8_gops, peak.float_gflops, peak.cached ? " (cached)" : "");
      std::printf("per op type (ms per run, share; node times sum to %.3f ms per run):\n", prof_total / runs);
      for (const auto& [v, k] : ops) std::printf("  %-34s %8.3f  %5.1f%%\n", k.c_str(), v / runs, 100 * v / prof_total);
      std::printf("per node:\n");
      for (const auto& p : prof) {
        char gops[48] = "";
        if (p.gops > 0) {
          const double ref = p.precision == "float" ? peak.float_gflops : peak.int8_gops;
          if (ref > 0) std::snprintf(gops, sizeof gops, "%7.1f GOPS (%3.0f%% of peak)", p.gops, 100 * p.gops / ref);
          else std::snprintf(gops, sizeof gops, "%7.1f GOPS", p.gops);
        }
        std::printf("  %-30s %-16s %-12s %8.3f ms %5.1f%% %s %s%s%s%s\n", p.node.c_str(), p.op.c_str(), p.precision.c_str(),
                    p.ms / runs, 100 * p.ms / prof_total, gops, p.impl.c_str(), p.detail.empty() ? "" : " [", p.detail.c_str(),
                    p.detail.empty() ? "" : "]");
      }
    }
    return 0;
  };
}

}  // namespace octet::cli
