// Softmax and LayerNormalization over the last axis, float, one node through a Session:
// reference (norm_ref.cc, double accumulation) vs the oneDNN backend's AVX2 loops (norm_onednn.cc).
// Shapes from BERT-base at 128 tokens: the attention probabilities (12 heads x 128 x 128, softmax
// over rows of 128) and a LayerNorm over 128 x 768. Bytes: the input read and the output
// written once.
#include <vector>

#include "micro_util.h"

namespace octet::micro {

namespace {

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void softmax(const std::vector<int64_t>& shape) {
  const int64_t n = elements(shape);
  OneNode g;
  g.input("x", DataType::f32, shape, random_f32(static_cast<size_t>(n), -4, 6, 1));
  g.output("y", DataType::f32, shape);
  g.node("Softmax", {"x"}, {{"axis", -1}});
  register_session("BM_Softmax", dims(shape), g, Work{double(n), 8.0 * n, 0});
}

void layernorm(const std::vector<int64_t>& shape) {
  const int64_t n = elements(shape), len = shape.back();
  OneNode g;
  g.input("x", DataType::f32, shape, random_f32(static_cast<size_t>(n), -4, 6, 2));
  g.constant("s", DataType::f32, {len}, random_f32(static_cast<size_t>(len), 0.5f, 1.5f, 3));
  g.constant("b", DataType::f32, {len}, random_f32(static_cast<size_t>(len), -1, 1, 4));
  g.output("y", DataType::f32, shape);
  g.node("LayerNormalization", {"x", "s", "b"}, {{"axis", -1}, {"epsilon", 1e-5}});
  register_session("BM_LayerNorm", dims(shape), g, Work{double(n), 8.0 * n, 0});
}

}  // namespace

void register_norm_benchmarks() {
  softmax({12, 128, 128});
  layernorm({128, 768});
}

}  // namespace octet::micro
