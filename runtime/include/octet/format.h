// Constants of octet's model format, shared by the converter (writer) and the runtime (reader).
// The format itself is described in docs/format.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace octet::format {

inline constexpr const char* kFormatName = "octet";
inline constexpr int kFormatMajor = 1;   // readers refuse other majors
inline constexpr int kFormatMinor = 1;   // readers refuse a newer minor (1.1: scale lists in the .bin)

// Per-channel scale lists longer than this are stored in the .bin (f32, or bf16 when every
// value is exactly a bf16), not written out in the JSON.
inline constexpr size_t kMaxInlineScales = 16;

// The .bin starts with this 64-byte header; blobs follow at 64-byte aligned file offsets.
inline constexpr char kBinMagic[8] = {'O', 'C', 'T', 'E', 'T', 'B', 'I', 'N'};
inline constexpr uint32_t kBinVersion = 1;
inline constexpr uint32_t kEndianMarker = 0x01020304u;
inline constexpr uint64_t kAlignment = 64;
inline constexpr uint64_t kHeaderBytes = 64;

struct BinHeader {
  char magic[8];
  uint32_t version;
  uint32_t endian_marker;   // reads 0x04030201 on a byte-swapped (big-endian) reader
  uint64_t file_bytes;      // whole file, header included
  uint8_t reserved[40];
};
static_assert(sizeof(BinHeader) == kHeaderBytes, "BinHeader is part of the file format");

// Limits that keep a malicious file from making the loader allocate without bound.
inline constexpr int kMaxRank = 8;
inline constexpr int64_t kMaxElements = int64_t(1) << 40;

}  // namespace octet::format
