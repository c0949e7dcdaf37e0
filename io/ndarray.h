// An owned, dense, row-major tensor: what the readers in io/ return.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "octet/octet.h"

namespace octet::io {

// Number of elements of `shape` (1 for a scalar); throws octet::Error naming `label` for a
// negative dimension or an element count (times `element_size`) that overflows.
int64_t checked_elements(const std::vector<int64_t>& shape, size_t element_size, const std::string& label);

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
  // `values` (one T per element, T of dtype's size) as an array of `dtype` and `shape`. Throws
  // octet::Error when the count or the element size does not fit.
  template <class T> static NdArray of(DataType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
    const int64_t n = checked_elements(shape, dtype_size(dtype), "NdArray::of");
    if (sizeof(T) != dtype_size(dtype) || static_cast<int64_t>(values.size()) != n)
      throw Error("NdArray::of: " + std::to_string(values.size()) + " values of " + std::to_string(sizeof(T)) +
                  " bytes for " + std::to_string(n) + " elements of " + dtype_name(dtype));
    NdArray a{dtype, std::move(shape), std::vector<uint8_t>(values.size() * sizeof(T))};
    if (!values.empty()) std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
    return a;
  }
};

}  // namespace octet::io
