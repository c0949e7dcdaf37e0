// Float definitions of the activations octet fuses or runs as ops. The reference kernels, the
// int8 lookup tables and octet's own kernels all call these.
#pragma once

#include <algorithm>
#include <cmath>

#include "model/model_data.h"

namespace octet {

inline float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }
inline float hard_sigmoid(float x, float alpha, float beta) { return std::min(1.f, std::max(0.f, alpha * x + beta)); }
inline float hard_swish(float x) { return x * std::min(1.f, std::max(0.f, x / 6.f + 0.5f)); }
inline float gelu_erf(float x) { return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)); }
inline float gelu_tanh(float x) {
  return 0.5f * x * (1.f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

inline float apply_activation(const Activation& a, float x) {
  switch (a.kind) {
    case ActKind::None: return x;
    case ActKind::Relu: return x > 0 ? x : 0.f;
    case ActKind::Clip: return std::min(std::max(x, a.alpha), a.beta);
    case ActKind::LeakyRelu: return x >= 0 ? x : a.alpha * x;
    case ActKind::HardSwish: return hard_swish(x);
    case ActKind::HardSigmoid: return hard_sigmoid(x, a.alpha, a.beta);
    case ActKind::Sigmoid: return sigmoid(x);
    case ActKind::Tanh: return std::tanh(x);
    case ActKind::Gelu: return gelu_erf(x);
  }
  return x;
}

}  // namespace octet
