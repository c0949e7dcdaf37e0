// Collects a tensor's values over the calibration set and picks the range [lo, hi] that its
// 8-bit quantization will cover. Two passes keep it deterministic and memory-bounded: pass 1
// finds the finite min/max; pass 2 fills a fixed 2048-bin histogram over exactly that range
// (only needed by percentile, entropy and mse). Memory per tensor: 16 KB, whatever the data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace octet::converter {

enum class CalibMethod { MinMax, Percentile, Entropy, Mse };
bool parse_calib_method(const std::string& s, CalibMethod* m);
const char* calib_method_name(CalibMethod m);
inline bool needs_histogram(CalibMethod m) { return m != CalibMethod::MinMax; }

class RangeObserver {
 public:
  static constexpr int kBins = 2048;

  void observe_minmax(const float* x, int64_t n);   // pass 1
  void observe_hist(const float* x, int64_t n);     // pass 2 (after pass 1 on all samples)
  bool seen() const { return min_ <= max_; }
  float min() const { return min_; }
  float max() const { return max_; }
  // The range to quantize over; always contains 0.
  std::pair<float, float> range(CalibMethod method, double percentile) const;

 private:
  float min_ = 1.f, max_ = -1.f;   // empty until the first finite value
  std::vector<uint64_t> hist_;
  float bin_width() const;
  std::pair<float, float> percentile_range(double p) const;
  std::pair<float, float> entropy_range() const;
  std::pair<float, float> mse_range() const;
};

}  // namespace octet::converter
