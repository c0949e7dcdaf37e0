#include "io/ndarray.h"

#include <cstring>
#include <limits>

namespace octet::io {

int64_t checked_elements(const std::vector<int64_t>& shape, size_t element_size, const std::string& label) {
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / (element_size ? element_size : 1);
  uint64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) throw Error(label + ": negative dimension " + std::to_string(d));
    if (d == 0) zero = true;
  }
  if (zero) return 0;
  for (int64_t d : shape) {
    if (static_cast<uint64_t>(d) > limit / n) throw Error(label + ": tensor size overflows");
    n *= static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(n);
}

int64_t NdArray::elements() const { return checked_elements(shape, dtype_size(dtype), "tensor"); }

NdArray NdArray::copy_of(const TensorView& v, const std::string& label) {
  NdArray t;
  t.dtype = v.dtype;
  t.shape = v.shape;
  const int64_t n = checked_elements(v.shape, dtype_size(v.dtype), label);
  const size_t bytes = static_cast<size_t>(n) * dtype_size(v.dtype);
  if (bytes > 0 && v.data == nullptr) throw Error(label + ": tensor has no data");
  t.bytes.resize(bytes);
  if (bytes > 0) std::memcpy(t.bytes.data(), v.data, bytes);
  return t;
}

}  // namespace octet::io
