#include "model/weights_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "octet/format.h"
#include "octet/octet.h"

namespace octet {

std::unique_ptr<WeightsFile> WeightsFile::map(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open weights file: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  std::unique_ptr<WeightsFile> w(new WeightsFile());
  w->path_ = path;
  w->size_ = static_cast<size_t>(st.st_size);
  if (w->size_ > 0) {
    void* p = ::mmap(nullptr, w->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error(path + ": cannot map weights file: " + std::strerror(errno));
    }
    w->mapping_ = p;
    w->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return w;
}

std::unique_ptr<WeightsFile> WeightsFile::from_bytes(std::vector<uint8_t> bytes, std::string label) {
  std::unique_ptr<WeightsFile> w(new WeightsFile());
  w->owned_ = std::move(bytes);
  w->data_ = w->owned_.data();
  w->size_ = w->owned_.size();
  w->path_ = std::move(label);
  return w;
}

WeightsFile::~WeightsFile() {
  if (mapping_) ::munmap(mapping_, size_);
}

void WeightsFile::check_header() const {
  using namespace format;
  if (size_ < kHeaderBytes) throw Error(path_ + ": weights file is truncated (" + std::to_string(size_) + " bytes, header alone is 64)");
  BinHeader h;
  std::memcpy(&h, data_, sizeof h);
  if (std::memcmp(h.magic, kBinMagic, sizeof h.magic) != 0) throw Error(path_ + ": not an octet weights file (bad magic)");
  if (h.endian_marker != kEndianMarker) throw Error(path_ + ": weights file has the wrong byte order for this machine");
  if (h.version != kBinVersion) throw Error(path_ + ": weights file version " + std::to_string(h.version) + " is not supported (this build reads " + std::to_string(kBinVersion) + ")");
  if (h.file_bytes != size_) {
    throw Error(path_ + ": weights file is " + std::to_string(size_) + " bytes but its header says " +
                std::to_string(h.file_bytes) + " (truncated or appended to)");
  }
}

std::string checksum_hex(const uint8_t* data, size_t size) {
  uint64_t h = XXH3_64bits(data, size);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace octet
