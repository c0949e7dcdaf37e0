// octet run: run a model on .npy inputs and write one .npy per output.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "io/npy.h"
#include "octet/octet.h"

namespace octet::cli {

namespace {
std::string file_name_for(const std::string& tensor) {
  std::string s = tensor;
  for (char& c : s)
    if (c == '/' || c == '\\' || c == ':' || c == ' ') c = '_';
  return s.empty() ? "output" : s;
}

void print_summary(const std::string& name, const TensorView& v) {
  std::printf("%s: %s [", name.c_str(), dtype_name(v.dtype));
  for (size_t i = 0; i < v.shape.size(); ++i) std::printf(i ? ",%lld" : "%lld", static_cast<long long>(v.shape[i]));
  std::printf("]");
  if (v.dtype == DataType::f32 && v.elements() > 0) {
    const float* p = v.as<float>();
    float lo = p[0], hi = p[0];
    double sum = 0;
    for (int64_t i = 0; i < v.elements(); ++i) lo = std::min(lo, p[i]), hi = std::max(hi, p[i]), sum += p[i];
    std::printf(" min %.6g max %.6g mean %.6g", lo, hi, sum / static_cast<double>(v.elements()));
    if (v.shape.size() == 2 && v.shape[1] > 1) {
      std::printf(" argmax");
      for (int64_t r = 0; r < std::min<int64_t>(v.shape[0], 16); ++r)
        std::printf(" %lld", static_cast<long long>(std::max_element(p + r * v.shape[1], p + (r + 1) * v.shape[1]) - (p + r * v.shape[1])));
      if (v.shape[0] > 16) std::printf(" ...");
    }
  }
  std::printf("\n");
}
}  // namespace

Command add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model on .npy inputs; writes OUTDIR/<output name>.npy for every output");
  struct Opts {
    std::string model, out_dir;
    std::vector<std::string> inputs;
    std::string backend = "auto";
    int threads = 1;
    bool quiet = false, strict = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model graph file NAME.json")->required();
  cmd->add_option("-i,--input", o->inputs, "NAME=FILE.npy (repeatable); FILE.npy alone for a single-input model")->required();
  cmd->add_option("-o,--output-dir", o->out_dir, "directory for the output .npy files (created if missing); none: only print");
  cmd->add_option("--backend", o->backend, "auto, onednn, xnnpack or reference")->capture_default_str();
  cmd->add_flag("--strict", o->strict, "fail, naming the node, if any node would run on the reference kernel of --backend");
  cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "do not print output summaries");
  return [o]() {
    auto model = Model::load(o->model);
    SessionOptions so;
    so.backend = o->backend;
    so.allow_fallback = !o->strict;
    so.threads = o->threads;
    Session session(model, so);
    std::vector<std::pair<std::string, io::NdArray>> feeds;
    for (const auto& spec : o->inputs) {
      auto eq = spec.find('=');
      std::string name, file;
      if (eq == std::string::npos) {
        if (model->inputs().size() != 1)
          throw Error("the model has " + std::to_string(model->inputs().size()) + " inputs: give each as NAME=FILE.npy");
        name = model->inputs()[0].name, file = spec;
      } else {
        name = spec.substr(0, eq), file = spec.substr(eq + 1);
      }
      io::NdArray t = io::read_npy(file);
      try {
        session.set_input(name, t.view());
      } catch (const Error& e) {
        throw Error(file + ": " + e.what());
      }
      feeds.emplace_back(name, std::move(t));
    }
    session.run();
    if (!o->out_dir.empty()) {
      std::error_code ec;   // parents too, like mkdir -p
      std::filesystem::create_directories(o->out_dir, ec);
      if (ec) throw Error(o->out_dir + ": cannot create directory (" + ec.message() + ")");
    }
    for (const auto& info : model->outputs()) {
      TensorView v = session.output(info.name);
      if (!o->quiet) print_summary(info.name, v);
      if (!o->out_dir.empty()) io::write_npy(o->out_dir + "/" + file_name_for(info.name) + ".npy", v);
    }
    return 0;
  };
}

}  // namespace octet::cli
