// Runs the float model over the calibration data and returns, for every float tensor, the range
// its int8 quantization should cover.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "calibrate/calibration_data.h"
#include "calibrate/range_observer.h"

namespace octet::converter {

struct CalibrationOptions {
  CalibMethod method = CalibMethod::Mse;
  double percentile = 99.99;
  int threads = 1;
  std::string backend = "auto";
  bool progress = true;
  // Tensors that keep their full observed range whatever the method (graph outputs: clipping
  // logits or regression outputs costs accuracy users see directly).
  std::set<std::string> full_range;
};

struct CalibrationResult {
  std::map<std::string, std::pair<float, float>> ranges;   // tensor name -> [lo, hi]
  size_t samples = 0;
  double seconds = 0;
};

CalibrationResult calibrate(const std::shared_ptr<const Model>& float_model, const CalibrationData& data,
                            const CalibrationOptions& opts);

}  // namespace octet::converter
