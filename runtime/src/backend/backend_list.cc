// The explicit, ordered backend lists. No static registration: what runs where is read here.
#include "backend/backend.h"

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

std::vector<std::unique_ptr<Backend>> make_backends(const std::string& choice, std::string* resolved) {
  std::string want = choice;
  if (want.empty() || want == "auto") want = available_backends().front();
  std::vector<std::unique_ptr<Backend>> list;
#ifdef OCTET_WITH_ONEDNN
  if (want == "onednn") list.push_back(make_onednn_backend());
#endif
#ifdef OCTET_WITH_XNNPACK
  if (want == "xnnpack") list.push_back(make_xnnpack_backend());
#endif
  if (list.empty() && want != "reference") {
    std::string avail;
    for (const auto& b : available_backends()) avail += (avail.empty() ? "" : ", ") + b;
    throw Error("backend '" + choice + "' is not available in this build (available: " + avail + ")");
  }
  list.push_back(make_reference_backend());
  *resolved = want;
  return list;
}

}  // namespace octet
