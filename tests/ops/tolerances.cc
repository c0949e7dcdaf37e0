#include "tolerances.h"

#include <sstream>

namespace octet::test {

namespace {
// Whether `word` is one of the space-separated words of `list`, or `list` is "*".
bool listed(const char* list, const std::string& word) {
  if (std::string(list) == "*") return true;
  std::istringstream s(list);
  for (std::string w; s >> w;)
    if (w == word) return true;
  return false;
}
}  // namespace

const ToleranceRule* find_tolerance(OpKind op, const std::string& impl, const std::string& activation) {
  // <dtype>_<op>[_<variant>]__<library>
  const size_t sep = impl.rfind("__");
  if (sep == std::string::npos) return nullptr;
  const std::string library = impl.substr(sep + 2), dtype = impl.substr(0, impl.find('_'));
  for (const ToleranceRule& r : kTolerances)
    if (listed(r.library, library) && listed(r.dtype, dtype) && listed(r.ops, op_name(op)) &&
        (std::string(r.activations) == "*" || (!activation.empty() && listed(r.activations, activation))))
      return &r;
  return nullptr;
}

}  // namespace octet::test
