#include "io/image.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "io/file.h"

// stb_image / stb_image_resize, compiled here with internal linkage. Only the PNG and JPEG
// decoders: the others (GIF, PSD, HDR, PIC, PNM, TGA, BMP) have a history of memory bugs on
// malformed files, and calibration data is PNG or JPEG.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>

namespace octet::io {
namespace {

// Largest image we decode (pixels): 2^27, e.g. 16384 x 8192. Guards against headers that claim
// gigantic sizes in a small file.
constexpr int64_t kMaxPixels = int64_t{1} << 27;

// Per-channel values from a 1-or-C list; a 3-value list of equal values also serves grayscale.
std::vector<float> per_channel(const std::vector<float>& v, int channels, const char* what, const std::string& path) {
  if (static_cast<int>(v.size()) == channels) return v;
  if (v.size() == 1) return std::vector<float>(static_cast<size_t>(channels), v[0]);
  if (channels == 1 && !v.empty() && std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; }))
    return {v[0]};
  throw Error(path + ": image " + what + " has " + std::to_string(v.size()) + " values, expected 1 or " +
              std::to_string(channels));
}

// stb_image 2.27 (Debian 12) does not check that a JPEG Huffman table has at most 256 codes and
// then writes past its tables. Reject such files first: every FF C4 (DHT) marker that stb could
// possibly act on is checked, reading absent bytes as 0 as stb does.
bool jpeg_huffman_tables_ok(const uint8_t* d, size_t size) {
  size_t p = 0;
  while (p < size && d[p] == 0xff) ++p;
  if (p == 0 || p >= size || d[p] != 0xd8) return true;   // not a JPEG: stb will not use its JPEG decoder
  auto at = [&](size_t i) -> unsigned { return i < size ? d[i] : 0u; };
  for (size_t i = 0; i + 1 < size; ++i) {
    if (d[i] != 0xff || d[i + 1] != 0xc4) continue;
    int64_t left = static_cast<int64_t>(at(i + 2) << 8 | at(i + 3)) - 2;
    size_t q = i + 4;
    while (left > 0 && q < size) {
      unsigned n = 0;
      for (size_t k = 1; k <= 16; ++k) n += at(q + k);
      if (n > 256) return false;
      q += 17 + n;
      left -= 17 + static_cast<int64_t>(n);
    }
  }
  return true;
}

}  // namespace

NdArray read_image(const std::string& path, const ImageOptions& o) {
  if (o.channels != 1 && o.channels != 3)
    throw Error(path + ": image channels must be 1 or 3, not " + std::to_string(o.channels));
  if (o.width < 0 || o.height < 0)
    throw Error(path + ": negative image size " + std::to_string(o.width) + "x" + std::to_string(o.height));
  const std::vector<float> mean = per_channel(o.mean, o.channels, "mean", path);
  const std::vector<float> stdv = per_channel(o.std, o.channels, "std", path);
  for (float s : stdv)
    if (!(std::isfinite(s) && s != 0)) throw Error(path + ": image std must be finite and non-zero");
  if (!std::isfinite(o.scale)) throw Error(path + ": image scale must be finite");

  const std::vector<uint8_t> file = read_file(path);
  if (file.size() > static_cast<size_t>(INT32_MAX)) throw Error(path + ": image file too large");
  const int len = static_cast<int>(file.size());
  if (!jpeg_huffman_tables_ok(file.data(), file.size())) throw Error(path + ": cannot decode image: corrupt JPEG (bad Huffman table)");
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(file.data(), len, &w, &h, &n))
    throw Error(path + ": cannot decode image: " + stbi_failure_reason());
  if (w <= 0 || h <= 0 || static_cast<int64_t>(w) * h > kMaxPixels)
    throw Error(path + ": image size " + std::to_string(w) + "x" + std::to_string(h) + " not supported");
  const int c = o.channels;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(file.data(), len, &w, &h, &n, c), stbi_image_free);
  if (!pixels) throw Error(path + ": cannot decode image: " + stbi_failure_reason());

  const int ow = o.width ? o.width : w, oh = o.height ? o.height : h;
  if (static_cast<int64_t>(ow) * oh > kMaxPixels)
    throw Error(path + ": output size " + std::to_string(ow) + "x" + std::to_string(oh) + " too large");
  const size_t in_count = static_cast<size_t>(w) * h * c, out_count = static_cast<size_t>(ow) * oh * c;
  std::vector<float> hwc(in_count);
  for (size_t i = 0; i < in_count; ++i) hwc[i] = pixels.get()[i];
  pixels.reset();
  if (ow != w || oh != h) {
    std::vector<float> resized(out_count);
    if (!stbir_resize_float_generic(hwc.data(), w, h, 0, resized.data(), ow, oh, 0, c, STBIR_ALPHA_CHANNEL_NONE, 0,
                                    STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr))
      throw Error(path + ": image resize to " + std::to_string(ow) + "x" + std::to_string(oh) + " failed");
    hwc.swap(resized);
  }

  NdArray t;
  t.dtype = DataType::f32;
  t.shape = o.nchw ? std::vector<int64_t>{1, c, oh, ow} : std::vector<int64_t>{1, oh, ow, c};
  t.bytes.resize(out_count * sizeof(float));
  float* out = t.as<float>();
  const size_t plane = static_cast<size_t>(ow) * oh;
  for (size_t p = 0; p < plane; ++p) {
    for (int ch = 0; ch < c; ++ch) {
      const float v = (hwc[p * c + ch] * o.scale - mean[ch]) / stdv[ch];
      out[o.nchw ? ch * plane + p : p * c + ch] = v;
    }
  }
  return t;
}

}  // namespace octet::io
