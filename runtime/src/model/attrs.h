// Node attributes as written in the model JSON, with typed getters that fail with a message
// naming the node and the attribute. Ops parse what they need into their own structs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace octet {

class Attrs {
 public:
  Attrs() = default;
  Attrs(nlohmann::json j, std::string node) : j_(std::move(j)), node_(std::move(node)) {}

  bool has(const char* key) const { return j_.is_object() && j_.contains(key); }
  int64_t get_int(const char* key, int64_t fallback) const;
  int64_t get_int(const char* key) const;   // required
  float get_float(const char* key, float fallback) const;
  std::string get_string(const char* key, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const char* key, std::vector<int64_t> fallback) const;
  std::vector<int64_t> get_ints(const char* key) const;   // required
  std::vector<float> get_floats(const char* key, std::vector<float> fallback) const;
  const nlohmann::json& json() const { return j_; }
  const std::string& node() const { return node_; }

  [[noreturn]] void fail(const char* key, const std::string& what) const;

 private:
  nlohmann::json j_;
  std::string node_;
};

}  // namespace octet
