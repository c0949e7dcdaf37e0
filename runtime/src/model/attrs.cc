#include "model/attrs.h"

#include <cmath>

#include "octet/octet.h"

namespace octet {

void Attrs::fail(const char* key, const std::string& what) const {
  throw Error("node '" + node_ + "': attribute '" + key + "' " + what);
}

int64_t Attrs::get_int(const char* key, int64_t fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_number_integer()) fail(key, "must be an integer");
  return v.get<int64_t>();
}

int64_t Attrs::get_int(const char* key) const {
  if (!has(key)) fail(key, "is missing");
  return get_int(key, 0);
}

float Attrs::get_float(const char* key, float fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_number()) fail(key, "must be a number");
  double d = v.get<double>();
  // +-inf are legal for Clip bounds and are written as +-3.4e38 by the converter.
  if (std::isnan(d)) fail(key, "is NaN");
  return static_cast<float>(d);
}

std::string Attrs::get_string(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_string()) fail(key, "must be a string");
  return v.get<std::string>();
}

std::vector<int64_t> Attrs::get_ints(const char* key, std::vector<int64_t> fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_array()) fail(key, "must be a list of integers");
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_number_integer()) fail(key, "must be a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

std::vector<int64_t> Attrs::get_ints(const char* key) const {
  if (!has(key)) fail(key, "is missing");
  return get_ints(key, {});
}

std::vector<float> Attrs::get_floats(const char* key, std::vector<float> fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_array()) fail(key, "must be a list of numbers");
  std::vector<float> out;
  for (const auto& e : v) {
    if (!e.is_number()) fail(key, "must be a list of numbers");
    out.push_back(static_cast<float>(e.get<double>()));
  }
  return out;
}

}  // namespace octet
