// octet eval: compare models on a labelled data set: accuracy, agreement with the first model,
// file size and latency. The demo uses it to put a float and an int8 conversion side by side.
//
// Latency is measured alternately (A B A B ...) on one sample at a time, so that a noisy, shared
// machine slows both models alike; medians are reported.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "io/npz.h"
#include "io/progress.h"
#include "octet/octet.h"

namespace octet::cli {

namespace {
struct Evaluated {
  std::string path;
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  std::vector<float> outputs;   // first graph output of every sample, concatenated
  int64_t correct = 0;
  std::vector<double> ms;
  uint64_t file_bytes = 0;
};

uint64_t model_file_bytes(const std::string& json_path, const Model& m) {
  namespace fs = std::filesystem;
  return fs::file_size(json_path) + m.weights_bytes();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int64_t argmax(const float* p, int64_t n) { return std::max_element(p, p + n) - p; }

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1u << 20)) std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(b) / (1 << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(b) / 1024);
  return buf;
}
}  // namespace

Command add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval",
                                 "Compare models on a labelled .npz data set: accuracy, agreement with the first model,\n"
                                 "file size and latency (alternating runs, medians)");
  struct Opts {
    std::vector<std::string> models;
    std::string data, x_key = "x", y_key = "y", backend = "auto";
    int threads = 1, runs = 200;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("models", o->models, "model graph files NAME.json; the first is the baseline (e.g. the float conversion)")
      ->required();
  cmd->add_option("--data", o->data, ".npz with the samples and their labels")->required()->check(CLI::ExistingFile);
  cmd->add_option("--x", o->x_key, "key of the samples in --data: [N, ...input shape without batch]")->capture_default_str();
  cmd->add_option("--labels", o->y_key, "key of the integer class labels in --data: [N]; absent key: no accuracy")
      ->capture_default_str();
  cmd->add_option("--backend", o->backend, "auto, onednn, xnnpack or reference")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--runs", o->runs, "timed runs per model, batch 1, alternating models")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [o]() {
    auto data = io::read_npz(o->data);
    const io::NdArray* x = nullptr;
    const io::NdArray* y = nullptr;
    for (const auto& [k, t] : data) {
      if (k == o->x_key) x = &t;
      if (k == o->y_key) y = &t;
    }
    if (!x) throw Error(o->data + ": no array '" + o->x_key + "' (choose it with --x)");
    if (x->dtype != DataType::f32 || x->shape.empty() || x->shape[0] < 1)
      throw Error(o->data + ": '" + o->x_key + "' must be float32 [N, ...] with N >= 1");
    const int64_t n = x->shape[0];
    if (y && (y->shape != std::vector<int64_t>{n} || (y->dtype != DataType::i64 && y->dtype != DataType::s32)))
      throw Error(o->data + ": labels '" + o->y_key + "' must be int64 or int32 [" + std::to_string(n) + "]");
    auto label = [&](int64_t i) { return y->dtype == DataType::i64 ? y->as<int64_t>()[i] : y->as<int32_t>()[i]; };

    std::vector<int64_t> sample_shape = x->shape;
    sample_shape[0] = 1;
    const int64_t sample_elems = x->elements() / n;
    std::vector<Evaluated> evals(o->models.size());
    for (size_t m = 0; m < o->models.size(); ++m) {
      auto& e = evals[m];
      e.path = o->models[m];
      e.model = Model::load(e.path);
      if (e.model->inputs().size() != 1)
        throw Error(e.path + ": eval takes models with one input (this one has " + std::to_string(e.model->inputs().size()) + ")");
      SessionOptions so;
      so.backend = o->backend;
      so.threads = o->threads;
      e.session = std::make_unique<Session>(e.model, so);
      e.file_bytes = model_file_bytes(e.path, *e.model);
    }

    // Accuracy: every sample through every model, one at a time (batch 1, as deployed).
    io::Progress bar("eval", static_cast<size_t>(n) * evals.size());
    int64_t classes = 0;
    size_t done = 0;
    for (auto& e : evals) {
      const std::string in = e.model->inputs()[0].name, out = e.model->outputs()[0].name;
      for (int64_t i = 0; i < n; ++i) {
        e.session->set_input(in, TensorView::of(x->as<float>() + i * sample_elems, sample_shape));
        e.session->run();
        TensorView v = e.session->output(out);
        if (v.dtype != DataType::f32) throw Error(e.path + ": output '" + out + "' is not float32");
        classes = v.elements();
        e.outputs.insert(e.outputs.end(), v.as<float>(), v.as<float>() + classes);
        if (y && argmax(v.as<float>(), classes) == label(i)) ++e.correct;
        bar.update(++done);
      }
    }
    bar.finish();

    // Latency: alternate the models sample by sample.
    for (auto& e : evals) {   // warm up caches and lazily created primitives
      for (int w = 0; w < 5; ++w) e.session->run();
    }
    io::Progress tbar("latency", static_cast<size_t>(o->runs));
    for (int r = 0; r < o->runs; ++r) {
      const int64_t i = r % n;
      for (auto& e : evals) {
        e.session->set_input(e.model->inputs()[0].name, TensorView::of(x->as<float>() + i * sample_elems, sample_shape));
        auto t0 = std::chrono::steady_clock::now();
        e.session->run();
        e.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      tbar.update(static_cast<size_t>(r + 1));
    }
    tbar.finish();

    const auto& base = evals[0];
    std::printf("%ld samples from %s; backend %s, %d thread(s), batch 1\n", static_cast<long>(n), o->data.c_str(),
                base.session->backend().c_str(), o->threads);
    std::printf("%-40s %10s %10s %9s %12s %8s %10s\n", "model", "accuracy", "size", "vs first", "latency p50", "speedup",
                "agreement");
    for (const auto& e : evals) {
      double dot = 0, na = 0, nb = 0;
      int64_t agree = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float* a = base.outputs.data() + i * classes;
        const float* b = e.outputs.data() + i * classes;
        if (argmax(a, classes) == argmax(b, classes)) ++agree;
        for (int64_t c = 0; c < classes; ++c) dot += double(a[c]) * b[c], na += double(a[c]) * a[c], nb += double(b[c]) * b[c];
      }
      char acc[32] = "-", lat[32] = "-", speed[32] = "-";
      if (y) std::snprintf(acc, sizeof acc, "%.2f%%", 100.0 * static_cast<double>(e.correct) / static_cast<double>(n));
      if (o->runs > 0) {
        std::snprintf(lat, sizeof lat, "%.3f ms", median(e.ms));
        std::snprintf(speed, sizeof speed, "%.2fx", median(base.ms) / median(e.ms));
      }
      std::printf("%-40s %10s %10s %8.3fx %12s %8s %9.2f%%\n", e.path.c_str(), acc, human_bytes(e.file_bytes).c_str(),
                  static_cast<double>(e.file_bytes) / static_cast<double>(base.file_bytes), lat, speed,
                  100.0 * static_cast<double>(agree) / static_cast<double>(n));
      if (&e != &base) std::printf("  output cosine vs first model: %.6f\n", dot / std::sqrt(na * nb + 1e-30));
    }
    return 0;
  };
}

}  // namespace octet::cli
