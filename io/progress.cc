#include "io/progress.h"

#include <unistd.h>

#include <cstdio>

namespace octet::io {

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(size_t done, const std::string& note) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  // At most ~10 redraws a second, and always the last one.
  if (done < total_ && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const int width = 30;
  const int fill = total_ ? static_cast<int>(width * done / total_) : width;
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(width, '.');
  double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %.1fs %s\033[K", label_.c_str(), bar.c_str(), done, total_, secs, note.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace octet::io
