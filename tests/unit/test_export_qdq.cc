// `octet export-qdq` as a library call (qdq/export_qdq.h): converted test models written back
// as ONNX opset 13 in QDQ form pass onnx::checker, carry the QDQ / dynamic ops ONNX Runtime
// recognizes, and untranslatable nodes are refused naming the node (nothing written).
// Numerical agreement with ONNX Runtime is checked by benchmarks/qdq_diff.py (needs node + npm).
// Compiled only with the converter.
#ifdef OCTET_WITH_CONVERTER
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "convert.h"
#include "qdq/export_qdq.h"
#include "octet/octet.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace octet;

namespace {

const std::string kModelsDir = OCTET_TEST_MODELS;

std::string convert_model(const octet::test::TempDir& dir, const std::string& model, const std::string& precision) {
  converter::ConvertOptions o;
  o.input = kModelsDir + "/" + model + "/model.onnx";
  o.output = dir.file(model + "." + precision + ".json");
  o.precision = precision;
  if (precision == "int8") o.calib_dir = kModelsDir + "/" + model + "/calib";
  o.quiet = true;
  o.calib.progress = false;
  std::ostringstream log;
  converter::convert(o, log);
  return o.output;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("export-qdq: int8 CNN and MLP pass onnx::checker in QDQ form") {
  octet::test::TempDir dir;
  for (const std::string model : {"tiny_resnet", "mlp", "tiny_mobilenet"}) {
    CAPTURE(model);
    std::string json = convert_model(dir, model, "int8");
    std::string out = dir.file(model + ".qdq.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK(rep.nodes_qdq > 0);
    CHECK(rep.onnx_nodes > 0);
    CHECK_FALSE(rep.uses_contrib);
    CHECK_NOTHROW(qdq::check_onnx_file(out));
    std::string bytes = slurp(out);
    CHECK(count_of(bytes, "QuantizeLinear") > 0);
    CHECK(count_of(bytes, "DequantizeLinear") > 0);
    CHECK(count_of(bytes, model == "mlp" ? "Gemm" : "Conv") > 0);
    CHECK(count_of(bytes, "_to_nhwc") == 0);   // octet's layout transposes are gone
  }
}

TEST_CASE("export-qdq: float models and dynamic recurrent models") {
  octet::test::TempDir dir;
  {
    std::string json = convert_model(dir, "tiny_resnet", "float");
    std::string out = dir.file("tiny_resnet.float.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK(rep.nodes_qdq == 0);
    CHECK_NOTHROW(qdq::check_onnx_file(out));
    CHECK(count_of(slurp(out), "QuantizeLinear") == 0);
  }
  {
    std::string json = convert_model(dir, "lstm2_small", "int8");
    std::string out = dir.file("lstm.qdq.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK(rep.nodes_dynamic == 2);
    CHECK(rep.uses_contrib);
    CHECK_NOTHROW(qdq::check_onnx_file(out));
    CHECK(count_of(slurp(out), "DynamicQuantizeLSTM") == 2);
  }
  {
    std::string json = convert_model(dir, "gru2_small", "int8");
    std::string out = dir.file("gru.qdq.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK_FALSE(rep.notes.empty());   // says the GRU weights are float in ONNX
    CHECK_NOTHROW(qdq::check_onnx_file(out));
  }
}

namespace {

// A one-node model written as NAME.json + test.bin in dir (GraphBuilder names the .bin test.bin).
std::string write_model(const octet::test::TempDir& dir, octet::test::GraphBuilder& g, const std::string& name) {
  std::string json;
  std::vector<uint8_t> bin;
  g.serialize(&json, &bin);
  std::ofstream(dir.file(name + ".json"), std::ios::binary) << json;
  std::ofstream(dir.file("test.bin"), std::ios::binary).write(reinterpret_cast<const char*>(bin.data()), static_cast<std::streamsize>(bin.size()));
  return dir.file(name + ".json");
}

// An int8 ConvTranspose [1,5,5,C] -> [1,OH,OW,O] (3x3, stride 2, pads 1, output_padding 1).
std::string conv_transpose_model(const octet::test::TempDir& dir, int64_t C, int64_t O, int64_t group, bool channelwise) {
  using namespace octet::test;
  GraphBuilder g;
  g.input("x", DataType::u8, {1, 5, 5, C}, per_tensor(0.02f, 37));
  NdArray w = random_q8(DataType::s8, {O, 3, 3, C / group}, 7);
  std::vector<float> scales(static_cast<size_t>(O));
  for (int64_t o = 0; o < O; ++o) scales[static_cast<size_t>(o)] = 0.004f + 0.001f * static_cast<float>(o % 3);
  g.constant("w", w, channelwise ? per_channel(scales) : per_tensor(0.004f, 0));
  g.tensor("y", DataType::u8, {1, 10, 10, O}, per_tensor(0.05f, 120));
  g.output("y");
  g.node("ConvTranspose", {"x", "w"}, {"y"},
         {{"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"output_padding", {1, 1}}, {"group", group}}, "int8_static", {{"op", "Relu"}});
  return write_model(dir, g, "convt_g" + std::to_string(group) + (channelwise ? "_pc" : "_pt"));
}

}  // namespace

TEST_CASE("export-qdq: int8 ConvTranspose as DequantizeLinear + ConvTranspose + QuantizeLinear") {
  octet::test::TempDir dir;
  {
    std::string json = convert_model(dir, "ops_zoo", "int8");   // stride 2, output_padding, among other ops
    std::string out = dir.file("ops_zoo.qdq.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK_NOTHROW(qdq::check_onnx_file(out));
    CHECK(count_of(slurp(out), "ConvTranspose") > 0);
  }
  struct Case {
    int64_t C, O, group;
    bool per_channel, float_weights_note;
  };
  for (const Case& c : {Case{4, 6, 1, true, false}, Case{4, 6, 2, false, false}, Case{4, 6, 2, true, true}}) {
    CAPTURE(c.group);
    CAPTURE(c.per_channel);
    std::string json = conv_transpose_model(dir, c.C, c.O, c.group, c.per_channel);
    std::string out = dir.file("convt.qdq.onnx");
    auto rep = qdq::export_qdq(json, out);
    CHECK(rep.nodes_qdq == 1);
    CHECK_NOTHROW(qdq::check_onnx_file(out));
    const std::string bytes = slurp(out);
    CHECK(count_of(bytes, "ConvTranspose") > 0);
    CHECK(count_of(bytes, "output_padding") == 1);
    bool noted = false;
    for (const auto& note : rep.notes) noted = noted || note.find("grouped ConvTranspose with per-channel weights") != std::string::npos;
    CHECK(noted == c.float_weights_note);
  }
}

TEST_CASE("export-qdq: an untranslatable node is refused by name and nothing is written") {
  octet::test::TempDir dir;
  // ONNX's AveragePool has dilations only from opset 19; the export writes opset 13.
  octet::test::GraphBuilder g;
  g.input("x", DataType::f32, {1, 8, 8, 3});
  g.tensor("y", DataType::f32, {1, 2, 2, 3});
  g.output("y");
  g.node("AveragePool", {"x"}, {"y"}, {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"dilations", {2, 2}}}, "float", nullptr,
         "dilated_pool");
  const std::string json = write_model(dir, g, "dilated_pool");
  std::string out = dir.file("dilated_pool.qdq.onnx");
  std::string msg;
  try {
    qdq::export_qdq(json, out);
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("node 'dilated_pool'") != std::string::npos);
  CHECK_MESSAGE(msg.find("dilations") != std::string::npos, msg);
  CHECK_FALSE(fs::exists(out));
  CHECK_THROWS_AS(qdq::check_onnx_file(dir.file("missing.onnx")), Error);
}
#endif  // OCTET_WITH_CONVERTER
