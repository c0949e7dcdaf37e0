#include "io/npy.h"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "io/file.h"

namespace octet::io {
namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

bool host_little_endian() {
  const uint16_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

// ---- a tiny parser for the Python literal of the header dict --------------------------------

struct PyValue {
  enum Kind { Str, Int, Bool, None, Tuple, Dict } kind = None;
  std::string str;
  int64_t i = 0;
  bool b = false;
  std::vector<PyValue> items;       // tuple / list elements, dict values
  std::vector<std::string> keys;    // dict keys
};

class LiteralParser {
 public:
  LiteralParser(const char* begin, const char* end, const std::string& label) : p_(begin), end_(end), label_(label) {}

  PyValue parse_all() {
    PyValue v = value(0);
    skip_space();
    if (p_ != end_) fail("unexpected text after the dict");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(label_ + ": malformed npy header: " + what); }

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool accept(char c) {
    skip_space();
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  bool accept_word(const char* w) {
    const size_t n = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) {
      const char* after = p_ + n;
      if (after == end_ || !(std::isalnum(static_cast<unsigned char>(*after)) || *after == '_')) {
        p_ = after;
        return true;
      }
    }
    return false;
  }

  PyValue value(int depth) {
    if (depth > 16) fail("nested too deeply");
    skip_space();
    if (p_ == end_) fail("unexpected end");
    PyValue v;
    const char c = *p_;
    if (c == '\'' || c == '"') {
      v.kind = PyValue::Str;
      v.str = string();
    } else if (c == '{') {
      ++p_;
      v.kind = PyValue::Dict;
      while (!accept('}')) {
        skip_space();
        if (p_ == end_ || (*p_ != '\'' && *p_ != '"')) fail("dict key is not a string");
        std::string key = string();
        if (std::find(v.keys.begin(), v.keys.end(), key) != v.keys.end()) fail("duplicate key '" + key + "'");
        if (!accept(':')) fail("expected ':' after '" + key + "'");
        v.keys.push_back(std::move(key));
        v.items.push_back(value(depth + 1));
        if (!accept(',')) {
          if (!accept('}')) fail("expected ',' or '}' in the dict");
          break;
        }
      }
    } else if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      ++p_;
      v.kind = PyValue::Tuple;
      while (!accept(close)) {
        v.items.push_back(value(depth + 1));
        if (!accept(',')) {
          if (!accept(close)) fail(std::string("expected ',' or '") + close + "'");
          break;
        }
      }
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Int;
      v.i = integer();
    } else if (accept_word("True")) {
      v.kind = PyValue::Bool;
      v.b = true;
    } else if (accept_word("False")) {
      v.kind = PyValue::Bool;
      v.b = false;
    } else if (accept_word("None")) {
      v.kind = PyValue::None;
    } else {
      fail(std::string("unexpected character '") + (std::isprint(static_cast<unsigned char>(c)) ? c : '?') + "'");
    }
    return v;
  }

  std::string string() {
    const char quote = *p_++;
    std::string s;
    while (true) {
      if (p_ == end_) fail("unterminated string");
      char c = *p_++;
      if (c == quote) return s;
      if (c == '\n') fail("unterminated string");
      if (c == '\\') {
        if (p_ == end_) fail("unterminated string");
        c = *p_++;
      }
      s.push_back(c);
    }
  }

  int64_t integer() {
    bool neg = false;
    if (*p_ == '-' || *p_ == '+') neg = *p_++ == '-';
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("bad integer");
    uint64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      const uint64_t d = static_cast<uint64_t>(*p_++ - '0');
      if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10) fail("integer too large");
      v = v * 10 + d;
    }
    if (p_ != end_ && (*p_ == 'L' || *p_ == 'l')) ++p_;   // Python 2 longs
    return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }

  const char* p_;
  const char* end_;
  const std::string& label_;
};

// ---- the header ------------------------------------------------------------------------------

struct Header {
  std::string descr;
  char kind = 0;          // 'f', 'i', 'u', 'b'
  size_t itemsize = 0;
  bool swap = false;      // data byte order differs from the host's
  bool fortran = false;
  std::vector<int64_t> shape;
  size_t data_offset = 0;
  DataType out = DataType::f32;
};

void parse_descr(const std::string& descr, Header* h, const std::string& label) {
  auto unsupported = [&](const std::string& why) -> Error {
    return Error(label + ": unsupported npy dtype '" + descr + "'" + (why.empty() ? "" : " (" + why + ")"));
  };
  size_t pos = 0;
  char order = '=';
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')) order = descr[pos++];
  if (pos >= descr.size()) throw unsupported("");
  const char kind = descr[pos++];
  if (pos >= descr.size() || descr.size() - pos > 2) throw unsupported("");
  size_t size = 0;
  for (; pos < descr.size(); ++pos) {
    if (descr[pos] < '0' || descr[pos] > '9') throw unsupported("");
    size = size * 10 + static_cast<size_t>(descr[pos] - '0');
  }
  DataType out;
  if (kind == 'f' && (size == 2 || size == 4 || size == 8)) out = DataType::f32;
  else if (kind == 'i' && size == 1) out = DataType::s8;
  else if (kind == 'u' && size == 1) out = DataType::u8;
  else if ((kind == 'i' && (size == 2 || size == 4)) || (kind == 'u' && size == 2)) out = DataType::s32;
  else if ((kind == 'i' && size == 8) || (kind == 'u' && (size == 4 || size == 8))) out = DataType::i64;
  else if (kind == 'b' && size == 1) out = DataType::boolean;
  else throw unsupported("supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1");
  const bool little = host_little_endian();
  h->descr = descr;
  h->kind = kind;
  h->itemsize = size;
  h->out = out;
  h->swap = size > 1 && ((order == '<' && !little) || (order == '>' && little));
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Header parse_header(const uint8_t* data, size_t size, const std::string& label) {
  if (data == nullptr && size > 0) throw Error(label + ": no data");
  if (size == 0) throw Error(label + ": empty file (not an npy file)");
  if (std::memcmp(data, kMagic, std::min<size_t>(size, 6)) != 0) throw Error(label + ": bad magic (not an npy file)");
  if (size < 10) throw Error(label + ": truncated npy header (file is " + std::to_string(size) + " bytes)");
  const int major = data[6], minor = data[7];
  size_t header_len = 0, preamble = 0;
  if (major == 1 && minor == 0) {
    header_len = static_cast<size_t>(data[8]) | static_cast<size_t>(data[9]) << 8;
    preamble = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) throw Error(label + ": truncated npy header (file is " + std::to_string(size) + " bytes)");
    header_len = static_cast<size_t>(data[8]) | static_cast<size_t>(data[9]) << 8 |
                 static_cast<size_t>(data[10]) << 16 | static_cast<size_t>(data[11]) << 24;
    preamble = 12;
  } else {
    throw Error(label + ": unsupported npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > size - preamble)
    throw Error(label + ": truncated npy header (header is " + std::to_string(header_len) + " bytes, file has " +
                std::to_string(size - preamble) + " after the preamble)");

  const char* text = reinterpret_cast<const char*>(data + preamble);
  const PyValue dict = LiteralParser(text, text + header_len, label).parse_all();
  if (dict.kind != PyValue::Dict) throw Error(label + ": malformed npy header: not a dict");
  auto find = [&](const char* key) -> const PyValue& {
    for (size_t i = 0; i < dict.keys.size(); ++i)
      if (dict.keys[i] == key) return dict.items[i];
    throw Error(label + ": malformed npy header: no '" + key + "'");
  };
  Header h;
  const PyValue& descr = find("descr");
  if (descr.kind != PyValue::Str) throw Error(label + ": unsupported npy dtype (structured or not a string)");
  parse_descr(descr.str, &h, label);
  const PyValue& fortran = find("fortran_order");
  if (fortran.kind != PyValue::Bool) throw Error(label + ": malformed npy header: 'fortran_order' is not True/False");
  h.fortran = fortran.b;
  const PyValue& shape = find("shape");
  if (shape.kind != PyValue::Tuple) throw Error(label + ": malformed npy header: 'shape' is not a tuple");
  for (const PyValue& d : shape.items) {
    if (d.kind != PyValue::Int) throw Error(label + ": malformed npy header: 'shape' has a non-integer");
    if (d.i < 0) throw Error(label + ": malformed npy header: negative dimension " + std::to_string(d.i));
    h.shape.push_back(d.i);
  }
  if (h.shape.size() > 64) throw Error(label + ": npy shape has " + std::to_string(h.shape.size()) + " dimensions");
  h.data_offset = preamble + header_len;

  // The data must be exactly the size the shape says; checked before anything is allocated.
  const size_t have = size - h.data_offset;
  int64_t elements = 0;
  try {
    elements = checked_elements(h.shape, h.itemsize, label);
  } catch (const Error&) {
    throw Error(label + ": npy shape " + shape_text(h.shape) + " is too large for the file (" + std::to_string(have) +
                " bytes of data)");
  }
  const uint64_t need = static_cast<uint64_t>(elements) * h.itemsize;
  if (need != have)
    throw Error(label + ": npy data is " + std::to_string(have) + " bytes but shape " + shape_text(h.shape) + " of '" +
                h.descr + "' needs " + std::to_string(need) + (need > have ? " (truncated file)" : ""));
  return h;
}

// ---- conversion --------------------------------------------------------------------------------

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);   // zero or subnormal
    return sign ? -v : v;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float double_to_float(double d) {
  if (std::isfinite(d) && std::fabs(d) > static_cast<double>(FLT_MAX))
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

template <class Src, class Dst, class F>
void convert(const uint8_t* src, size_t n, bool swap, uint8_t* dst, F f) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t b[sizeof(Src)];
    std::memcpy(b, src + i * sizeof(Src), sizeof(Src));
    if (swap) std::reverse(b, b + sizeof(Src));
    Src v;
    std::memcpy(&v, b, sizeof(Src));
    const Dst d = f(v);
    std::memcpy(dst + i * sizeof(Dst), &d, sizeof(Dst));
  }
}

template <class T>
T same(T v) { return v; }

// Decodes `n` elements of the file's dtype into the output dtype (same memory order).
void decode(const Header& h, const uint8_t* src, size_t n, uint8_t* dst, const std::string& label) {
  const bool sw = h.swap;
  switch (h.kind) {
    case 'f':
      if (h.itemsize == 2) convert<uint16_t, float>(src, n, sw, dst, half_to_float);
      else if (h.itemsize == 4) convert<float, float>(src, n, sw, dst, same<float>);
      else convert<double, float>(src, n, sw, dst, double_to_float);
      return;
    case 'i':
      if (h.itemsize == 1) convert<int8_t, int8_t>(src, n, sw, dst, same<int8_t>);
      else if (h.itemsize == 2) convert<int16_t, int32_t>(src, n, sw, dst, [](int16_t v) { return int32_t{v}; });
      else if (h.itemsize == 4) convert<int32_t, int32_t>(src, n, sw, dst, same<int32_t>);
      else convert<int64_t, int64_t>(src, n, sw, dst, same<int64_t>);
      return;
    case 'u':
      if (h.itemsize == 1) convert<uint8_t, uint8_t>(src, n, sw, dst, same<uint8_t>);
      else if (h.itemsize == 2) convert<uint16_t, int32_t>(src, n, sw, dst, [](uint16_t v) { return int32_t{v}; });
      else if (h.itemsize == 4) convert<uint32_t, int64_t>(src, n, sw, dst, [](uint32_t v) { return int64_t{v}; });
      else
        convert<uint64_t, int64_t>(src, n, sw, dst, [&](uint64_t v) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw Error(label + ": uint64 value " + std::to_string(v) + " does not fit in i64");
          return static_cast<int64_t>(v);
        });
      return;
    case 'b':
      convert<uint8_t, uint8_t>(src, n, false, dst, [](uint8_t v) { return static_cast<uint8_t>(v != 0); });
      return;
  }
  throw Error(label + ": unsupported npy dtype '" + h.descr + "'");
}

// Fortran (column-major) order to C (row-major) order.
std::vector<uint8_t> fortran_to_c(const std::vector<uint8_t>& in, const std::vector<int64_t>& shape, size_t esize) {
  std::vector<uint8_t> out(in.size());
  const size_t rank = shape.size();
  const size_t n = esize ? in.size() / esize : 0;
  if (n == 0) return out;
  std::vector<size_t> fstride(rank), index(rank, 0);
  size_t s = 1;
  for (size_t k = 0; k < rank; ++k) {
    fstride[k] = s;
    s *= static_cast<size_t>(shape[k]);
  }
  size_t off = 0;   // Fortran offset (in elements) of `index`
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(out.data() + i * esize, in.data() + off * esize, esize);
    for (size_t k = rank; k-- > 0;) {   // increment the C-order multi-index, last dimension fastest
      if (++index[k] < static_cast<size_t>(shape[k])) {
        off += fstride[k];
        break;
      }
      off -= (index[k] - 1) * fstride[k];
      index[k] = 0;
    }
  }
  return out;
}

// Shared by read_npy and parse_npy; `file`, when given, holds `data` and may be reused as the
// tensor's storage (no copy when no conversion is needed).
NdArray decode_npy(const uint8_t* data, size_t size, const std::string& label, std::vector<uint8_t>* file) {
  const Header h = parse_header(data, size, label);
  NdArray t;
  t.dtype = h.out;
  t.shape = h.shape;
  const size_t n = (size - h.data_offset) / h.itemsize;
  const size_t out_size = dtype_size(h.out);
  const uint8_t* src = data + h.data_offset;
  const bool plain = out_size == h.itemsize && !h.swap && h.kind != 'b' && !(h.kind == 'u' && h.itemsize == 8);
  const bool needs_transpose = h.fortran && h.shape.size() > 1;
  if (plain && file != nullptr) {
    file->erase(file->begin(), file->begin() + static_cast<std::ptrdiff_t>(h.data_offset));
    t.bytes = std::move(*file);
  } else if (plain) {
    t.bytes.assign(src, src + n * out_size);
  } else {
    t.bytes.resize(n * out_size);
    decode(h, src, n, t.bytes.data(), label);
  }
  if (needs_transpose) t.bytes = fortran_to_c(t.bytes, t.shape, out_size);
  return t;
}

const char* descr_of(DataType dt, bool little) {
  switch (dt) {
    case DataType::f32: return little ? "<f4" : ">f4";
    case DataType::u8: return "|u1";
    case DataType::s8: return "|i1";
    case DataType::s32: return little ? "<i4" : ">i4";
    case DataType::i64: return little ? "<i8" : ">i8";
    case DataType::boolean: return "|b1";
  }
  return nullptr;
}

}  // namespace

NdArray parse_npy(const uint8_t* data, size_t size, const std::string& label) {
  return decode_npy(data, size, label, nullptr);
}

NdArray parse_npy(std::vector<uint8_t>&& file, const std::string& label) {
  std::vector<uint8_t> owned = std::move(file);
  return decode_npy(owned.data(), owned.size(), label, &owned);
}

NdArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string npy_header(const TensorView& t, const std::string& label) {
  const char* descr = descr_of(t.dtype, host_little_endian());
  if (descr == nullptr) throw Error(label + ": cannot write dtype " + std::to_string(static_cast<int>(t.dtype)) + " as npy");
  const int64_t n = checked_elements(t.shape, dtype_size(t.dtype), label);
  if (n > 0 && t.data == nullptr) throw Error(label + ": tensor has no data");
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape_text(t.shape) + ", }";
  for (size_t preamble : {size_t{10}, size_t{12}}) {
    const size_t unpadded = preamble + dict.size() + 1;   // + '\n'
    const size_t header_len = dict.size() + 1 + (64 - unpadded % 64) % 64;
    if (preamble == 10 && header_len > 0xffff) continue;
    std::string out(reinterpret_cast<const char*>(kMagic), 6);
    out += static_cast<char>(preamble == 10 ? 1 : 2);
    out += '\0';
    for (size_t i = 0; i < preamble - 8; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xff);
    out += dict;
    out.append(header_len - dict.size() - 1, ' ');
    out += '\n';
    return out;
  }
  throw Error(label + ": npy header too long");
}

void write_npy(const std::string& path, const TensorView& t) {
  const std::string header = npy_header(t, path);
  AtomicFile f(path);
  f.write(header);
  if (t.bytes() > 0) f.write(t.data, t.bytes());
  f.commit();
}

}  // namespace octet::io
