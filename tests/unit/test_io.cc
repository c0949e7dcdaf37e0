// octet::io: .npy / .npz readers and writers, images, list_files. Fixtures in tests/data/io are
// made by tests/data/io/make_fixtures.py (Debian's numpy).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "io/io.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace fs = std::filesystem;
using namespace octet;
using octet::io::NdArray;

namespace {

std::string fixture(const std::string& name) { return std::string(OCTET_TEST_DATA) + "/io/" + name; }

template <class T>
std::vector<T> values(const NdArray& t) {
  REQUIRE(t.bytes.size() == static_cast<size_t>(t.elements()) * sizeof(T));
  std::vector<T> v(static_cast<size_t>(t.elements()));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

// Runs `f`, which must throw octet::Error whose message contains every string of `parts`, is one line.
template <class F>
void check_error(F f, const std::vector<std::string>& parts) {
  std::string message;
  try {
    f();
  } catch (const Error& e) {
    message = e.what();
  }
  INFO("message: " << message);
  REQUIRE_FALSE(message.empty());
  CHECK(message.find('\n') == std::string::npos);
  for (const std::string& p : parts) CHECK_MESSAGE(message.find(p) != std::string::npos, "missing '" << p << "'");
}

struct TempDir : octet::test::TempDir {
  // Names of the files left in the directory that look like temporaries.
  std::vector<std::string> temporaries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
    return out;
  }
};

const std::vector<float> kF4 = {-1.f, -0.5f, 0.f, 0.5f, 1.f, 1.5f};

}  // namespace

TEST_SUITE("io") {

// ---- .npy ------------------------------------------------------------------------------------

TEST_CASE("npy: every octet dtype") {
  NdArray t = io::read_npy(fixture("f4.npy"));
  CHECK(t.dtype == DataType::f32);
  CHECK(t.shape == std::vector<int64_t>{2, 3});
  CHECK(values<float>(t) == kF4);
  TensorView v = t.view();
  CHECK(v.shape == t.shape);
  CHECK(v.bytes() == 24);
  CHECK(v.as<float>()[5] == 1.5f);

  t = io::read_npy(fixture("u1.npy"));
  CHECK(t.dtype == DataType::u8);
  CHECK(values<uint8_t>(t) == std::vector<uint8_t>{0, 1, 128, 255});
  t = io::read_npy(fixture("i1.npy"));
  CHECK(t.dtype == DataType::s8);
  CHECK(values<int8_t>(t) == std::vector<int8_t>{-128, -1, 0, 127});
  t = io::read_npy(fixture("i4.npy"));
  CHECK(t.dtype == DataType::s32);
  CHECK(t.shape == std::vector<int64_t>{2, 2});
  CHECK(values<int32_t>(t) == std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -1, 0, 2147483647});
  t = io::read_npy(fixture("i8.npy"));
  CHECK(t.dtype == DataType::i64);
  CHECK(values<int64_t>(t) == std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()});
  t = io::read_npy(fixture("b1.npy"));
  CHECK(t.dtype == DataType::boolean);
  CHECK(values<uint8_t>(t) == std::vector<uint8_t>{1, 0, 1});
}

TEST_CASE("npy: converted dtypes") {
  NdArray t = io::read_npy(fixture("f8.npy"));
  CHECK(t.dtype == DataType::f32);
  std::vector<float> f = values<float>(t);
  REQUIRE(f.size() == 4);
  CHECK(f[0] == 1.5f);
  CHECK(f[1] == -2.25f);
  CHECK(f[2] == 0.1f);
  CHECK(std::isinf(f[3]));   // 1e300 does not fit

  t = io::read_npy(fixture("f2.npy"));
  CHECK(t.dtype == DataType::f32);
  CHECK(values<float>(t) == std::vector<float>{1.f, -2.f, 0.5f, 65504.f, std::ldexp(1.f, -24),
                                               std::numeric_limits<float>::infinity()});

  t = io::read_npy(fixture("i2.npy"));
  CHECK(t.dtype == DataType::s32);
  CHECK(values<int32_t>(t) == std::vector<int32_t>{-32768, -1, 0, 32767});
  t = io::read_npy(fixture("u2.npy"));
  CHECK(t.dtype == DataType::s32);
  CHECK(values<int32_t>(t) == std::vector<int32_t>{0, 1, 65535});
  t = io::read_npy(fixture("u4.npy"));
  CHECK(t.dtype == DataType::i64);
  CHECK(values<int64_t>(t) == std::vector<int64_t>{0, 1, 4294967295LL});
  t = io::read_npy(fixture("u8.npy"));
  CHECK(t.dtype == DataType::i64);
  CHECK(values<int64_t>(t) == std::vector<int64_t>{0, 1, std::numeric_limits<int64_t>::max()});
  check_error([] { io::read_npy(fixture("u8_overflow.npy")); }, {"u8_overflow.npy", "i64"});
}

TEST_CASE("npy: shapes, fortran order, versions, byte order") {
  NdArray t = io::read_npy(fixture("scalar.npy"));
  CHECK(t.shape.empty());
  CHECK(t.elements() == 1);
  CHECK(values<float>(t) == std::vector<float>{3.5f});

  t = io::read_npy(fixture("empty.npy"));
  CHECK(t.shape == std::vector<int64_t>{0, 3});
  CHECK(t.elements() == 0);
  CHECK(t.bytes.empty());

  t = io::read_npy(fixture("fortran.npy"));   // np.asfortranarray(arange(24).reshape(2, 3, 4))
  CHECK(t.dtype == DataType::s32);
  CHECK(t.shape == std::vector<int64_t>{2, 3, 4});
  std::vector<int32_t> expect(24);
  for (int i = 0; i < 24; ++i) expect[i] = i;
  CHECK(values<int32_t>(t) == expect);
  t = io::read_npy(fixture("fortran_f8.npy"));
  CHECK(t.shape == std::vector<int64_t>{2, 3});
  CHECK(values<float>(t) == std::vector<float>{0, 1, 2, 3, 4, 5});

  for (const char* name : {"v2.npy", "v3.npy", "big_f4.npy"}) {
    INFO(name);
    t = io::read_npy(fixture(name));
    CHECK(t.dtype == DataType::f32);
    CHECK(t.shape == std::vector<int64_t>{2, 3});
    CHECK(values<float>(t) == kF4);
  }
  t = io::read_npy(fixture("big_i8.npy"));
  CHECK(values<int64_t>(t) == std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -2, 0x0102030405060708LL});
  t = io::read_npy(fixture("big_f8.npy"));
  CHECK(values<float>(t) == std::vector<float>{1.5f, -2.25f, 4.f, 8.f});
  t = io::read_npy(fixture("big_u2.npy"));
  CHECK(values<int32_t>(t) == std::vector<int32_t>{1, 258, 65535});
}

TEST_CASE("npy: parse from memory names the label") {
  std::ifstream in(fixture("f4.npy"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  NdArray t = io::parse_npy(bytes.data(), bytes.size(), "<memory>");
  CHECK(values<float>(t) == kF4);
  NdArray t2 = io::parse_npy(std::vector<uint8_t>(bytes), "<memory>");
  CHECK(t2.bytes == t.bytes);
  check_error([&] { io::parse_npy(bytes.data(), 50, "my label"); }, {"my label", "truncated"});
  check_error([&] { io::parse_npy(bytes.data(), bytes.size() - 1, "my label"); }, {"my label"});
  check_error([&] { io::parse_npy(nullptr, 0, "my label"); }, {"my label"});
  // Every prefix of a valid file is an error, never a crash.
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_THROWS_AS(io::parse_npy(bytes.data(), n, "prefix"), Error);
}

TEST_CASE("npy: malformed files throw naming the file") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated_data.npy", "truncated"},
      {"truncated_header.npy", "truncated"},
      {"truncated_magic.npy", "truncated"},
      {"bad_magic.npy", "magic"},
      {"bad_version.npy", "version"},
      {"bad_dict.npy", "header"},
      {"missing_key.npy", "shape"},
      {"bad_shape.npy", "shape"},
      {"negative_dim.npy", "negative"},
      {"unterminated.npy", "header"},
      {"deep.npy", "header"},
      {"huge_shape.npy", "needs"},
      {"overflow_shape.npy", "too large"},
      {"extra_data.npy", "needs"},
      {"header_len_overrun.npy", "truncated"},
      {"c8.npy", "dtype"},
      {"unicode.npy", "dtype"},
      {"structured.npy", "dtype"},
      {"no_such_file.npy", "cannot open"},
  };
  for (const auto& [name, what] : cases) {
    INFO(name);
    check_error([&] { io::read_npy(fixture(name)); }, {name, what});
  }
  check_error([] { io::read_npy(std::string(OCTET_TEST_DATA) + "/io"); }, {"io"});   // a directory
}

TEST_CASE("npy: write and read back") {
  TempDir dir;
  std::vector<NdArray> tensors;
  tensors.push_back(NdArray::copy_of(TensorView::of(kF4.data(), {3, 2})));
  const std::vector<uint8_t> u8 = {0, 7, 255};
  tensors.push_back(NdArray::copy_of(TensorView::of(u8.data(), {3})));
  const std::vector<int8_t> s8 = {-128, 5};
  tensors.push_back(NdArray::copy_of(TensorView::of(s8.data(), {1, 2})));
  const std::vector<int32_t> s32 = {-7, 1 << 30, 3, 4};
  tensors.push_back(NdArray::copy_of(TensorView::of(s32.data(), {2, 1, 2})));
  const std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), 42};
  tensors.push_back(NdArray::copy_of(TensorView::of(i64.data(), {2})));
  NdArray b;
  b.dtype = DataType::boolean;
  b.shape = {2, 2};
  b.bytes = {1, 0, 0, 1};
  tensors.push_back(b);
  const float scalar = -3.25f;
  tensors.push_back(NdArray::copy_of(TensorView::of(&scalar, {})));
  tensors.push_back(NdArray::copy_of(TensorView::of(static_cast<const float*>(nullptr), {4, 0})));

  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string path = dir.file("t" + std::to_string(i) + ".npy");
    io::write_npy(path, tensors[i].view());
    NdArray r = io::read_npy(path);
    CHECK(r.dtype == tensors[i].dtype);
    CHECK(r.shape == tensors[i].shape);
    CHECK(r.bytes == tensors[i].bytes);
    // The header is padded so the data starts on a 64-byte boundary, as numpy does.
    CHECK((fs::file_size(path) - r.bytes.size()) % 64 == 0);
  }
  // Overwrite in place.
  io::write_npy(dir.file("t0.npy"), tensors[1].view());
  CHECK(io::read_npy(dir.file("t0.npy")).bytes == tensors[1].bytes);
  CHECK(dir.temporaries().empty());

  // Bad tensors and bad paths fail without leaving anything behind.
  check_error([&] { io::write_npy(dir.file("neg.npy"), TensorView{DataType::f32, {-1, 2}, kF4.data()}); },
              {"neg.npy", "negative"});
  check_error([&] { io::write_npy(dir.file("null.npy"), TensorView{DataType::f32, {2}, nullptr}); }, {"null.npy"});
  check_error([&] { io::write_npy(dir.file("missing_dir/x.npy"), tensors[0].view()); }, {"missing_dir/x.npy"});
  CHECK_FALSE(fs::exists(dir.file("neg.npy")));
  CHECK_FALSE(fs::exists(dir.file("null.npy")));
  CHECK(dir.temporaries().empty());
}

// ---- .npz ------------------------------------------------------------------------------------

static void check_archive(const io::NamedTensors& entries, bool with_zeros) {
  REQUIRE(entries.size() == (with_zeros ? 5u : 4u));
  CHECK(entries[0].first == "input");
  CHECK(entries[0].second.dtype == DataType::f32);
  CHECK(entries[0].second.shape == std::vector<int64_t>{2, 3});
  CHECK(values<float>(entries[0].second) == kF4);
  CHECK(entries[1].first == "ids");
  CHECK(values<int64_t>(entries[1].second) == std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 5, std::numeric_limits<int64_t>::max()});
  CHECK(entries[2].first == "scalar");
  CHECK(entries[2].second.dtype == DataType::u8);
  CHECK(entries[2].second.shape.empty());
  CHECK(values<uint8_t>(entries[2].second) == std::vector<uint8_t>{7});
  CHECK(entries[3].first == "mask");
  CHECK(entries[3].second.dtype == DataType::boolean);
  CHECK(values<uint8_t>(entries[3].second) == std::vector<uint8_t>{1, 0});
  if (with_zeros) {
    CHECK(entries[4].first == "zeros");
    CHECK(values<float>(entries[4].second) == std::vector<float>(1000, 0.f));
  }
}

TEST_CASE("npz: stored, compressed and ZIP64 archives") {
  check_archive(io::read_npz(fixture("stored.npz")), false);
  check_archive(io::read_npz(fixture("compressed.npz")), true);
  const io::NamedTensors z = io::read_npz(fixture("zip64.npz"));
  REQUIRE(z.size() == 2);
  CHECK(z[0].first == "a");
  CHECK(values<float>(z[0].second) == kF4);
  CHECK(z[1].first == "b");
  CHECK(values<int32_t>(z[1].second) == std::vector<int32_t>{0, 1, 2, 3});
}

TEST_CASE("npz: malformed archives throw naming the file (and the entry)") {
  const std::vector<std::vector<std::string>> cases = {
      {"truncated.npz", "zip"},
      {"truncated_entry.npz", "zip"},
      {"garbage.npz", "not a zip"},
      {"bad_crc.npz", "'ids'", "CRC"},
      {"corrupt_deflate.npz", "'zeros'"},
      {"bad_entry.npz", "'weights'", "magic"},
      {"no_such_file.npz", "cannot open"},
      {"f4.npy", "not a zip"},
  };
  for (const auto& c : cases) {
    INFO(c[0]);
    check_error([&] { io::read_npz(fixture(c[0])); }, c);
  }
  // Every prefix and every single-byte corruption of an archive is an error or a clean read.
  for (const char* name : {"stored.npz", "compressed.npz", "zip64.npz"}) {
    std::ifstream in(fixture(name), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t n = 0; n < bytes.size(); ++n) CHECK_THROWS_AS(io::parse_npz(bytes.data(), n, name), Error);
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::vector<uint8_t> bad = bytes;
      bad[i] ^= 0xA5;
      try {
        io::parse_npz(bad.data(), bad.size(), name);
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find(name) != std::string::npos);
      }
    }
  }
}

TEST_CASE("npz: write and read back") {
  TempDir dir;
  const std::vector<int32_t> s32 = {1, -2, 3};
  const float scalar = 9.f;
  const io::NamedViews views = {{"a", TensorView::of(kF4.data(), {2, 3})},
                                {"layer/out", TensorView::of(s32.data(), {3})},
                                {"s", TensorView::of(&scalar, {})},
                                {"empty", TensorView::of(kF4.data(), {0})}};
  const std::string path = dir.file("out.npz");
  io::write_npz(path, views);
  io::NamedTensors r = io::read_npz(path);
  REQUIRE(r.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(r[i].first == views[i].first);
    CHECK(r[i].second.dtype == views[i].second.dtype);
    CHECK(r[i].second.shape == views[i].second.shape);
    CHECK(r[i].second.view().bytes() == views[i].second.bytes());
    const auto* expect = static_cast<const uint8_t*>(views[i].second.data);
    CHECK(r[i].second.bytes == std::vector<uint8_t>(expect, expect + views[i].second.bytes()));
  }
  // Round trip of a numpy-written archive through the NdArray overload.
  const io::NamedTensors orig = io::read_npz(fixture("compressed.npz"));
  io::write_npz(path, orig);
  const io::NamedTensors again = io::read_npz(path);
  REQUIRE(again.size() == orig.size());
  for (size_t i = 0; i < orig.size(); ++i) {
    CHECK(again[i].first == orig[i].first);
    CHECK(again[i].second.shape == orig[i].second.shape);
    CHECK(again[i].second.bytes == orig[i].second.bytes);
  }
  io::write_npz(dir.file("none.npz"), io::NamedViews{});
  CHECK(io::read_npz(dir.file("none.npz")).empty());
  CHECK(dir.temporaries().empty());

  check_error([&] { io::write_npz(dir.file("dup.npz"), io::NamedViews{views[0], views[0]}); }, {"dup.npz", "duplicate"});
  check_error([&] { io::write_npz(dir.file("bad.npz"), io::NamedViews{{"x", TensorView{DataType::f32, {-3}, kF4.data()}}}); },
              {"bad.npz", "'x'"});
  check_error([&] { io::write_npz(dir.file("nope/x.npz"), views); }, {"nope/x.npz"});
  CHECK_FALSE(fs::exists(dir.file("dup.npz")));
  CHECK_FALSE(fs::exists(dir.file("bad.npz")));
  CHECK(dir.temporaries().empty());
}

// ---- images ----------------------------------------------------------------------------------

TEST_CASE("image: PNG values, layout, normalization") {
  TempDir dir;
  // 4 x 2 RGB, pixel (y, x) = (10 * x + y, 100 + x, 200 + y).
  const int w = 4, h = 2;
  std::vector<uint8_t> rgb(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(y * w + x) * 3];
      p[0] = static_cast<uint8_t>(10 * x + y);
      p[1] = static_cast<uint8_t>(100 + x);
      p[2] = static_cast<uint8_t>(200 + y);
    }
  const std::string png = dir.file("img.png");
  REQUIRE(stbi_write_png(png.c_str(), w, h, 3, rgb.data(), w * 3));

  NdArray t = io::read_image(png, {});
  CHECK(t.dtype == DataType::f32);
  CHECK(t.shape == std::vector<int64_t>{1, 3, h, w});
  std::vector<float> v = values<float>(t);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) CHECK(v[(c * h + y) * w + x] == doctest::Approx(rgb[(y * w + x) * 3 + c] / 255.f));

  io::ImageOptions o;
  o.nchw = false;
  o.scale = 1.f;
  o.mean = {1, 2, 3};
  o.std = {2, 4, 8};
  t = io::read_image(png, o);
  CHECK(t.shape == std::vector<int64_t>{1, h, w, 3});
  v = values<float>(t);
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) CHECK(v[i * 3 + c] == doctest::Approx((rgb[i * 3 + c] - o.mean[c]) / o.std[c]));

  // Grayscale of a gray image; the default 3-value mean/std apply to one channel.
  std::vector<uint8_t> gray = {0, 50, 100, 255};
  const std::string gpng = dir.file("gray.png");
  REQUIRE(stbi_write_png(gpng.c_str(), 2, 2, 1, gray.data(), 2));
  io::ImageOptions g;
  g.channels = 1;
  t = io::read_image(gpng, g);
  CHECK(t.shape == std::vector<int64_t>{1, 1, 2, 2});
  v = values<float>(t);
  for (int i = 0; i < 4; ++i) CHECK(v[i] == doctest::Approx(gray[i] / 255.f));
  // Gray read as RGB: three equal planes.
  t = io::read_image(gpng, {});
  CHECK(t.shape == std::vector<int64_t>{1, 3, 2, 2});
  v = values<float>(t);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 4; ++i) CHECK(v[c * 4 + i] == doctest::Approx(gray[i] / 255.f));
  g.mean = {0.5f};
  g.std = {0.25f};
  t = io::read_image(gpng, g);
  CHECK(values<float>(t)[3] == doctest::Approx((1.f - 0.5f) / 0.25f));
}

TEST_CASE("image: resize") {
  TempDir dir;
  // 2 x 1 gray image [0, 255] upsampled to 4 x 1 with the triangle filter (bilinear, clamped).
  const std::vector<uint8_t> px = {0, 255};
  const std::string png = dir.file("ramp.png");
  REQUIRE(stbi_write_png(png.c_str(), 2, 1, 1, px.data(), 2));
  io::ImageOptions o;
  o.channels = 1;
  o.scale = 1.f;
  o.width = 4;
  NdArray t = io::read_image(png, o);
  CHECK(t.shape == std::vector<int64_t>{1, 1, 1, 4});
  std::vector<float> v = values<float>(t);
  CHECK(v[0] == doctest::Approx(0.f).epsilon(1e-4));
  CHECK(v[1] == doctest::Approx(63.75f).epsilon(1e-4));
  CHECK(v[2] == doctest::Approx(191.25f).epsilon(1e-4));
  CHECK(v[3] == doctest::Approx(255.f).epsilon(1e-4));

  // A uniform RGB image stays uniform whatever the size; both dimensions resized.
  std::vector<uint8_t> rgb(5 * 7 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i % 3 == 0 ? 30 : i % 3 == 1 ? 60 : 90);
  const std::string upng = dir.file("uniform.png");
  REQUIRE(stbi_write_png(upng.c_str(), 5, 7, 3, rgb.data(), 5 * 3));
  for (auto [ow, oh] : {std::pair{3, 2}, std::pair{11, 13}, std::pair{5, 3}, std::pair{0, 9}}) {
    io::ImageOptions u;
    u.width = ow;
    u.height = oh;
    u.nchw = false;
    t = io::read_image(upng, u);
    const int64_t ew = ow ? ow : 5;
    CHECK(t.shape == std::vector<int64_t>{1, oh, ew, 3});
    v = values<float>(t);
    for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == doctest::Approx((i % 3 + 1) * 30 / 255.f).epsilon(1e-4));
  }
}

TEST_CASE("image: JPEG") {
  // 16 x 8, R = 16 x, G = 32 y, B = 128, encoded with quantizers of 1 (see make_fixtures.py;
  // stb_image_write's JPEG encoder is not UBSan-clean, so the fixture is committed).
  io::ImageOptions o;
  o.scale = 1.f;
  NdArray t = io::read_image(fixture("gradient.jpg"), o);
  CHECK(t.shape == std::vector<int64_t>{1, 3, 8, 16});
  const std::vector<float> v = values<float>(t);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) {
      const float expect[3] = {16.f * x, 32.f * y, 128.f};
      for (int c = 0; c < 3; ++c) CHECK(std::fabs(v[(c * 8 + y) * 16 + x] - expect[c]) <= 3.f);
    }
  o.width = 4;
  o.height = 2;
  o.nchw = false;
  t = io::read_image(fixture("gradient.jpg"), o);
  CHECK(t.shape == std::vector<int64_t>{1, 2, 4, 3});
  for (float x : values<float>(t)) CHECK((x >= 0.f && x <= 255.f));
}

TEST_CASE("image: errors name the file") {
  TempDir dir;
  const std::vector<uint8_t> px(4 * 4 * 3, 128);
  const std::string png = dir.file("ok.png");
  REQUIRE(stbi_write_png(png.c_str(), 4, 4, 3, px.data(), 12));
  // A truncated PNG.
  {
    std::ifstream in(png, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(dir.file("cut.png"), std::ios::binary);
    out << bytes.substr(0, bytes.size() / 2);
  }
  check_error([&] { io::read_image(dir.file("cut.png"), {}); }, {"cut.png"});
  check_error([] { io::read_image(fixture("not_an_image.png"), {}); }, {"not_an_image.png", "decode"});
  check_error([] { io::read_image(fixture("no_such.png"), {}); }, {"no_such.png", "cannot open"});
  check_error([] { io::read_image(fixture("f4.npy"), {}); }, {"f4.npy", "decode"});
  check_error([] { io::read_image(fixture("bad_huffman.jpg"), {}); }, {"bad_huffman.jpg", "Huffman"});
  io::ImageOptions o;
  o.channels = 2;
  check_error([&] { io::read_image(png, o); }, {"ok.png", "channels"});
  o = {};
  o.mean = {1, 2};
  check_error([&] { io::read_image(png, o); }, {"ok.png", "mean"});
  o = {};
  o.std = {1, 0, 1};
  check_error([&] { io::read_image(png, o); }, {"ok.png", "std"});
  o = {};
  o.channels = 1;
  o.mean = {0.485f, 0.456f, 0.406f};
  check_error([&] { io::read_image(png, o); }, {"ok.png", "mean"});
  o = {};
  o.width = -4;
  check_error([&] { io::read_image(png, o); }, {"ok.png"});
  o = {};
  o.width = 1 << 20;
  o.height = 1 << 20;
  check_error([&] { io::read_image(png, o); }, {"ok.png", "too large"});
}

// ---- list_files --------------------------------------------------------------------------------

TEST_CASE("list_files: sorted regular files by extension") {
  TempDir dir;
  for (const char* name : {"b.png", "a.JPG", "c.jpeg", "notes.txt", "z.png", ".png", "archive.tar.gz"})
    std::ofstream(dir.file(name)) << "x";
  fs::create_directories(dir.path / "sub.png");
  std::ofstream(dir.file("sub.png/inner.png")) << "x";

  const std::string d = dir.path.string();
  CHECK(io::list_files(d, {"png", ".jpg", "JPEG"}) ==
        std::vector<std::string>{d + "/a.JPG", d + "/b.png", d + "/c.jpeg", d + "/z.png"});
  CHECK(io::list_files(d, {"tar.gz"}) == std::vector<std::string>{d + "/archive.tar.gz"});
  CHECK(io::list_files(d, {}).size() == 7);
  CHECK(io::list_files(d, {"bmp"}).empty());
  check_error([&] { io::list_files(d + "/missing", {"png"}); }, {"missing"});
  check_error([&] { io::list_files(dir.file("b.png"), {"png"}); }, {"b.png"});
}

}  // TEST_SUITE
