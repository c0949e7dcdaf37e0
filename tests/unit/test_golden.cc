// Cross-backend agreement: every model in tests/data/golden (converted once on x86, with the x86
// reference backend's outputs recorded; see make_golden.sh there) runs on every backend compiled
// into this build and must reproduce the recorded outputs. On aarch64 (under qemu in CI) this is
// the check that one model file gives the same answers on x86 and ARM.
//
// Tolerances, per graph output:
//  - dequantized static int8 outputs: exact. Products requantize by one definition on every
//    backend (quant/requant.h) and the ops that would round differently (XNNPACK's fixed-point
//    averages) run on the reference kernel, so the same file gives the same codes on oneDNN
//    (with or without VNNI), XNNPACK and the reference, on x86 and on aarch64;
//  - outputs of int8_dynamic recurrent nodes: 2e-3 of the largest |value| (the hidden state is
//    re-quantized every step, so a one-code difference early moves later steps slightly), and
//    cosine >= 0.9999;
//  - float outputs: 1e-4 of the largest |value| (summation order and FMA differ between backends).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "io/npy.h"
#include "octet/octet.h"

namespace fs = std::filesystem;
using namespace octet;

namespace {
struct Tolerance {
  double abs;
  double min_cosine;
  std::string why;
};

Tolerance tolerance_for(const Model& m, const std::string& output, double max_abs) {
  for (const auto& n : m.nodes()) {
    if (std::find(n.outputs.begin(), n.outputs.end(), output) == n.outputs.end()) continue;
    if (n.op == "DequantizeLinear") {
      const QuantInfo q = m.tensor(n.inputs[0]).quant;
      if (q.scale.size() == 1) return {0.0, 0.0, "exact codes of " + n.inputs[0]};
    }
    if (n.precision == "int8_dynamic") return {2e-3 * max_abs + 1e-6, 0.9999, "int8_dynamic: 2e-3 of max"};
  }
  return {1e-4 * max_abs + 1e-6, 0.0, "float: 1e-4 of max"};
}

std::vector<fs::path> golden_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(fs::path(OCTET_TEST_DATA) / "golden"))
    if (e.is_directory() && fs::exists(e.path() / "model.json")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}
}  // namespace

TEST_SUITE("golden") {
TEST_CASE("every backend reproduces the outputs recorded on x86, from the same model file") {
  const auto dirs = golden_dirs();
  REQUIRE(dirs.size() >= 10);   // the fixtures exist (a missing directory must not pass silently)
  int compared = 0;
  for (const auto& dir : dirs) {
    auto model = Model::load((dir / "model.json").string());
    io::NdArray input = io::read_npy((dir / "input.npy").string());
    for (const auto& backend : available_backends()) {
      CAPTURE(dir.filename().string());
      CAPTURE(backend);
      SessionOptions so;
      so.backend = backend;
      Session s(model, so);
      s.set_input(model->inputs()[0].name, input.view());
      s.run();
      for (const auto& out : model->outputs()) {
        io::NdArray want = io::read_npy((dir / "expected" / (out.name + ".npy")).string());
        TensorView got = s.output(out.name);
        REQUIRE(got.shape == want.shape);
        REQUIRE(got.dtype == DataType::f32);
        const float* a = got.as<float>();
        const float* b = want.as<float>();
        double max_abs = 0, worst = 0, dot = 0, na = 0, nb = 0;
        for (int64_t i = 0; i < want.elements(); ++i) max_abs = std::max(max_abs, std::fabs(double(b[i])));
        for (int64_t i = 0; i < want.elements(); ++i) {
          worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
          dot += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
        }
        const Tolerance tol = tolerance_for(*model, out.name, max_abs);
        CAPTURE(tol.why);
        MESSAGE(dir.filename().string() << " on " << backend << ": max |diff| " << worst << " (tolerance " << tol.abs << ", "
                << tol.why << ")");
        CHECK(worst <= tol.abs);
        if (tol.min_cosine > 0) CHECK(dot / std::sqrt(na * nb + 1e-30) >= tol.min_cosine);
        ++compared;
      }
    }
  }
  CHECK(compared >= static_cast<int>(dirs.size() * available_backends().size()));
}
}
