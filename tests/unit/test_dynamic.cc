// Dynamic int8: octet's AVX2 dynamic quantization against the portable one, input_quant
// validation and the accuracy of per-row quantization, the converter's dynamic modes, the fused
// norms. (The packed GEMMs are in tests/kernels/test_gemm.cc; int8_dynamic FullyConnected and
// MatMul on every backend in tests/ops.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <vector>


#include "test_util.h"

#if defined(OCTET_WITH_ONEDNN)
#include "x86/gemm_u8s8.h"
#include "x86/quantize_avx2.h"

// The AVX2 range and quantization equal the portable reference bit for bit: every length tail,
// NaN / +-Inf (ignored by the range; NaN -> 0, Inf saturates), exact .5 ties (half to even), a
// range that does not include 0, and a constant tensor.
TEST_CASE("dynamic: AVX2 dynamic quantization equals the reference") {
  if (!octet::x86::cpu_has_avx2()) {
    MESSAGE("SKIPPED: this CPU has no AVX2 + FMA, so octet's AVX2 quantization never runs here");
    return;
  }
  std::mt19937 rng(3);
  for (size_t n : {size_t(1), size_t(7), size_t(31), size_t(32), size_t(33), size_t(1000), size_t(98304)}) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> x(n);
      std::uniform_real_distribution<float> u(kind == 2 ? 1.f : -3.f, 5.f);
      for (auto& v : x) v = kind == 3 ? 0.25f : u(rng);
      if (kind == 1 && n > 8) {
        x[1] = std::numeric_limits<float>::quiet_NaN(), x[n - 1] = INFINITY, x[n / 2] = -INFINITY;
        const octet::q::Params p = octet::q::dynamic_params_u8(x.data(), n);
        for (size_t i = 3; i < n; i += 5) x[i] = (std::floor((x[i] - 0) / p.scale) + 0.5f) * p.scale;   // near ties
      }
      const octet::q::Params want = octet::q::dynamic_params_u8(x.data(), n), got = octet::x86::dynamic_params_u8_avx2(x.data(), n);
      INFO("n " << n << " kind " << kind);
      CHECK(got.scale == want.scale);
      CHECK(got.zero_point == want.zero_point);
      std::vector<uint8_t> a(n), b(n);
      octet::q::quantize_u8(x.data(), n, want, a.data());
      octet::x86::quantize_u8_avx2(x.data(), n, want, b.data());
      CHECK(a == b);
    }
  }
}

#endif

#if defined(OCTET_WITH_ONEDNN) || defined(OCTET_WITH_XNNPACK)
namespace {
using octet::test::NdArray;
using octet::test::GraphBuilder;

// int8_dynamic FullyConnected: s8 weights in [-127, 127] per row, float bias and output.
// The s8 weights [N, K] and per-row scales of fc_dynamic_model.
void fc_weights(int64_t N, int64_t K, uint32_t seed, std::vector<int8_t>* w, std::vector<float>* sw) {
  std::mt19937 rng(seed);
  w->resize(static_cast<size_t>(N * K));
  for (auto& v : *w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  sw->resize(static_cast<size_t>(N));
  for (auto& s : *sw) s = (0.5f + (rng() % 1000) / 1000.f) / (127.f * std::sqrt(static_cast<float>(K)));
}

// per_row: input_quant "per_row" (X quantized with one scale and zero point per row).
std::shared_ptr<const octet::Model> fc_dynamic_model(std::vector<int64_t> xshape, int64_t N, bool bias, const char* act, uint32_t seed,
                                                     bool per_row = false) {
  const int64_t K = xshape.back();
  std::vector<int64_t> yshape = xshape;
  yshape.back() = N;
  GraphBuilder g;
  GraphBuilder::Dims xd{"batch"}, yd{"batch"};
  for (size_t i = 1; i < xshape.size(); ++i) xd.push_back(xshape[i]), yd.push_back(yshape[i]);
  g.input("x", octet::DataType::f32, xd);
  std::vector<int8_t> w;
  std::vector<float> sw;
  fc_weights(N, K, seed, &w, &sw);
  g.constant("w", NdArray::of(octet::DataType::s8, {N, K}, w), octet::test::per_channel(sw));
  std::vector<std::string> ins{"x", "w"};
  if (bias) g.constant("b", octet::test::random_f32({N}, -0.5f, 0.5f, seed + 1)), ins.push_back("b");
  g.tensor("y", octet::DataType::f32, yd);
  nlohmann::json a = act ? nlohmann::json{{"op", act}} : nlohmann::json(nullptr);
  nlohmann::json attrs = nlohmann::json::object();
  if (per_row) attrs["input_quant"] = "per_row";
  g.node("FullyConnected", ins, {"y"}, attrs, "int8_dynamic", a);
  g.output("y");
  return g.build();
}
}  // namespace

// input_quant is checked at load: a value other than per_tensor/per_row, or per_row on a node
// that is not int8_dynamic, is refused naming the node and the attribute.
TEST_CASE("dynamic: input_quant attribute is validated") {
  auto build = [](const char* precision, const char* value) {
    GraphBuilder g;
    g.input("x", octet::DataType::f32, {1, 4});
    g.constant("w", octet::test::random_f32({3, 4}, -1, 1, 1));
    g.tensor("y", octet::DataType::f32, {1, 3});
    g.node("FullyConnected", {"x", "w"}, {"y"}, {{"input_quant", value}}, precision, nullptr, "fc");
    g.output("y");
    return g.build();
  };
  CHECK_NOTHROW(build("float", "per_tensor"));
  CHECK_THROWS_WITH_AS(build("float", "per_row"), doctest::Contains("per_row applies to int8_dynamic"), octet::Error);
  CHECK_THROWS_WITH_AS(build("float", "per_token"), doctest::Contains("input_quant"), octet::Error);
  CHECK_THROWS_WITH_AS(build("float", "per_token"), doctest::Contains("'fc'"), octet::Error);
}

// Per-row input quantization is what makes rows of very different magnitude (tokens) accurate:
// x row 0 in [-100, 100], row 1 in [-0.01, 0.01]. Per tensor, row 1 falls within one step of the
// zero point and its output is mostly quantization noise; per row it keeps 8 bits of its own.
// Measured against the float product of the same s8 weights (reference kernels; the optimized
// ones equal them, above).
TEST_CASE("dynamic: per-row input quantization keeps small rows accurate") {
  const int64_t K = 64, N = 16;
  octet::test::NdArray x = octet::test::random_f32({2, K}, -1, 1, 3);
  for (int64_t k = 0; k < K; ++k) x.as<float>()[k] *= 100.f, x.as<float>()[K + k] *= 0.01f;
  auto rel_err_row1 = [&](bool per_row) {
    auto m = fc_dynamic_model({2, K}, N, false, nullptr, 7, per_row);
    auto y = octet::test::run(m, "reference", {{"x", x}})["y"];
    // The float product with the dequantized weights: the exact answer for these weights.
    std::vector<int8_t> w;
    std::vector<float> sw;
    fc_weights(N, K, 7, &w, &sw);
    double err = 0, norm = 0;
    for (int64_t n = 0; n < N; ++n) {
      double want = 0;
      for (int64_t k = 0; k < K; ++k) want += static_cast<double>(x.as<float>()[K + k]) * w[n * K + k] * sw[n];
      err += std::pow(y.as<float>()[N + n] - want, 2), norm += want * want;
    }
    return std::sqrt(err / norm);
  };
  const double tensor = rel_err_row1(false), row = rel_err_row1(true);
  INFO("relative error of the small row: per tensor " << tensor << ", per row " << row);
  CHECK(row < 0.01);
  CHECK(tensor > 0.2);
}
#endif


#if defined(OCTET_WITH_CONVERTER)

#include "convert.h"
#include "io/io.h"

namespace {
octet::test::NdArray npy(const std::string& p) {
  octet::io::NdArray t = octet::io::read_npy(p);
  return {t.dtype, t.shape, t.bytes};
}

// Converts tests/models/NAME (int8, given --dynamic) into a temporary file; returns the model.
std::shared_ptr<const octet::Model> convert_small(const std::string& name, const std::string& dynamic,
                                                 const std::string& attention_matmul = "float",
                                                 const std::string& dynamic_input = "per-tensor") {
  octet::test::TempDir dir;   // the loaded model keeps its .bin mapped after the files go
  const std::string src = std::string(OCTET_TEST_MODELS) + "/" + name;
  auto o = octet::test::convert_options(src + "/model.onnx", dir.file(name + ".json"), "int8", src + "/calib");
  o.dynamic = dynamic;
  o.attention_matmul = attention_matmul;
  o.dynamic_input = dynamic_input;
  return octet::test::convert_and_load(o);
}
}  // namespace

// Attention (Softmax fed by MatMul) makes --dynamic auto turn every FullyConnected dynamic, and
// nothing static; --dynamic none keeps them static. Output vs PyTorch float: cosine >= 0.9999
// (measured 0.999965 with 8-bit weights; PyTorch quantize_dynamic: qnnpack 0.999968, onednn 0.999934).
TEST_CASE("dynamic: converter makes an attention encoder's FullyConnected nodes int8_dynamic") {
  const std::string dir = std::string(OCTET_TEST_MODELS) + "/encoder_small";
  auto m = convert_small("encoder_small", "auto");
  int fc = 0;
  for (const auto& n : m->nodes()) {
    if (n.op == "FullyConnected") {
      CHECK_MESSAGE(n.precision == "int8_dynamic", n.name);
      ++fc;
    } else {
      CHECK_MESSAGE(n.precision == "float", n.name);
    }
  }
  CHECK(fc == 8);
  // Fusion: 4 decomposed LayerNorms -> LayerNormalization, 2 GELUs -> Gelu fused into their FC.
  int ln = 0, gelu_fc = 0;
  for (const auto& n : m->nodes()) {
    CHECK_MESSAGE(n.op != "Erf", n.name);
    CHECK_MESSAGE(n.op != "ReduceMean", n.name);
    ln += n.op == "LayerNormalization";
    gelu_fc += n.op == "FullyConnected" && n.activation == "Gelu";
  }
  CHECK(ln == 4);
  CHECK(gelu_fc == 2);
  const octet::test::NdArray in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
  for (const std::string& be : {std::string("reference"), std::string("auto")}) {
    auto out = octet::test::run(m, be, {{"input", in}});
    const double c = octet::test::cosine(out.begin()->second, want);
    INFO(be << " cosine " << c);
    CHECK(c >= 0.9999);
  }
  auto s = convert_small("encoder_small", "none");
  for (const auto& n : s->nodes())
    if (n.op == "FullyConnected") CHECK_MESSAGE(n.precision == "int8_static", n.name);
}

// --dynamic-input per-row: every dynamic FullyConnected quantizes its input per row (token), and
// the model gets closer to float (full-size encoder: 0.999909 -> 0.999943, above PyTorch
// quantize_dynamic's 0.999918 with qnnpack).
TEST_CASE("dynamic: --dynamic-input per-row on the encoder") {
  const std::string dir = std::string(OCTET_TEST_MODELS) + "/encoder_small";
  auto t = convert_small("encoder_small", "auto");
  octet::test::TempDir tmp;
  auto o = octet::test::convert_options(dir + "/model.onnx", tmp.file("row.json"), "int8", dir + "/calib");
  o.dynamic_input = "per-row";
  auto r = octet::test::convert_and_load(o);
  int fc = 0;
  const nlohmann::json doc = nlohmann::json::parse(std::ifstream(tmp.file("row.json")));
  for (const auto& n : doc.at("nodes"))
    if (n.at("op") == "FullyConnected") {
      CHECK_MESSAGE(n.at("attrs").value("input_quant", "") == "per_row", n.at("name"));
      ++fc;
    }
  CHECK(fc == 8);
  int per_row = 0, per_row_t = 0;   // what Model::nodes() (and octet inspect) report
  for (const auto& n : r->nodes()) per_row += n.input_per_row;
  for (const auto& n : t->nodes()) per_row_t += n.input_per_row;
  CHECK(per_row == 8);
  CHECK(per_row_t == 0);
  const octet::test::NdArray in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
  for (const std::string& be : {std::string("reference"), std::string("auto")}) {
    const double ct = octet::test::cosine(octet::test::run(t, be, {{"input", in}}).begin()->second, want);
    const double cr = octet::test::cosine(octet::test::run(r, be, {{"input", in}}).begin()->second, want);
    INFO(be << " cosine per tensor " << ct << ", per row " << cr);
    CHECK(cr >= 0.9999);
    CHECK(1 - cr <= 1 - ct);   // closer to float, or as close
  }
}
// --attention-matmul int8: the 4 activation x activation MatMuls (2 layers x {Q K^T, scores V})
// become int8_dynamic and run on the optimized backend; output vs PyTorch float stays >= 0.999
// (measured 0.99991 on the full-size encoder, the same as with float attention). A bad value is
// refused with the option's name.
TEST_CASE("dynamic: --attention-matmul int8 quantizes attention's activation x activation MatMuls") {
  const std::string dir = std::string(OCTET_TEST_MODELS) + "/encoder_small";
  auto m = convert_small("encoder_small", "auto", "int8");
  int mm = 0;
  for (const auto& n : m->nodes())
    if (n.op == "MatMul") {
      CHECK_MESSAGE(n.precision == "int8_dynamic", n.name);
      ++mm;
    }
  CHECK(mm == 4);
  const octet::test::NdArray in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
  for (const std::string& be : octet::test::optimized_backends()) {
    auto ref = octet::test::run(m, "reference", {{"input", in}}).begin()->second;
    auto r = octet::test::run_on(m, be, {{"input", in}}, 1, /*allow_fallback=*/true);
    for (const auto& d : r.dispatch)
      if (be == "onednn" && d.op == "MatMul") CHECK_MESSAGE(d.backend == "onednn", d.node);
    const octet::test::NdArray& out = r.out.begin()->second;
    INFO(be << " cosine vs float " << octet::test::cosine(out, want));
    CHECK(octet::test::cosine(out, want) >= 0.999);
    CHECK(octet::test::cosine(out, ref) >= 0.9999);
  }
  CHECK_THROWS_WITH_AS(convert_small("encoder_small", "auto", "int4"), doctest::Contains("--attention-matmul"), octet::Error);
}
#endif

