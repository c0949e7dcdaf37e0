// The user's calibration samples: a directory of .npy files (single-input models), .npz files
// (one sample per file, keys = input names) or images (PNG/JPEG/BMP, preprocessed by
// io::ImageOptions). Files are taken in name order, read one at a time (memory stays bounded)
// and checked against the model's inputs, with errors naming the file and the input.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/ndarray.h"
#include "octet/octet.h"

namespace octet::converter {

class CalibrationData {
 public:
  // Throws octet::Error for a missing/empty directory or unusable file kinds.
  CalibrationData(const std::string& dir, const Model& model, const io::ImageOptions& image, size_t max_samples);
  size_t size() const { return files_.size(); }
  const std::vector<std::string>& files() const { return files_; }
  // Sample i, one tensor per model input, validated (a missing batch dimension is added).
  std::map<std::string, io::NdArray> load(size_t i) const;

 private:
  std::vector<std::string> files_;
  std::vector<TensorInfo> inputs_;
  io::ImageOptions image_;
  io::NdArray fit(io::NdArray t, const TensorInfo& in, const std::string& file) const;
};

}  // namespace octet::converter
