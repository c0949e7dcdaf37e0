// Vectorizable sigmoid and tanh for the recurrent kernels' gates. Plain loops the compiler turns
// into AVX2/FMA code (the target attribute; callers check the CPU): Cephes' polynomials, about
// 2 ulp, NaN in -> NaN out. std::exp/std::tanh would not vectorize without -ffast-math.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define OCTET_RNN_SIMD __attribute__((target("avx2,fma")))

namespace octet::onednn::rnnmath {

OCTET_RNN_SIMD inline float exp_approx(float x) {
  const float c = std::fmin(std::fmax(x, -87.f), 88.f);
  const float n = std::floor(c * 1.44269504f + 0.5f);
  float r = c - n * 0.693359375f;   // ln2 in two parts keeps r exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  const float y = p * scale;
  return x != x ? x : y;
}

OCTET_RNN_SIMD inline float sigmoid(float x) { return 1.f / (1.f + exp_approx(-x)); }

OCTET_RNN_SIMD inline float tanh_approx(float x) {
  const float a = std::fabs(x);
  // |x| < 0.625: odd polynomial (no cancellation near 0); else 1 - 2 / (e^2|x| + 1).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = std::copysign(1.f - 2.f / (exp_approx(2.f * a) + 1.f), x);
  return a < 0.625f ? small : big;
}

}  // namespace octet::onednn::rnnmath
