// NumPy .npz archives: ZIP files of .npy entries.
//
// Reading supports stored entries (np.savez) and deflated ones (np.savez_compressed), ZIP64
// (extra fields and end-of-central-directory records), and checks every entry's CRC-32. Keys are
// the entry names without the ".npy" suffix, in archive (central directory) order. Every failure
// throws octet::Error naming the file and, for an entry, its key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/ndarray.h"

namespace octet::io {

using NamedTensors = std::vector<std::pair<std::string, NdArray>>;
using NamedViews = std::vector<std::pair<std::string, TensorView>>;

NamedTensors read_npz(const std::string& path);
// The bytes of a whole .npz file; `label` (usually the file name) starts every error.
NamedTensors parse_npz(const uint8_t* data, size_t size, const std::string& label);

// Writes an uncompressed (stored) archive, entries in the given order as "<key>.npy". Keys must
// be non-empty and distinct. Atomic like write_npy. Archives that would need ZIP64 (an entry or
// the archive over 4 GiB, more than 65535 entries) are refused with an error.
void write_npz(const std::string& path, const NamedViews& entries);
void write_npz(const std::string& path, const NamedTensors& entries);

}  // namespace octet::io
