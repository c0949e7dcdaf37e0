#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>

#include "octet/octet.h"

namespace octet::io {
namespace {

std::string errno_text(int e) { return std::generic_category().message(e); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<uint8_t> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + errno_text(errno));
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw Error(path + ": cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  std::vector<uint8_t> out(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": read failed: " + errno_text(errno));
    }
    if (n == 0) break;   // the file shrank while we read it
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  if (path.empty()) throw Error("<empty path>: cannot write");
  std::random_device rd;
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%012llx", static_cast<unsigned long long>(r & 0xffffffffffffULL));
    tmp_ = path + suffix;
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) throw Error(path + ": cannot create " + tmp_ + ": " + errno_text(errno));
  }
  if (fd_ < 0) throw Error(path + ": cannot create a temporary file next to it");
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) throw Error(path_ + ": write after commit");
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      discard();
      throw Error(path_ + ": write failed: " + errno_text(e));
    }
    p += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error(path_ + ": commit after commit");
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    const int e = errno;
    discard();
    throw Error(path_ + ": fsync failed: " + errno_text(e));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": close failed: " + errno_text(e));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot rename " + tmp_ + " into place: " + errno_text(e));
  }
}

std::vector<std::string> list_files(const std::string& dir, const std::vector<std::string>& extensions) {
  namespace fs = std::filesystem;
  std::vector<std::string> wanted;
  for (const std::string& e : extensions) {
    if (e.empty() || e == ".") throw Error(dir + ": empty extension in the filter");
    wanted.push_back(lower(e[0] == '.' ? e : "." + e));
  }
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw Error(dir + ": cannot list directory: " + ec.message());
  std::vector<std::string> names;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;   // follows symlinks; broken ones are skipped
    const std::string name = it->path().filename().string();
    if (!wanted.empty()) {
      const std::string low = lower(name);
      const bool match = std::any_of(wanted.begin(), wanted.end(), [&](const std::string& ext) {
        return low.size() > ext.size() && low.compare(low.size() - ext.size(), ext.size(), ext) == 0;
      });
      if (!match) continue;
    }
    names.push_back(name);
  }
  if (ec) throw Error(dir + ": cannot list directory: " + ec.message());
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& n : names) out.push_back((fs::path(dir) / n).string());
  return out;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFile f(path);
  f.write(data, size);
  f.commit();
}

}  // namespace octet::io
