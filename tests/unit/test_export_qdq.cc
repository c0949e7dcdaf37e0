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

TEST_CASE("export-qdq: an untranslatable node is refused by name and nothing is written") {
  octet::test::TempDir dir;
  std::string json = convert_model(dir, "ops_zoo", "int8");   // has a ConvTranspose
  std::string out = dir.file("ops_zoo.qdq.onnx");
  std::string msg;
  try {
    qdq::export_qdq(json, out);
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("ConvTranspose") != std::string::npos);
  CHECK(msg.find("node '") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK_THROWS_AS(qdq::check_onnx_file(dir.file("missing.onnx")), Error);
}
#endif  // OCTET_WITH_CONVERTER
