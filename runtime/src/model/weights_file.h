// The .bin of a model: memory-mapped read-only (or held in memory for converter-built models),
// with its header checked. Blob bounds and the checksum are checked by the model parser, which
// knows what the JSON promises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace octet {

class WeightsFile {
 public:
  // Maps `path`; throws octet::Error naming the file on any failure.
  static std::unique_ptr<WeightsFile> map(const std::string& path);
  static std::unique_ptr<WeightsFile> from_bytes(std::vector<uint8_t> bytes, std::string label);
  ~WeightsFile();
  WeightsFile(const WeightsFile&) = delete;
  WeightsFile& operator=(const WeightsFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Checks magic, version, endianness and the recorded length against the real length.
  void check_header() const;

 private:
  WeightsFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  void* mapping_ = nullptr;         // mmap result (nullptr when in memory)
  std::vector<uint8_t> owned_;      // in-memory bytes
};

// XXH3-64 of the bytes, as 16 lowercase hex digits. One definition for writer and reader.
std::string checksum_hex(const uint8_t* data, size_t size);

}  // namespace octet
