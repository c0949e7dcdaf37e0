// NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Reading accepts the dtypes octet has ('<f4' f32, '|u1' u8, '|i1' s8, '<i4' s32, '<i8' i64,
// '|b1' boolean) and converts, without loss, a few more: '<f8' and '<f2' to f32 (f8 rounds to
// nearest), '<i2' and '<u2' to s32, '<u4' to i64, '<u8' to i64 (an error if a value exceeds
// INT64_MAX). Big-endian data is byte-swapped, fortran_order arrays are transposed to C order,
// 0-d arrays give an empty shape. Every failure throws octet::Error naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/ndarray.h"

namespace octet::io {

NdArray read_npy(const std::string& path);

// Parses the bytes of a whole .npy file; `label` (usually the file name) starts every error.
NdArray parse_npy(const uint8_t* data, size_t size, const std::string& label);
// The same, reusing `file`'s storage for the tensor when no conversion is needed.
NdArray parse_npy(std::vector<uint8_t>&& file, const std::string& label);

// Writes `t` as a version 1.0 .npy file (2.0 if the header needs it), C order, native byte order.
// Atomic: written to a temporary file in the same directory and renamed into place when complete.
void write_npy(const std::string& path, const TensorView& t);

// The preamble and header of the .npy encoding of `t` (magic, version, header length, dict,
// padding to 64 bytes); the data follows as t.bytes() raw bytes. Validates `t` (throws
// octet::Error naming `label`).
std::string npy_header(const TensorView& t, const std::string& label);

}  // namespace octet::io
