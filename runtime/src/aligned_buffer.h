// The one aligned, grow-only byte buffer: the session's activation arena and graph inputs,
// oneDNN scratchpads and padded copies, XNNPACK's sign-flipped copies. 64-byte aligned (a cache
// line, the widest vector); it only grows, so memory handed to a kernel or primitive never moves
// behind its back until the next reserve(). `slack` bytes past every reservation stay allocated
// and readable (XNNPACK micro-kernels may read, never write, XNN_EXTRA_BYTES past their inputs).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>

#include "octet/octet.h"

namespace octet {

class AlignedBuffer {
 public:
  // `what` names the contents in the out-of-memory error ("activations", "oneDNN scratchpad").
  explicit AlignedBuffer(const char* what = "scratch", size_t slack = 0) : what_(what), slack_(slack) {}
  ~AlignedBuffer() { std::free(ptr_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)), what_(o.what_), slack_(o.slack_) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_), std::swap(size_, o.size_), std::swap(what_, o.what_), std::swap(slack_, o.slack_);
    return *this;
  }

  // At least `bytes` usable (plus the slack); the contents are not kept when it grows.
  void* reserve(size_t bytes) {
    if (bytes + slack_ <= size_ && ptr_) return ptr_;
    std::free(ptr_);
    ptr_ = nullptr, size_ = 0;
    const size_t n = (std::max<size_t>(bytes + slack_, 64) + 63) / 64 * 64;
    ptr_ = std::aligned_alloc(64, n);
    if (!ptr_) throw Error("out of memory allocating " + std::to_string(n) + " bytes of " + what_);
    size_ = n;
    return ptr_;
  }
  void* data() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;   // allocated bytes, slack included
  const char* what_;
  size_t slack_;
};

}  // namespace octet
