// The loader refuses bad model files with one octet::Error that names the problem (file, tensor,
// node or key), and never crashes. Every case starts from a valid model made by GraphBuilder,
// mutates its JSON (as nlohmann::json or as text) or its .bin bytes, writes both into a fresh
// temporary directory and loads it with Model::load. The last cases flip random bytes of a valid
// model (seeded) and require "loads, or throws octet::Error" (run under ASan+UBSan too).
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "octet/format.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace octet;
using namespace octet::test;
using nlohmann::json;

namespace {

void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  REQUIRE(f.good());
}

// A valid static-int8 model with constants of three dtypes, per-tensor and per-channel quant and
// two nodes:  x (u8) -> Conv(w s8 per-channel, b s32, Relu) -> y (u8) -> DequantizeLinear -> z (f32).
struct ValidModel {
  std::string json_text;
  std::vector<uint8_t> bin;
  ValidModel() {
    GraphBuilder g;
    g.input("x", DataType::u8, {"batch", 4, 4, 2}, per_tensor(0.1f, 128));
    g.constant("w", NdArray::of<int8_t>(DataType::s8, {3, 1, 1, 2}, {1, -2, 3, -4, 5, -6}),
               per_channel({0.01f, 0.02f, 0.03f}));
    g.constant("b", NdArray::of<int32_t>(DataType::s32, {3}, {10, -20, 30}));
    g.tensor("y", DataType::u8, {"batch", 4, 4, 3}, per_tensor(0.2f, 0));
    g.tensor("z", DataType::f32, {"batch", 4, 4, 3});
    g.output("z");
    g.node("Conv", {"x", "w", "b"}, {"y"}, json::object(), "int8_static", {{"op", "Relu"}}, "conv");
    g.node("DequantizeLinear", {"y"}, {"z"}, json::object(), "float", nullptr, "deq");
    g.serialize(&json_text, &bin);
  }
  json doc() const { return json::parse(json_text); }
};

const ValidModel& valid() {
  static const ValidModel m;
  return m;
}

json& tensor_of(json& doc, const std::string& name) {
  for (auto& t : doc["tensors"])
    if (t["name"] == name) return t;
  FAIL("no tensor " << name);
  throw 0;
}

json& node_of(json& doc, const std::string& name) {
  for (auto& n : doc["nodes"])
    if (n["name"] == name) return n;
  FAIL("no node " << name);
  throw 0;
}

// Writes the files ("test.json" + "test.bin", the name the JSON records) into `dir`.
std::string write_model(const TempDir& dir, const std::string& json_text, const std::vector<uint8_t>& bin,
                        bool write_bin = true) {
  std::string jp = dir.file("test.json");
  write_bytes(jp, json_text.data(), json_text.size());
  if (write_bin) write_bytes(dir.file("test.bin"), bin.data(), bin.size());
  return jp;
}

// Loads and returns the octet::Error message ("" if the load succeeded). Anything else thrown
// propagates and fails the test.
std::string load_error(const std::string& json_text, const std::vector<uint8_t>& bin, bool write_bin = true,
                       bool verify_checksum = true) {
  TempDir dir;
  std::string jp = write_model(dir, json_text, bin, write_bin);
  try {
    Model::LoadOptions o;
    o.verify_checksum = verify_checksum;
    Model::load(jp, o);
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK_MESSAGE(msg.find('\n') == std::string::npos, "error message is not one line: " << msg);
    CHECK_MESSAGE(msg.find("test.json") != std::string::npos, "error does not name the model file: " << msg);
    return msg;
  }
  return "";
}

std::string load_error(const json& doc, const std::vector<uint8_t>& bin) { return load_error(doc.dump(), bin); }

// CHECKs that `msg` is an error containing each of `parts`.
#define CHECK_ERROR(msg_expr, ...)                                                       \
  do {                                                                                   \
    const std::string msg_ = (msg_expr);                                                 \
    INFO("message: " << msg_);                                                           \
    CHECK_FALSE(msg_.empty());                                                           \
    for (const std::string& p_ : std::vector<std::string>{__VA_ARGS__})                  \
      CHECK_MESSAGE(msg_.find(p_) != std::string::npos, "missing '" << p_ << "'");      \
  } while (0)

// Replaces the first occurrence of `from` in `s` (which must exist).
std::string replace_text(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  REQUIRE_MESSAGE(p != std::string::npos, "'" << from << "' not in the JSON");
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST_SUITE("loader") {

TEST_CASE("the valid model loads and runs, from a file") {
  TempDir dir;
  auto m = Model::load(write_model(dir, valid().json_text, valid().bin));
  REQUIRE(m->inputs().size() == 1);
  std::vector<uint8_t> x(2 * 4 * 4 * 2, 130);
  Session s(m, {1, "reference"});
  s.set_input("x", TensorView::of(x.data(), {2, 4, 4, 2}));
  s.run();
  CHECK(s.output("z").shape == std::vector<int64_t>{2, 4, 4, 3});
  CHECK(load_error(valid().json_text, valid().bin).empty());
}

TEST_CASE("weights file: truncated, resized, missing, bad header, checksum") {
  const auto& v = valid();
  SUBCASE("truncated .bin") {
    std::vector<uint8_t> bin(v.bin.begin(), v.bin.end() - 64);
    CHECK_ERROR(load_error(v.json_text, bin), "test.bin", "truncated");
  }
  SUBCASE("truncated inside the header") {
    std::vector<uint8_t> bin(v.bin.begin(), v.bin.begin() + 20);
    CHECK_ERROR(load_error(v.json_text, bin), "test.bin", "bytes");
  }
  SUBCASE("empty .bin") { CHECK_ERROR(load_error(v.json_text, {}), "test.bin", "0 bytes"); }
  SUBCASE(".bin made longer") {
    std::vector<uint8_t> bin = v.bin;
    bin.resize(bin.size() + 128, 0);
    CHECK_ERROR(load_error(v.json_text, bin), "test.bin", "resized");
  }
  SUBCASE("missing .bin") { CHECK_ERROR(load_error(v.json_text, v.bin, false), "test.bin", "cannot open"); }
  SUBCASE("checksum mismatch: one weight byte changed") {
    std::vector<uint8_t> bin = v.bin;
    bin[format::kHeaderBytes] ^= 0x01;
    CHECK_ERROR(load_error(v.json_text, bin), "checksum");
    // Without verification the same file loads (the check is what caught it).
    CHECK(load_error(v.json_text, bin, true, false).empty());
  }
  SUBCASE("checksum mismatch: recorded checksum changed") {
    json d = v.doc();
    std::string cs = d["weights"]["checksum"];
    cs.back() = cs.back() == '0' ? '1' : '0';
    d["weights"]["checksum"] = cs;
    CHECK_ERROR(load_error(d, v.bin), "checksum");
  }
  SUBCASE("malformed checksum string") {
    json d = v.doc();
    d["weights"]["checksum"] = "md5:1234";
    CHECK_ERROR(load_error(d, v.bin), "checksum", "md5:1234");
  }
  SUBCASE("JSON records another byte length") {
    json d = v.doc();
    d["weights"]["bytes"] = v.bin.size() + 64;
    CHECK_ERROR(load_error(d, v.bin), "test.bin", std::to_string(v.bin.size() + 64));
  }
  SUBCASE("bad magic") {
    std::vector<uint8_t> bin = v.bin;
    bin[0] = 'X';
    CHECK_ERROR(load_error(v.json_text, bin, true, false), "test.bin", "magic");
  }
  SUBCASE("byte-swapped endianness marker") {
    std::vector<uint8_t> bin = v.bin;
    std::reverse(bin.begin() + 12, bin.begin() + 16);
    CHECK_ERROR(load_error(v.json_text, bin, true, false), "test.bin", "byte order");
  }
  SUBCASE("unsupported .bin version") {
    std::vector<uint8_t> bin = v.bin;
    bin[8] = 7;
    CHECK_ERROR(load_error(v.json_text, bin, true, false), "test.bin", "version 7");
  }
  SUBCASE("header length field disagrees with the file") {
    std::vector<uint8_t> bin = v.bin;
    uint64_t len = bin.size() + 64;
    std::memcpy(bin.data() + 16, &len, 8);
    CHECK_ERROR(load_error(v.json_text, bin, true, false), "test.bin", "header says");
  }
  SUBCASE("weights file name with a directory") {
    json d = v.doc();
    d["weights"]["file"] = "../test.bin";
    CHECK_ERROR(load_error(d, v.bin), "../test.bin", "plain file name");
  }
  SUBCASE("wrong alignment recorded") {
    json d = v.doc();
    d["weights"]["alignment"] = 16;
    CHECK_ERROR(load_error(d, v.bin), "alignment");
  }
}

TEST_CASE("blobs: out of range, misaligned, wrong length") {
  const auto& v = valid();
  json d = v.doc();
  json& w = tensor_of(d, "w");
  SUBCASE("offset past the end of the file") {
    w["data"]["offset"] = v.bin.size() + 640;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
  }
  SUBCASE("offset inside the header") {
    w["data"]["offset"] = 0;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
  }
  SUBCASE("blob runs past the end (length consistent with the shape)") {
    json& b = tensor_of(d, "b");
    b["shape"] = {4096};
    b["data"]["bytes"] = 4096 * 4;
    CHECK_ERROR(load_error(d, v.bin), "'b'", "outside the weights file");
  }
  SUBCASE("offset near 2^64 does not overflow the range check") {
    w["data"]["offset"] = uint64_t(0xffffffffffffffc0ull);
    CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
  }
  SUBCASE("misaligned offset") {
    w["data"]["offset"] = w["data"]["offset"].get<uint64_t>() + 4;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "aligned");
  }
  SUBCASE("length does not match shape x dtype") {
    w["data"]["bytes"] = 5;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "5 bytes", "need 6");
  }
  SUBCASE("constant shape changed, blob length not") {
    w["shape"] = {3, 1, 1, 3};
    CHECK_ERROR(load_error(d, v.bin), "'w'", "6 bytes", "need 9");
  }
  SUBCASE("constant with a symbolic dimension") {
    w["shape"] = {"n", 1, 1, 2};
    CHECK_ERROR(load_error(d, v.bin), "'w'", "symbolic");
  }
  SUBCASE("huge shape does not overflow the element count") {
    w["shape"] = {int64_t(1) << 40, int64_t(1) << 40, 1, 1};
    w["quant"] = {{"scale", 0.01}, {"zero_point", 0}};
    CHECK_ERROR(load_error(d, v.bin), "'w'", "too many elements");
  }
}

TEST_CASE("format name and version") {
  const auto& v = valid();
  json d = v.doc();
  SUBCASE("another format") {
    d["format"] = "onnx";
    CHECK_ERROR(load_error(d, v.bin), "not an octet model");
  }
  SUBCASE("no format key") {
    d.erase("format");
    CHECK_ERROR(load_error(d, v.bin), "not an octet model");
  }
  SUBCASE("another major version") {
    d["format_version"] = {2, 0};
    CHECK_ERROR(load_error(d, v.bin), "format version 2.0", "not supported");
  }
  SUBCASE("a newer minor version is refused by name") {
    d["format_version"] = {1, format::kFormatMinor + 1};
    CHECK_ERROR(load_error(d, v.bin), "format version 1." + std::to_string(format::kFormatMinor + 1), "newer", "update octet");
  }
  SUBCASE("older minor versions are read") {
    d["format_version"] = {1, 0};
    CHECK(load_error(d, v.bin).empty());
  }
  SUBCASE("version not [major, minor]") {
    d["format_version"] = "1.0";
    CHECK_ERROR(load_error(d, v.bin), "format_version");
  }
  SUBCASE("version as strings") {
    d["format_version"] = {"1", "0"};
    CHECK_ERROR(load_error(d, v.bin), "format_version");
  }
  SUBCASE("top level is not an object") {
    CHECK_ERROR(load_error(std::string("[1, 2, 3]"), v.bin), "not an octet model");
  }
}

TEST_CASE("invalid JSON text") {
  const auto& v = valid();
  SUBCASE("truncated text") {
    CHECK_ERROR(load_error(v.json_text.substr(0, v.json_text.size() / 2), v.bin), "not valid JSON");
  }
  SUBCASE("empty file") { CHECK_ERROR(load_error(std::string(), v.bin), "not valid JSON"); }
  SUBCASE("trailing garbage") { CHECK_ERROR(load_error(v.json_text + "}}", v.bin), "not valid JSON"); }
  SUBCASE("NaN literal is not JSON") {
    CHECK_ERROR(load_error(replace_text(v.json_text, "\"scale\": 0.2", "\"scale\": NaN"), v.bin), "not valid JSON");
  }
  SUBCASE("model file missing") {
    TempDir dir;
    std::string p = dir.file("nope.json");
    try {
      Model::load(p);
      FAIL("loaded a missing file");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("nope.json") != std::string::npos);
    }
  }
}

TEST_CASE("dtypes and ops") {
  const auto& v = valid();
  json d = v.doc();
  SUBCASE("unknown dtype") {
    tensor_of(d, "z")["dtype"] = "f16";
    CHECK_ERROR(load_error(d, v.bin), "'z'", "unknown dtype 'f16'");
  }
  SUBCASE("unknown op") {
    node_of(d, "deq")["op"] = "FancyOp";
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "unknown op 'FancyOp'");
  }
  SUBCASE("unknown precision") {
    node_of(d, "conv")["precision"] = "int4";
    CHECK_ERROR(load_error(d, v.bin), "'conv'", "int4");
  }
  SUBCASE("unknown fused activation") {
    node_of(d, "conv")["activation"] = {{"op", "Swish"}};
    CHECK_ERROR(load_error(d, v.bin), "'conv'", "Swish");
  }
  SUBCASE("8-bit tensor without quant") {
    tensor_of(d, "y").erase("quant");
    CHECK_ERROR(load_error(d, v.bin), "'y'", "quant");
  }
  SUBCASE("dtype that does not fit the op") {
    // DequantizeLinear's output must be f32.
    tensor_of(d, "z")["dtype"] = "s32";
    CHECK_ERROR(load_error(d, v.bin), "deq");
  }
}

TEST_CASE("quantization parameters") {
  const auto& v = valid();
  json d = v.doc();
  json& y = tensor_of(d, "y");
  SUBCASE("zero scale") {
    y["quant"]["scale"] = 0.0;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("negative scale") {
    y["quant"]["scale"] = -0.5;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale -0.5");
  }
  SUBCASE("NaN scale (nlohmann writes NaN as null)") {
    y["quant"]["scale"] = std::nan("");
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("infinite scale (1e999 in the text)") {
    // JSON has no infinity; nlohmann refuses numbers that overflow a double.
    CHECK_ERROR(load_error(replace_text(v.json_text, "\"scale\": 0.2", "\"scale\": 1e999"), v.bin), "1e999");
  }
  SUBCASE("infinite scale (nlohmann writes inf as null)") {
    y["quant"]["scale"] = INFINITY;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("scale just above float max (finite as double, infinite as float)") {
    y["quant"]["scale"] = 3.5e38;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("scale above float max") {
    y["quant"]["scale"] = 1e300;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("scale that underflows to zero as float32") {
    y["quant"]["scale"] = 1e-50;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("scale as a string") {
    y["quant"]["scale"] = "0.2";
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale must be a number");
  }
  SUBCASE("missing scale") {
    y["quant"].erase("scale");
    CHECK_ERROR(load_error(d, v.bin), "'y'", "scale");
  }
  SUBCASE("NaN in a per-channel scale list") {
    tensor_of(d, "w")["quant"]["scale"][1] = std::nan("");
    CHECK_ERROR(load_error(d, v.bin), "'w'", "scale");
  }
  SUBCASE("u8 zero point above 255") {
    y["quant"]["zero_point"] = 256;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "zero_point 256", "u8");
  }
  SUBCASE("u8 zero point below 0") {
    y["quant"]["zero_point"] = -1;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "zero_point -1", "u8");
  }
  SUBCASE("s8 zero point out of range") {
    tensor_of(d, "w")["quant"]["zero_point"] = 128;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "zero_point 128", "s8");
  }
  SUBCASE("zero point not an integer") {
    y["quant"]["zero_point"] = 1.5;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "zero_point");
  }
  SUBCASE("per-channel scale count does not match the axis") {
    tensor_of(d, "w")["quant"]["scale"] = {0.01, 0.02};
    CHECK_ERROR(load_error(d, v.bin), "'w'", "2 scales for 3 channels");
  }
  SUBCASE("per-channel axis out of range") {
    tensor_of(d, "w")["quant"]["axis"] = 4;
    CHECK_ERROR(load_error(d, v.bin), "'w'", "axis 4");
  }
  SUBCASE("per-tensor quant with several scales") {
    y["quant"]["scale"] = {0.1, 0.2};
    CHECK_ERROR(load_error(d, v.bin), "'y'", "per-tensor");
  }
}

namespace {
// x (u8) -> Conv with 20 output channels -> y (u8) -> z (f32): 20 > kMaxInlineScales, so the
// writer puts the weight scales in the .bin, as bf16 when every value is a bf16, else as f32.
struct BlobScaleModel {
  std::string json_text;
  std::vector<uint8_t> bin;
  explicit BlobScaleModel(bool bf16) {
    static_assert(format::kMaxInlineScales < 20);
    std::vector<float> scales;
    std::vector<int8_t> w;
    for (int o = 0; o < 20; ++o) {
      scales.push_back(bf16 ? 0.0078125f * static_cast<float>(o + 1) : 0.01f + 0.0013f * static_cast<float>(o));
      w.push_back(static_cast<int8_t>(o * 5 - 50)), w.push_back(static_cast<int8_t>(60 - o * 3));
    }
    GraphBuilder g;
    g.input("x", DataType::u8, {1, 2, 2, 2}, per_tensor(0.1f, 128));
    g.constant("w", NdArray::of<int8_t>(DataType::s8, {20, 1, 1, 2}, w), per_channel(scales));
    g.tensor("y", DataType::u8, {1, 2, 2, 20}, per_tensor(0.05f, 100));
    g.tensor("z", DataType::f32, {1, 2, 2, 20});
    g.output("z");
    g.node("Conv", {"x", "w"}, {"y"}, json::object(), "int8_static", nullptr, "conv");
    g.node("DequantizeLinear", {"y"}, {"z"}, json::object(), "float", nullptr, "deq");
    g.serialize(&json_text, &bin);
    scale_list = scales;
  }
  std::vector<float> scale_list;
  json doc() const { return json::parse(json_text); }
  // The same model with the scales written out in the JSON (format 1.0's only form).
  json inline_doc() const {
    json d = doc();
    tensor_of(d, "w")["quant"]["scale"] = scale_list;
    return d;
  }
};

std::vector<float> run_blob_model(const json& doc, const std::vector<uint8_t>& bin) {
  TempDir dir;
  auto m = Model::load(write_model(dir, doc.dump(), bin));
  std::vector<uint8_t> x{0, 17, 64, 128, 129, 200, 250, 255};
  Session s(m, {1, "reference"});
  s.set_input("x", TensorView::of(x.data(), {1, 2, 2, 2}));
  s.run();
  const float* z = static_cast<const float*>(s.output("z").data);
  return std::vector<float>(z, z + 80);
}
}  // namespace

TEST_CASE("per-channel scales stored in the .bin") {
  for (bool bf16 : {false, true}) {
    CAPTURE(bf16);
    const BlobScaleModel v(bf16);
    json d = v.doc();
    json& sc = tensor_of(d, "w")["quant"]["scale"];
    REQUIRE(sc.is_object());
    CHECK(sc["dtype"] == (bf16 ? "bf16" : "f32"));
    CHECK(sc["bytes"] == 20 * (bf16 ? 2 : 4));
    CHECK(run_blob_model(d, v.bin) == run_blob_model(v.inline_doc(), v.bin));
    const uint64_t off = sc["offset"].get<uint64_t>();
    SUBCASE("unknown dtype") {
      sc["dtype"] = "f16";
      CHECK_ERROR(load_error(d, v.bin), "'w'", "scale dtype 'f16'");
    }
    SUBCASE("one value short of the channel count") {
      sc["bytes"] = sc["bytes"].get<uint64_t>() - (bf16 ? 2 : 4);
      CHECK_ERROR(load_error(d, v.bin), "'w'", "19 scales for 20 channels");
    }
    SUBCASE("not a whole number of values") {
      sc["bytes"] = sc["bytes"].get<uint64_t>() - 1;
      CHECK_ERROR(load_error(d, v.bin), "'w'", "not a whole number");
    }
    SUBCASE("past the end of the file") {
      sc["offset"] = v.bin.size() - 8;
      CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
    }
    SUBCASE("offset near 2^64") {
      sc["offset"] = ~uint64_t(0) - 4;
      CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
    }
    SUBCASE("inside the header") {
      sc["offset"] = 0;
      CHECK_ERROR(load_error(d, v.bin), "'w'", "outside the weights file");
    }
    SUBCASE("without a per-channel axis") {
      tensor_of(d, "w")["quant"].erase("axis");
      CHECK_ERROR(load_error(d, v.bin), "'w'", "needs 'axis'");
    }
    SUBCASE("NaN, zero, negative or infinite values") for (const char* what : {"NaN", "zero", "negative", "infinite"}) {
      CAPTURE(what);
      std::vector<uint8_t> bin = v.bin;
      const float bad = what[0] == 'N' ? std::nanf("") : what[0] == 'z' ? 0.f : what[0] == 'n' ? -0.5f : INFINITY;
      uint32_t u;
      std::memcpy(&u, &bad, 4);
      const size_t at = off + 3 * (bf16 ? 2 : 4);
      if (bf16) bin[at] = static_cast<uint8_t>(u >> 16), bin[at + 1] = static_cast<uint8_t>(u >> 24);
      else std::memcpy(&bin[at], &u, 4);
      CHECK_ERROR(load_error(d.dump(), bin, true, false), "'w'", "scale #3");
      CHECK_ERROR(load_error(d.dump(), bin), "checksum");   // and the checksum catches it first
    }
  }
}

TEST_CASE("graph structure") {
  const auto& v = valid();
  json d = v.doc();
  SUBCASE("node input refers to an undeclared tensor") {
    node_of(d, "deq")["inputs"] = {"nosuch"};
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'nosuch'", "dangling");
  }
  SUBCASE("node input is declared but never produced") {
    d["tensors"].push_back({{"name", "orphan"}, {"dtype", "u8"}, {"shape", {"batch", 4, 4, 3}},
                            {"quant", {{"scale", 0.2}, {"zero_point", 0}}}});
    node_of(d, "deq")["inputs"] = {"orphan"};
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'orphan'", "never produced");
  }
  SUBCASE("nodes not in topological order") {
    std::swap(d["nodes"][0], d["nodes"][1]);
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'y'", "topological order");
  }
  SUBCASE("a cycle") {
    // conv reads z, which deq computes from conv's output.
    node_of(d, "conv")["inputs"][0] = "z";
    CHECK_ERROR(load_error(d, v.bin), "'conv'", "'z'", "cycle");
  }
  SUBCASE("a tensor produced twice") {
    json dup = node_of(d, "deq");
    dup["name"] = "deq2";
    d["nodes"].push_back(dup);
    CHECK_ERROR(load_error(d, v.bin), "'deq2'", "'z'", "produced twice");
  }
  SUBCASE("a node writing a constant") {
    node_of(d, "deq")["outputs"] = {"w"};
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'w'");
  }
  SUBCASE("duplicate tensor name") {
    d["tensors"].push_back(tensor_of(d, "z"));
    CHECK_ERROR(load_error(d, v.bin), "'z'", "twice");
  }
  SUBCASE("duplicate node name") {
    node_of(d, "deq")["name"] = "conv";
    CHECK_ERROR(load_error(d, v.bin), "'conv'", "used twice");
  }
  SUBCASE("graph output never produced") {
    d["tensors"].push_back({{"name", "lonely"}, {"dtype", "f32"}, {"shape", {1}}});
    d["outputs"] = {"lonely"};
    CHECK_ERROR(load_error(d, v.bin), "'lonely'", "never produced");
  }
  SUBCASE("graph output not declared") {
    d["outputs"] = {"ghost"};
    CHECK_ERROR(load_error(d, v.bin), "'ghost'");
  }
  SUBCASE("graph input is a constant") {
    d["inputs"] = {"w"};
    CHECK_ERROR(load_error(d, v.bin), "'w'", "constant");
  }
  SUBCASE("wrong input count") {
    node_of(d, "deq")["inputs"] = {"y", "y"};
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "2 inputs");
  }
  SUBCASE("declared shape does not fit the inferred one") {
    tensor_of(d, "z")["shape"] = {"batch", 4, 4, 5};
    CHECK_ERROR(load_error(d, v.bin), "'z'", "'deq'");
  }
  SUBCASE("bad attribute") {
    node_of(d, "conv")["attrs"] = {{"strides", "2"}};
    CHECK_ERROR(load_error(d, v.bin), "conv", "strides");
  }
  SUBCASE("bad attribute value") {
    node_of(d, "conv")["attrs"] = {{"strides", {0, 0}}};
    CHECK_ERROR(load_error(d, v.bin), "conv", "strides");
  }
  SUBCASE("rank above the limit") {
    tensor_of(d, "z")["shape"] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_ERROR(load_error(d, v.bin), "'z'", "rank");
  }
  SUBCASE("negative dimension") {
    tensor_of(d, "z")["shape"] = {"batch", 4, -4, 3};
    CHECK_ERROR(load_error(d, v.bin), "'z'", "dimension -4");
  }
}

TEST_CASE("missing keys and wrong JSON types") {
  const auto& v = valid();
  json d = v.doc();
  SUBCASE("no 'nodes'") {
    d.erase("nodes");
    CHECK_ERROR(load_error(d, v.bin), "'nodes'");
  }
  SUBCASE("no 'tensors'") {
    d.erase("tensors");
    CHECK_ERROR(load_error(d, v.bin), "'tensors'");
  }
  SUBCASE("no 'weights'") {
    d.erase("weights");
    CHECK_ERROR(load_error(d, v.bin), "'weights'");
  }
  SUBCASE("no 'inputs'") {
    d.erase("inputs");
    CHECK_ERROR(load_error(d, v.bin), "'inputs'");
  }
  SUBCASE("no 'outputs'") {
    d.erase("outputs");
    CHECK_ERROR(load_error(d, v.bin), "'outputs'");
  }
  SUBCASE("tensor without dtype") {
    tensor_of(d, "z").erase("dtype");
    CHECK_ERROR(load_error(d, v.bin), "'z'", "'dtype'");
  }
  SUBCASE("tensor without name") {
    tensor_of(d, "z").erase("name");
    CHECK_ERROR(load_error(d, v.bin), "tensor #", "'name'");
  }
  SUBCASE("node without op") {
    node_of(d, "deq").erase("op");
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'op'");
  }
  SUBCASE("node without inputs") {
    node_of(d, "deq").erase("inputs");
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "'inputs'");
  }
  SUBCASE("constant data without offset") {
    tensor_of(d, "w")["data"].erase("offset");
    CHECK_ERROR(load_error(d, v.bin), "'w'", "'offset'");
  }
  SUBCASE("string where a number is expected: data offset") {
    json& data = tensor_of(d, "w")["data"];
    data["offset"] = std::to_string(data["offset"].get<uint64_t>());
    CHECK_ERROR(load_error(d, v.bin), "'w'", "'offset'", "integer");
  }
  SUBCASE("string where a number is expected: weights bytes") {
    d["weights"]["bytes"] = std::to_string(v.bin.size());
    CHECK_ERROR(load_error(d, v.bin), "'bytes'", "integer");
  }
  SUBCASE("negative weights bytes") {
    d["weights"]["bytes"] = -1;
    CHECK_ERROR(load_error(d, v.bin), "'bytes'");
  }
  SUBCASE("number where a string is expected: dtype") {
    tensor_of(d, "z")["dtype"] = 3;
    CHECK_ERROR(load_error(d, v.bin), "'z'", "'dtype'", "string");
  }
  SUBCASE("number where a string is expected: node input") {
    node_of(d, "deq")["inputs"] = {7};
    CHECK_ERROR(load_error(d, v.bin), "'deq'", "tensor names");
  }
  SUBCASE("object where a list is expected: shape") {
    tensor_of(d, "z")["shape"] = {{"a", 1}};
    CHECK_ERROR(load_error(d, v.bin), "'z'", "shape");
  }
  SUBCASE("'tensors' is an object") {
    d["tensors"] = json::object();
    CHECK_ERROR(load_error(d, v.bin), "tensors");
  }
  SUBCASE("'nodes' is a string") {
    d["nodes"] = "conv";
    CHECK_ERROR(load_error(d, v.bin), "nodes");
  }
  SUBCASE("'quant' is a number") {
    tensor_of(d, "y")["quant"] = 0.2;
    CHECK_ERROR(load_error(d, v.bin), "'y'", "quant");
  }
  SUBCASE("'attrs' is a list") {
    node_of(d, "conv")["attrs"] = json::array();
    CHECK_ERROR(load_error(d, v.bin), "'conv'", "attrs");
  }
}

// Byte flips: load must succeed or throw octet::Error, nothing else (ASan/UBSan check the rest).
// When a mutated model loads, it is also run once on the reference backend: whatever the loader
// accepts, the kernels must be able to run.
namespace {
void load_and_maybe_run(const std::string& jp, bool verify_checksum, int* loaded) {
  std::shared_ptr<const Model> m;
  try {
    Model::LoadOptions o;
    o.verify_checksum = verify_checksum;
    m = Model::load(jp, o);
  } catch (const Error&) {
    return;
  }
  ++*loaded;
  try {
    Session s(m, {1, "reference"});
    for (const auto& in : m->inputs()) {
      std::vector<int64_t> shape = in.shape;
      int64_t n = 1;
      for (auto& d : shape) n *= (d = d < 0 ? 1 : d);
      if (n > (1 << 20)) return;
      std::vector<uint8_t> bytes(static_cast<size_t>(n) * dtype_size(in.dtype), 1);
      s.set_input(in.name, {in.dtype, shape, bytes.data()});
    }
    s.run();
    for (const auto& out : m->outputs()) s.output(out.name);
  } catch (const Error&) {
  }
}
}  // namespace

TEST_CASE("fuzz: random byte changes in the JSON text") {
  const auto& v = valid();
  TempDir dir;
  write_bytes(dir.file("test.bin"), v.bin.data(), v.bin.size());
  std::mt19937 rng(12345);
  const std::string interesting = "0123456789-.eE\"[]{},:nul ";
  int loaded = 0;
  const int iterations = 400;
  for (int it = 0; it < iterations; ++it) {
    std::string text = v.json_text;
    int changes = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < changes; ++k) {
      size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[pos] = static_cast<char>(rng() & 0xff); break;                           // any byte
        case 1: text[pos] = interesting[rng() % interesting.size()]; break;                  // JSON-ish byte
        case 2: text.erase(pos, 1); break;                                                   // deletion
        default: text[pos] = static_cast<char>(text[pos] ^ (1u << (rng() % 8))); break;      // bit flip
      }
    }
    if (it % 50 == 49) text.resize(rng() % text.size());   // now and then, a truncation
    write_bytes(dir.file("test.json"), text.data(), text.size());
    INFO("iteration " << it);
    CHECK_NOTHROW(load_and_maybe_run(dir.file("test.json"), true, &loaded));
  }
  MESSAGE("JSON fuzz: " << loaded << " of " << iterations << " mutated files loaded");
}

TEST_CASE("fuzz: random byte changes in the .bin") {
  const auto& v = valid();
  TempDir dir;
  write_bytes(dir.file("test.json"), v.json_text.data(), v.json_text.size());
  std::mt19937 rng(54321);
  int loaded = 0;
  const int iterations = 300;
  for (int it = 0; it < iterations; ++it) {
    std::vector<uint8_t> bin = v.bin;
    int changes = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < changes; ++k) bin[rng() % bin.size()] = static_cast<uint8_t>(rng() & 0xff);
    if (it % 50 == 49) bin.resize(rng() % bin.size());
    write_bytes(dir.file("test.bin"), bin.data(), bin.size());
    INFO("iteration " << it);
    // With the checksum on, any change is refused; with it off, changed weights load and run.
    CHECK_NOTHROW(load_and_maybe_run(dir.file("test.json"), (it & 1) == 0, &loaded));
  }
  MESSAGE(".bin fuzz: " << loaded << " of " << iterations << " mutated files loaded");
}

TEST_CASE("fuzz: random changes of JSON values (structure-aware)") {
  // Replaces one random value anywhere in the document with a value of another kind; this
  // reaches validation paths that text flips rarely get past the parser to.
  const auto& v = valid();
  TempDir dir;
  write_bytes(dir.file("test.bin"), v.bin.data(), v.bin.size());
  const json base = v.doc();
  std::vector<json::json_pointer> pointers;
  std::function<void(const json&, const json::json_pointer&)> walk = [&](const json& j, const json::json_pointer& p) {
    pointers.push_back(p);
    if (j.is_object())
      for (auto it = j.begin(); it != j.end(); ++it) walk(it.value(), p / it.key());
    else if (j.is_array())
      for (size_t i = 0; i < j.size(); ++i) walk(j[i], p / i);
  };
  walk(base, json::json_pointer());
  const std::vector<json> replacements = {nullptr, true, 0, -1, 1, 3, 64, 255, 256, -129, 1e-45, 1e38, -0.0,
                                          int64_t(1) << 40, uint64_t(18446744073709551615ull), 0.5, "", "x",
                                          "batch", "f32", "u8", json::array(), json::array({1, 2}),
                                          json::object(), json::object({{"op", "Relu"}})};
  std::mt19937 rng(777);
  int loaded = 0;
  const int iterations = 400;
  for (int it = 0; it < iterations; ++it) {
    json d = base;
    const auto& p = pointers[1 + rng() % (pointers.size() - 1)];
    const json& r = replacements[rng() % replacements.size()];
    if (rng() % 8 == 0 && !p.parent_pointer().empty() && d.at(p.parent_pointer()).is_object()) {
      d.at(p.parent_pointer()).erase(p.back());   // delete the key instead
    } else {
      d.at(p) = r;
    }
    std::string text = d.dump();
    write_bytes(dir.file("test.json"), text.data(), text.size());
    INFO("iteration " << it << ": " << p.to_string());
    CHECK_NOTHROW(load_and_maybe_run(dir.file("test.json"), true, &loaded));
  }
  MESSAGE("value fuzz: " << loaded << " of " << iterations << " mutated files loaded");
}

}  // TEST_SUITE
