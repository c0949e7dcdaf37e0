#include "calibrate/calibration_data.h"

#include <algorithm>

#include "io/file.h"
#include "io/npy.h"
#include "io/npz.h"

namespace octet::converter {

namespace {
std::string lower_ext(const std::string& f) {
  auto dot = f.find_last_of('.');
  std::string e = dot == std::string::npos ? "" : f.substr(dot);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}
bool is_image(const std::string& e) { return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp"; }

std::string shape_text(const std::vector<int64_t>& s, const std::vector<std::string>& names = {}) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "," : "") + (s[i] < 0 && i < names.size() ? names[i] : std::to_string(s[i]));
  return r + "]";
}
}  // namespace

CalibrationData::CalibrationData(const std::string& dir, const Model& model, const io::ImageOptions& image,
                                 size_t max_samples)
    : inputs_(model.inputs()), image_(image) {
  files_ = io::list_files(dir, {".npy", ".npz", ".png", ".jpg", ".jpeg", ".bmp"});
  if (files_.empty()) throw Error(dir + ": no calibration samples (.npy, .npz or image files) in this directory");
  bool npz = false, single = false;
  for (const auto& f : files_) (lower_ext(f) == ".npz" ? npz : single) = true;
  if (npz && single) throw Error(dir + ": mixes .npz files with .npy/image files; use one kind");
  if (single && inputs_.size() != 1)
    throw Error(dir + ": the model has " + std::to_string(inputs_.size()) + " inputs; give one .npz per sample with one array per input name");
  if (max_samples && files_.size() > max_samples) files_.resize(max_samples);
}

io::NdArray CalibrationData::fit(io::NdArray t, const TensorInfo& in, const std::string& file) const {
  if (t.dtype != in.dtype)
    throw Error(file + ": dtype " + dtype_name(t.dtype) + " does not match input '" + in.name + "' (" + dtype_name(in.dtype) + ")");
  if (t.shape.size() + 1 == in.shape.size() && in.shape[0] < 0) t.shape.insert(t.shape.begin(), 1);
  bool ok = t.shape.size() == in.shape.size();
  for (size_t d = 0; ok && d < t.shape.size(); ++d) ok = in.shape[d] < 0 || in.shape[d] == t.shape[d];
  if (!ok)
    throw Error(file + ": shape " + shape_text(t.shape) + " does not match input '" + in.name + "' " + shape_text(in.shape, in.dim_names));
  return t;
}

std::map<std::string, io::NdArray> CalibrationData::load(size_t i) const {
  const std::string& f = files_.at(i);
  const std::string e = lower_ext(f);
  std::map<std::string, io::NdArray> out;
  if (e == ".npz") {
    io::NamedTensors entries = io::read_npz(f);
    for (const TensorInfo& in : inputs_) {
      auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& kv) { return kv.first == in.name; });
      if (it == entries.end()) throw Error(f + ": has no array named '" + in.name + "' (the model's input)");
      out[in.name] = fit(std::move(it->second), in, f);
    }
    return out;
  }
  io::NdArray t = is_image(e) ? io::read_image(f, image_) : io::read_npy(f);
  out[inputs_[0].name] = fit(std::move(t), inputs_[0], f);
  return out;
}

}  // namespace octet::converter
