#include "io/npz.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "io/file.h"
#include "io/npy.h"

namespace octet::io {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kEnd64Size = 56, kLocator64Size = 20;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) { return static_cast<uint32_t>(rd16(p)) | static_cast<uint32_t>(rd16(p + 2)) << 16; }
uint64_t rd64(const uint8_t* p) { return static_cast<uint64_t>(rd32(p)) | static_cast<uint64_t>(rd32(p + 4)) << 32; }

uint32_t crc32_of(uint32_t crc, const uint8_t* p, size_t n) {
  while (n > 0) {
    const size_t chunk = std::min<size_t>(n, size_t{1} << 30);
    crc = static_cast<uint32_t>(::crc32(crc, p, static_cast<uInt>(chunk)));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

struct Entry {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

// Raw deflate of exactly `usize` bytes. The output grows with what actually comes out, so a
// lying size field cannot make us allocate more than the data really inflates to.
std::vector<uint8_t> inflate_raw(const uint8_t* src, size_t csize, uint64_t usize, const std::string& label) {
  // Deflate cannot compress better than ~1032:1; anything claiming more is corrupt.
  if (usize / 1032 > csize + 1024) throw Error(label + ": corrupt zip entry (size " + std::to_string(usize) + " from " + std::to_string(csize) + " compressed bytes)");
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) throw Error(label + ": zlib inflateInit failed");
  struct Guard { z_stream* z; ~Guard() { inflateEnd(z); } } guard{&zs};
  const size_t limit = static_cast<size_t>(usize) + 1;   // one extra byte detects an overlong stream
  std::vector<uint8_t> out(std::min<size_t>(limit, std::max<size_t>(size_t{1} << 16, csize * 4)));
  size_t in_pos = 0, out_pos = 0;
  while (true) {
    if (out_pos == out.size()) {
      if (out.size() >= limit) throw Error(label + ": zip entry inflates to more than its recorded size " + std::to_string(usize));
      out.resize(std::min(limit, out.size() * 2));
    }
    const size_t in_chunk = std::min<size_t>(csize - in_pos, size_t{1} << 30);
    const size_t out_chunk = std::min<size_t>(out.size() - out_pos, size_t{1} << 30);
    zs.next_in = const_cast<Bytef*>(src + in_pos);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int ret = inflate(&zs, Z_NO_FLUSH);
    const size_t used = in_chunk - zs.avail_in, made = out_chunk - zs.avail_out;
    in_pos += used;
    out_pos += made;
    if (ret == Z_STREAM_END) break;
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && used == 0 && made == 0) {
      if (out_pos == out.size()) continue;   // output full: grow
      throw Error(label + ": truncated deflate data");
    }
    throw Error(label + ": corrupt deflate data" + (zs.msg ? std::string(" (") + zs.msg + ")" : std::string()));
  }
  if (out_pos != usize)
    throw Error(label + ": zip entry inflates to " + std::to_string(out_pos) + " bytes, directory says " + std::to_string(usize));
  out.resize(out_pos);
  return out;
}

std::vector<Entry> read_directory(const uint8_t* data, size_t size, const std::string& label) {
  auto corrupt = [&](const std::string& what) { return Error(label + ": corrupt zip: " + what); };
  if (size < kEndSize) throw Error(label + ": not a zip file (" + std::to_string(size) + " bytes)");
  // End of central directory: the last signature whose comment fits in the file.
  size_t end = SIZE_MAX;
  const size_t lowest = size - kEndSize > 0xffff ? size - kEndSize - 0xffff : 0;
  for (size_t pos = size - kEndSize + 1; pos-- > lowest;) {
    if (rd32(data + pos) == kEndSig && pos + kEndSize + rd16(data + pos + 20) <= size) {
      end = pos;
      break;
    }
  }
  if (end == SIZE_MAX) throw Error(label + ": not a zip file, or truncated (no end of central directory)");
  const uint8_t* e = data + end;
  if (rd16(e + 4) != 0 || rd16(e + 6) != 0) throw Error(label + ": multi-disk zip archives are not supported");
  uint64_t count = rd16(e + 10), cd_size = rd32(e + 12), cd_offset = rd32(e + 16);
  size_t cd_limit = end;   // the central directory ends before this
  if (end >= kLocator64Size && rd32(e - kLocator64Size) == kLocator64Sig) {
    const uint8_t* loc = e - kLocator64Size;
    const uint64_t off64 = rd64(loc + 8);
    if (off64 > end - kLocator64Size || end - kLocator64Size - off64 < kEnd64Size) throw corrupt("bad ZIP64 locator");
    const uint8_t* e64 = data + off64;
    if (rd32(e64) != kEnd64Sig) throw corrupt("bad ZIP64 end of central directory");
    if (rd32(e64 + 16) != 0 || rd32(e64 + 20) != 0) throw Error(label + ": multi-disk zip archives are not supported");
    count = rd64(e64 + 32);
    cd_size = rd64(e64 + 40);
    cd_offset = rd64(e64 + 48);
    cd_limit = static_cast<size_t>(off64);
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) throw corrupt("central directory out of bounds");
  if (count > cd_size / kCentralSize) throw corrupt("entry count " + std::to_string(count) + " does not fit the central directory");

  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(count));
  const uint8_t* p = data + cd_offset;
  const uint8_t* cd_end = p + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (static_cast<size_t>(cd_end - p) < kCentralSize || rd32(p) != kCentralSig) throw corrupt("bad central directory entry " + std::to_string(i));
    Entry en;
    en.flags = rd16(p + 8);
    en.method = rd16(p + 10);
    en.crc = rd32(p + 16);
    en.csize = rd32(p + 20);
    en.usize = rd32(p + 24);
    const size_t name_len = rd16(p + 28), extra_len = rd16(p + 30), comment_len = rd16(p + 32);
    en.offset = rd32(p + 42);
    if (static_cast<size_t>(cd_end - p) - kCentralSize < name_len + extra_len + comment_len)
      throw corrupt("central directory entry " + std::to_string(i) + " out of bounds");
    en.name.assign(reinterpret_cast<const char*>(p + kCentralSize), name_len);
    // ZIP64 extended information: 8-byte values for exactly the fields that are 0xffffffff.
    const bool need64 = en.usize == 0xffffffffu || en.csize == 0xffffffffu || en.offset == 0xffffffffu;
    const uint8_t* x = p + kCentralSize + name_len;
    const uint8_t* x_end = x + extra_len;
    bool found64 = false;
    while (x_end - x >= 4) {
      const uint16_t id = rd16(x), len = rd16(x + 2);
      if (static_cast<size_t>(x_end - x - 4) < len) throw corrupt("extra field of '" + en.name + "' out of bounds");
      if (id == 0x0001 && need64) {
        const uint8_t* f = x + 4;
        const uint8_t* f_end = f + len;
        for (uint64_t* field : {&en.usize, &en.csize, &en.offset}) {
          if (*field != 0xffffffffu) continue;
          if (f_end - f < 8) throw corrupt("short ZIP64 extra field of '" + en.name + "'");
          *field = rd64(f);
          f += 8;
        }
        found64 = true;
      }
      x += 4 + len;
    }
    if (need64 && !found64) throw corrupt("missing ZIP64 extra field of '" + en.name + "'");
    p += kCentralSize + name_len + extra_len + comment_len;
    entries.push_back(std::move(en));
  }
  return entries;
}

}  // namespace

NamedTensors parse_npz(const uint8_t* data, size_t size, const std::string& label) {
  if (data == nullptr && size > 0) throw Error(label + ": no data");
  NamedTensors out;
  for (const Entry& en : read_directory(data, size, label)) {
    if (!en.name.empty() && en.name.back() == '/' && en.usize == 0) continue;   // a directory
    std::string key = en.name;
    if (key.size() >= 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    const std::string elabel = label + ": entry '" + key + "'";
    auto corrupt = [&](const std::string& what) { return Error(elabel + ": corrupt zip: " + what); };
    if (en.flags & 1) throw Error(elabel + ": encrypted zip entries are not supported");
    if (en.offset > size || size - en.offset < kLocalSize || rd32(data + en.offset) != kLocalSig)
      throw corrupt("bad local header");
    const uint8_t* local = data + en.offset;
    const uint64_t start = en.offset + kLocalSize + rd16(local + 26) + rd16(local + 28);
    if (start > size || en.csize > size - start) throw corrupt("data out of bounds (truncated file?)");
    const uint8_t* src = data + start;
    const size_t csize = static_cast<size_t>(en.csize);
    NdArray t;
    if (en.method == 0) {
      if (en.csize != en.usize) throw corrupt("stored entry with different sizes");
      const uint32_t crc = crc32_of(0, src, csize);
      if (crc != en.crc) throw Error(elabel + ": CRC mismatch (corrupt data)");
      t = parse_npy(src, csize, elabel);
    } else if (en.method == 8) {
      std::vector<uint8_t> bytes = inflate_raw(src, csize, en.usize, elabel);
      const uint32_t crc = crc32_of(0, bytes.data(), bytes.size());
      if (crc != en.crc) throw Error(elabel + ": CRC mismatch (corrupt data)");
      t = parse_npy(std::move(bytes), elabel);
    } else {
      throw Error(elabel + ": unsupported zip compression method " + std::to_string(en.method));
    }
    out.emplace_back(std::move(key), std::move(t));
  }
  return out;
}

NamedTensors read_npz(const std::string& path) {
  const std::vector<uint8_t> file = read_file(path);
  return parse_npz(file.data(), file.size(), path);
}

namespace {

void put16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

}  // namespace

void write_npz(const std::string& path, const NamedViews& entries) {
  constexpr uint64_t kMax32 = 0xfffffffeu;
  constexpr uint32_t kDate = (0 << 9) | (1 << 5) | 1;   // 1980-01-01, 00:00: reproducible files
  if (entries.size() > 0xfffe) throw Error(path + ": too many npz entries (" + std::to_string(entries.size()) + ")");
  // Validate everything before creating the file.
  std::vector<std::string> names, headers;
  for (const auto& [key, view] : entries) {
    if (key.empty()) throw Error(path + ": empty npz key");
    const std::string name = key + ".npy";
    if (name.size() > 0xffff) throw Error(path + ": npz key too long");
    if (std::find(names.begin(), names.end(), name) != names.end()) throw Error(path + ": duplicate npz key '" + key + "'");
    names.push_back(name);
    headers.push_back(npy_header(view, path + ": entry '" + key + "'"));
  }
  AtomicFile f(path);
  std::string central;
  for (size_t i = 0; i < entries.size(); ++i) {
    const TensorView& v = entries[i].second;
    const auto* data = static_cast<const uint8_t*>(v.data);
    const uint64_t size = headers[i].size() + static_cast<uint64_t>(v.bytes());
    const uint64_t offset = f.written();
    if (size > kMax32 || offset > kMax32)
      throw Error(path + ": entry '" + entries[i].first + "': archive over 4 GiB needs ZIP64, which write_npz does not write");
    uint32_t crc = crc32_of(0, reinterpret_cast<const uint8_t*>(headers[i].data()), headers[i].size());
    if (v.bytes() > 0) crc = crc32_of(crc, data, v.bytes());
    std::string local;
    put32(local, kLocalSig);
    put16(local, 20);   // version needed: 2.0
    put16(local, 0);    // flags
    put16(local, 0);    // method: stored
    put16(local, 0);    // time
    put16(local, kDate);
    put32(local, crc);
    put32(local, static_cast<uint32_t>(size));
    put32(local, static_cast<uint32_t>(size));
    put16(local, static_cast<uint32_t>(names[i].size()));
    put16(local, 0);    // extra length
    local += names[i];
    f.write(local);
    f.write(headers[i]);
    if (v.bytes() > 0) f.write(data, v.bytes());

    put32(central, kCentralSig);
    put16(central, 0x0314);   // made by: Unix, spec 2.0
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDate);
    put32(central, crc);
    put32(central, static_cast<uint32_t>(size));
    put32(central, static_cast<uint32_t>(size));
    put16(central, static_cast<uint32_t>(names[i].size()));
    put16(central, 0);   // extra
    put16(central, 0);   // comment
    put16(central, 0);   // disk
    put16(central, 0);   // internal attributes
    put32(central, 0100644u << 16);   // external attributes: regular file, rw-r--r--
    put32(central, static_cast<uint32_t>(offset));
    central += names[i];
  }
  const uint64_t cd_offset = f.written();
  if (cd_offset > kMax32 || central.size() > kMax32 - cd_offset)
    throw Error(path + ": archive over 4 GiB needs ZIP64, which write_npz does not write");
  std::string end;
  put32(end, kEndSig);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<uint32_t>(entries.size()));
  put16(end, static_cast<uint32_t>(entries.size()));
  put32(end, static_cast<uint32_t>(central.size()));
  put32(end, static_cast<uint32_t>(cd_offset));
  put16(end, 0);
  f.write(central);
  f.write(end);
  f.commit();
}

void write_npz(const std::string& path, const NamedTensors& entries) {
  NamedViews views;
  views.reserve(entries.size());
  for (const auto& [key, t] : entries) {
    if (t.bytes.size() != static_cast<size_t>(checked_elements(t.shape, dtype_size(t.dtype), path)) * dtype_size(t.dtype))
      throw Error(path + ": entry '" + key + "': tensor has " + std::to_string(t.bytes.size()) + " bytes, shape needs " +
                  std::to_string(static_cast<size_t>(t.elements()) * dtype_size(t.dtype)));
    views.emplace_back(key, t.view());
  }
  write_npz(path, views);
}

}  // namespace octet::io
