// File-system helpers shared by the readers and writers: whole-file reads, atomic writes
// (temporary file in the same directory, renamed into place when complete), directory listing.
// Every failure throws octet::Error naming the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace octet::io {

// The whole content of a regular file.
std::vector<uint8_t> read_file(const std::string& path);

// Writes `path` atomically: data goes to "<path>.tmp.<random>" in the same directory, which is
// flushed, closed and renamed onto `path` by commit(). Destroyed without commit() (e.g. by an
// exception), the temporary file is removed and `path` is left untouched.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(const std::string& s) { write(s.data(), s.size()); }
  uint64_t written() const { return written_; }
  void commit();
  const std::string& path() const { return path_; }

 private:
  void discard() noexcept;
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

// `path` replaced atomically by `size` bytes at `data` (an AtomicFile written and committed).
void write_file_atomic(const std::string& path, const void* data, size_t size);

// Regular files (symlinks to regular files included) directly inside `dir` whose name ends
// with one of `extensions` (case-insensitive, with or without the dot: "png", ".png", "tar.gz";
// empty list: every file), as "dir/name" paths sorted by name (byte order): deterministic.
std::vector<std::string> list_files(const std::string& dir, const std::vector<std::string>& extensions);

}  // namespace octet::io
