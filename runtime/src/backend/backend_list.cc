// The explicit, ordered backend list, and what every backend shares: building its per-op
// implementation lists (its own entries, then the reference one). No static registration:
// what runs where is read in each backend's list file (kernels/*/<backend>_backend.cc).
#include "backend/backend.h"

#include <cstring>

namespace octet {

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
#if defined(OCTET_WITH_XNNPACK) && defined(__aarch64__)
  out.push_back("xnnpack");
#endif
#ifdef OCTET_WITH_ONEDNN
  out.push_back("onednn");
#endif
#if defined(OCTET_WITH_XNNPACK) && !defined(__aarch64__)
  out.push_back("xnnpack");
#endif
  out.push_back("reference");
  return out;
}

std::unique_ptr<Backend> make_backend(const std::string& choice, int threads, std::string* resolved) {
  std::string want = choice;
  if (want.empty() || want == "auto") want = available_backends().front();
  std::unique_ptr<Backend> b;
#ifdef OCTET_WITH_ONEDNN
  if (want == "onednn") b = make_onednn_backend();
#endif
#ifdef OCTET_WITH_XNNPACK
  if (want == "xnnpack") b = make_xnnpack_backend(threads);
#endif
  (void)threads;
  if (want == "reference") b = make_reference_backend();
  if (!b) {
    std::string avail;
    for (const auto& n : available_backends()) avail += (avail.empty() ? "" : ", ") + n;
    throw Error("backend '" + choice + "' is not available in this build (available: " + avail + ")");
  }
  *resolved = want;
  return b;
}

Backend::Backend(const std::vector<Impl>& own) : own_(own) {
  for (const Impl& i : own_) lists_[static_cast<size_t>(i.op)].push_back(&i);
  for (size_t op = 0; op < kOpCount; ++op) lists_[op].push_back(&reference_impl(static_cast<OpKind>(op)));
}

ParallelFor Backend::parallel_for(int threads) const {
  return [threads](size_t tasks, const std::function<void(size_t)>& fn) {
#pragma omp parallel for num_threads(threads) if (threads > 1 && tasks > 1)
    for (size_t t = 0; t < tasks; ++t) fn(t);
  };
}

ParallelFor KernelContext::parallel_for() const { return backend->parallel_for(threads); }

std::string impl_name(const Impl& impl, Precision p) {
  const char* dt = p == Precision::Float ? "f32" : p == Precision::Int8Static ? "qs8" : "qd8";
  std::string s = std::string(dt) + "_" + op_snake_name(impl.op);
  if (impl.variant[0]) s += std::string("_") + impl.variant;
  return s + "__" + impl.library;
}

bool is_reference(const Impl& impl) { return std::strcmp(impl.library, "reference") == 0; }

}  // namespace octet
