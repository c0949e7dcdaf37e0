// An owned, dense, row-major tensor: what the readers in io/ return.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "octet/octet.h"

namespace octet::io {

struct NdArray {
  DataType dtype = DataType::f32;
  std::vector<int64_t> shape;   // empty: a scalar (0-d), one element
  std::vector<uint8_t> bytes;   // elements() * dtype_size(dtype) bytes

  int64_t elements() const;
  TensorView view() const { return {dtype, shape, bytes.data()}; }
  template <class T> const T* as() const { return reinterpret_cast<const T*>(bytes.data()); }
  template <class T> T* as() { return reinterpret_cast<T*>(bytes.data()); }

  // A copy of `v`'s data. Throws octet::Error (naming `label`) for a negative dimension or a
  // null data pointer with a non-empty shape.
  static NdArray copy_of(const TensorView& v, const std::string& label = "<tensor>");
};

// Number of elements of `shape` (1 for a scalar); throws octet::Error naming `label` for a
// negative dimension or an element count (times `element_size`) that overflows.
int64_t checked_elements(const std::vector<int64_t>& shape, size_t element_size, const std::string& label);

}  // namespace octet::io
