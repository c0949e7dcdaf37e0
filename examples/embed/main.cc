// The smallest useful octet application: load a converted model, feed its input, read its output.
//
//   octet_embed MODEL.json [RUNS]
//
// It fills the (single) input with a fixed pattern, so that it runs any model; a real application
// copies its own data in instead. Build it in the source tree (it is part of octet's build) or
// against an installed octet with find_package(octet), as CMakeLists.txt here shows.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <octet/octet.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.json [RUNS]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 1;
  try {
    auto model = octet::Model::load(argv[1]);   // MODEL.bin is memory-mapped and verified
    const octet::TensorInfo& in = model->inputs().at(0);
    if (in.dtype != octet::DataType::f32) throw octet::Error("this example feeds float32 inputs only");

    // Symbolic dimensions (the batch) are -1 in the model: choose 1.
    std::vector<int64_t> shape = in.shape;
    for (auto& d : shape) d = d < 0 ? 1 : d;
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) data[static_cast<size_t>(i)] = static_cast<float>(i % 17) / 16.0f;

    octet::SessionOptions opts;
    opts.threads = 1;
    octet::Session session(model, opts);
    for (int r = 0; r < std::max(runs, 1); ++r) {
      session.set_input(in.name, octet::TensorView::of(data.data(), shape));
      session.run();
    }
    for (const auto& out_info : model->outputs()) {
      octet::TensorView out = session.output(out_info.name);   // valid until the next run()
      std::printf("%s: %s [", out_info.name.c_str(), octet::dtype_name(out.dtype));
      for (size_t i = 0; i < out.shape.size(); ++i) std::printf("%s%lld", i ? "," : "", static_cast<long long>(out.shape[i]));
      std::printf("]");
      if (out.dtype == octet::DataType::f32 && out.elements() > 0) {
        const float* v = out.as<float>();
        const float* best = std::max_element(v, v + out.elements());
        std::printf(" argmax %lld (%.4f)", static_cast<long long>(best - v), *best);
      }
      std::printf("\n");
    }
    std::printf("backend %s, %zu bytes of activation memory\n", session.backend().c_str(), session.arena_bytes());
  } catch (const octet::Error& e) {
    std::fprintf(stderr, "octet_embed: %s\n", e.what());
    return 1;
  }
  return 0;
}
