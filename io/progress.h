// A one-line progress bar on stderr for long work (calibration, benchmarks). Draws only when
// stderr is a terminal and it is enabled, so logs and --json output stay clean.
#pragma once

#include <chrono>
#include <string>

namespace octet::io {

class Progress {
 public:
  Progress(std::string label, size_t total, bool enabled = true);
  ~Progress();
  void update(size_t done, const std::string& note = "");
  void finish();   // clears the line

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace octet::io
