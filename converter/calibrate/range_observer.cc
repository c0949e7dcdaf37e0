#include "calibrate/range_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace octet::converter {

bool parse_calib_method(const std::string& s, CalibMethod* m) {
  if (s == "minmax") return *m = CalibMethod::MinMax, true;
  if (s == "percentile") return *m = CalibMethod::Percentile, true;
  if (s == "entropy") return *m = CalibMethod::Entropy, true;
  if (s == "mse") return *m = CalibMethod::Mse, true;
  return false;
}

const char* calib_method_name(CalibMethod m) {
  switch (m) {
    case CalibMethod::MinMax: return "minmax";
    case CalibMethod::Percentile: return "percentile";
    case CalibMethod::Entropy: return "entropy";
    case CalibMethod::Mse: return "mse";
  }
  return "?";
}

void RangeObserver::observe_minmax(const float* x, int64_t n) {
  float lo = min_, hi = max_;
  bool any = seen();
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    if (!any) lo = hi = v, any = true;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (any) min_ = lo, max_ = hi;
}

float RangeObserver::bin_width() const { return (max_ - min_) / kBins; }

void RangeObserver::observe_hist(const float* x, int64_t n) {
  if (!seen()) return;
  if (hist_.empty()) hist_.assign(kBins, 0);
  const float w = bin_width();
  if (!(w > 0)) {
    hist_[0] += static_cast<uint64_t>(n);
    return;
  }
  const float inv = 1.f / w;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    int b = static_cast<int>((v - min_) * inv);
    hist_[std::clamp(b, 0, kBins - 1)]++;
  }
}

std::pair<float, float> RangeObserver::range(CalibMethod method, double percentile) const {
  if (!seen()) return {0.f, 1.f};
  std::pair<float, float> r{min_, max_};
  if (method != CalibMethod::MinMax && !hist_.empty() && bin_width() > 0) {
    if (method == CalibMethod::Percentile) r = percentile_range(percentile);
    else if (method == CalibMethod::Entropy) r = entropy_range();
    else r = mse_range();
  }
  r.first = std::min(r.first, 0.f);
  r.second = std::max(r.second, 0.f);
  if (r.second - r.first <= 0) r.second = r.first + 1.f;
  return r;
}

std::pair<float, float> RangeObserver::percentile_range(double p) const {
  uint64_t total = 0;
  for (uint64_t c : hist_) total += c;
  if (!total) return {min_, max_};
  const double q_hi = p / 100.0, q_lo = 1.0 - q_hi;
  const float w = bin_width();
  auto quantile = [&](double q) {
    const double target = q * static_cast<double>(total);
    double cum = 0;
    for (int b = 0; b < kBins; ++b) {
      const double next = cum + static_cast<double>(hist_[b]);
      if (next >= target && hist_[b] > 0) {
        const double frac = (target - cum) / static_cast<double>(hist_[b]);
        return min_ + w * static_cast<float>(b + std::clamp(frac, 0.0, 1.0));
      }
      cum = next;
    }
    return max_;
  };
  return {min_ < 0 ? std::min(quantile(q_lo), 0.f) : min_, quantile(q_hi)};
}

// KL-divergence threshold (the TensorRT calibration algorithm) on the histogram of |x|: the
// threshold T whose clipped-and-quantized distribution is closest to the observed one. Levels:
// 256 for non-negative tensors (u8 covers [0, T]), 128 for signed ones (half of u8 each side).
std::pair<float, float> RangeObserver::entropy_range() const {
  const float amax = std::max(std::fabs(min_), std::fabs(max_));
  if (!(amax > 0)) return {min_, max_};
  std::vector<double> h(kBins, 0.0);
  const float w = bin_width(), fw = amax / kBins;
  for (int b = 0; b < kBins; ++b) {
    if (!hist_[b]) continue;
    const float center = std::fabs(min_ + w * (static_cast<float>(b) + 0.5f));
    h[std::min(kBins - 1, static_cast<int>(center / fw))] += static_cast<double>(hist_[b]);
  }
  const int levels = min_ < 0 ? 128 : 256;
  int best = kBins;
  double best_kl = std::numeric_limits<double>::infinity();
  const int step = std::max(1, (kBins - levels) / 256);
  std::vector<double> p, q;
  for (int i = levels; i <= kBins; i += step) {
    p.assign(h.begin(), h.begin() + i);
    double outliers = 0;
    for (int b = i; b < kBins; ++b) outliers += h[b];
    p[i - 1] += outliers;
    // Zero is exact in the quantized grid: bin 0 (the spike of ReLU zeros) is its own level,
    // not smeared over its neighbours, which would otherwise push the threshold far too low.
    q.assign(i, 0.0);
    q[0] = h[0];
    for (int j = 0; j < levels - 1; ++j) {
      const int s = 1 + static_cast<int>(static_cast<int64_t>(j) * (i - 1) / (levels - 1));
      const int e = 1 + static_cast<int>(static_cast<int64_t>(j + 1) * (i - 1) / (levels - 1));
      double mass = 0;
      int nz = 0;
      for (int k = s; k < e; ++k) mass += h[k], nz += h[k] > 0;
      if (nz) for (int k = s; k < e; ++k) if (h[k] > 0) q[k] = mass / nz;
    }
    double ps = 0, qs = 0;
    for (int k = 0; k < i; ++k) ps += p[k], qs += q[k];
    if (ps <= 0 || qs <= 0) continue;
    double kl = 0;
    for (int k = 0; k < i; ++k) {
      if (p[k] <= 0) continue;
      const double pk = p[k] / ps, qk = q[k] > 0 ? q[k] / qs : 1e-12;
      kl += pk * std::log(pk / qk);
    }
    if (kl < best_kl) best_kl = kl, best = i;
  }
  const float t = fw * static_cast<float>(best);
  return {std::max(min_, -t), std::min(max_, t)};
}

// The clipping range with the least expected squared error (rounding + clipping), evaluated on
// the histogram for a grid of shrink factors of each end.
std::pair<float, float> RangeObserver::mse_range() const {
  const float w = bin_width();
  std::vector<std::pair<float, double>> bins;   // center, count
  for (int b = 0; b < kBins; ++b)
    if (hist_[b]) bins.push_back({min_ + w * (static_cast<float>(b) + 0.5f), static_cast<double>(hist_[b])});
  const float lo0 = std::min(min_, 0.f), hi0 = std::max(max_, 0.f);
  double best_err = std::numeric_limits<double>::infinity();
  std::pair<float, float> best{lo0, hi0};
  const int steps = 20;
  for (int a = 0; a < steps; ++a) {
    const float lo = lo0 * (1.f - static_cast<float>(a) / steps);
    if (a > 0 && lo0 == 0) break;
    for (int b = 0; b < steps; ++b) {
      const float hi = hi0 * (1.f - static_cast<float>(b) / steps);
      if (!(hi - lo > 0)) continue;
      const float s = (hi - lo) / 255.f;
      const float zp = std::nearbyint(-lo / s);
      double err = 0;
      for (const auto& [x, c] : bins) {
        const float qv = std::clamp(std::nearbyint(x / s) + zp, 0.f, 255.f);
        const double d = static_cast<double>(x) - static_cast<double>(s * (qv - zp));
        err += c * d * d;
      }
      if (err < best_err) best_err = err, best = {lo, hi};
    }
  }
  return best;
}

}  // namespace octet::converter
