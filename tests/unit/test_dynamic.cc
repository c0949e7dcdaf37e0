// Dynamic int8 building blocks: octet's packed u8 x s8 GEMM (kernels/x86/gemm_u8s8.h) against
// a plain integer loop, over shapes that exercise every tail (N not a multiple of 8 or 32, K not
// a multiple of 4, M not a multiple of 4, two threads), with 8-bit weights (exact on AVX2).
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

TEST_CASE("dynamic: packed u8 x s8 GEMM equals the integer loop") {
  if (!octet::x86::cpu_has_avx2()) {
    MESSAGE("SKIPPED: this CPU has no AVX2 + FMA, so octet's u8 x s8 GEMM never runs here");
    return;
  }
  std::mt19937 rng(7);
  // Both instruction sets where the CPU has VNNI.
  for (bool vnni : {false, true}) {
  if (vnni && !octet::x86::cpu_has_vnni()) {
    MESSAGE("SKIPPED: the AVX-512 VNNI path (this CPU has no VNNI)");
    break;
  }
  const octet::x86::GemmIsa isa = vnni ? octet::x86::GemmIsa::Vnni : octet::x86::GemmIsa::Avx2;
  for (int64_t N : {1, 8, 13, 40, 67, 96, 257}) {
    for (int64_t K : {1, 4, 7, 64, 130}) {
      std::vector<int8_t> w(N * (K + 3));
      for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);   // 8-bit: [-127, 127]
      w[0] = -127, w[std::min<int64_t>(1, K - 1)] = -127;   // the pair vpmaddubsw would saturate with x = 255
      const int64_t ldw = K + 3;
      octet::x86::PackedU8S8 p(w.data(), N, K, ldw, isa);
      for (int64_t M : {1, 2, 3, 4, 5, 9}) {
        for (int threads : {1, 2}) {
          const int64_t ldx = K + 1, ldy = N + 2;
          std::vector<uint8_t> x(M * ldx + 4);
          for (auto& v : x) v = static_cast<uint8_t>(rng() & 255);
          x[0] = 255;
          std::vector<int32_t> y(M * ldy, -7);
          p.gemm(x.data(), M, ldx, y.data(), ldy, threads);
          bool ok = true;
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              int32_t want = 0;
              for (int64_t k = 0; k < K; ++k) want += int32_t(x[m * ldx + k]) * w[n * ldw + k];
              ok = ok && y[m * ldy + n] == want;
            }
          for (int64_t m = 0; m < M; ++m) ok = ok && y[m * ldy + N] == -7 && y[m * ldy + N + 1] == -7;   // untouched
          INFO("N " << N << " K " << K << " M " << M << " threads " << threads << " vnni " << vnni);
          CHECK(ok);
        }
      }
      int32_t s0 = 0;
      for (int64_t k = 0; k < K; ++k) s0 += w[k];
      CHECK(p.row_sums()[0] == s0);
      CHECK(p.isa() == isa);
    }
  }
  }
}
#endif

#if defined(OCTET_WITH_ONEDNN) || defined(OCTET_WITH_XNNPACK)
namespace {
using octet::test::Buffer;
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
  g.constant("w", Buffer::of(octet::DataType::s8, {N, K}, w), octet::test::per_channel(sw));
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

// The optimized kernel computes the same integers as the reference and the same float steps
// (scale product, then bias; the compiler may fuse the two into one FMA): outputs agree within a
// few float ulps of the result. NaN in X: the scale comes from the finite values (documented).
TEST_CASE("dynamic: int8_dynamic FullyConnected matches the reference") {
  for (const std::string& be : octet::test::optimized_backends())
  for (bool per_row : {false, true}) {
    struct C { std::vector<int64_t> x; int64_t N; bool bias; const char* act; };
    for (const C& c : {C{{1, 64}, 40, true, nullptr}, C{{3, 7, 33}, 13, false, "Relu"}, C{{2, 128}, 96, true, "Gelu"},
                       C{{1, 5, 256}, 300, true, nullptr},
                       // 128 rows: oneDNN's own GEMM on VNNI CPUs (FcDynamic::kLargeRows)
                       C{{2, 64, 96}, 40, true, "Gelu"}, C{{1, 130, 33}, 17, false, nullptr},
                       // more than 32768 outputs: the epilogue on two threads, by rows, and by
                       // column ranges when there are fewer rows than threads
                       C{{40, 64}, 1000, true, "Gelu"}, C{{1, 64}, 33000, true, "Gelu"}}) {
      INFO(be << " N " << c.N << " K " << c.x.back() << " per_row " << per_row);
      auto m = fc_dynamic_model(c.x, c.N, c.bias, c.act, 11, per_row);
      std::map<std::string, Buffer> in{{"x", octet::test::random_f32(c.x, -2, 3, 5)}};
      // Each backend runs the node itself (XNNPACK's on octet's simd kernel, which must equal the
      // reference bit for bit; oneDNN's GELU is a polynomial, hence the 1e-5).
      auto check = [&](int threads) {
        auto want = octet::test::run(m, "reference", in, threads)["y"], got = octet::test::run_strict(m, be, in, threads)["y"];
        CHECK(octet::test::max_rel_diff(got, want, 1.0) < 1e-5);
        if (be == "xnnpack") CHECK(got.bytes == want.bytes);
      };
      for (int threads : {1, 2}) check(threads);
      in["x"].as<float>()[1] = std::numeric_limits<float>::quiet_NaN();
      in["x"].as<float>()[7] = std::numeric_limits<float>::infinity();
      check(1);
    }
  }
}

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
  octet::test::Buffer x = octet::test::random_f32({2, K}, -1, 1, 3);
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

#if defined(OCTET_WITH_ONEDNN)
// LayerNormalization and Softmax over the last axis on the optimized backend vs the reference
// (double accumulation there, float over 8 lanes here): max |diff| / (|ref| + 1) < 1e-5.
TEST_CASE("dynamic: LayerNormalization and Softmax kernels match the reference") {
  using octet::test::Buffer;
  for (int64_t len : {5, 32, 100, 768}) {
    for (const char* op : {"LayerNormalization", "Softmax"}) {
      INFO(op << " len " << len);
      octet::test::GraphBuilder g;
      g.input("x", octet::DataType::f32, {3, 4, len});
      std::vector<std::string> ins{"x"};
      nlohmann::json attrs = {{"axis", -1}};
      if (std::string(op) == "LayerNormalization") {
        g.constant("s", octet::test::random_f32({len}, 0.5f, 1.5f, 3));
        g.constant("b", octet::test::random_f32({len}, -1, 1, 4));
        ins = {"x", "s", "b"};
        attrs["epsilon"] = 1e-5;
      }
      g.tensor("y", octet::DataType::f32, {3, 4, len});
      g.node(op, ins, {"y"}, attrs);
      g.output("y");
      auto m = g.build();
      std::map<std::string, Buffer> in{{"x", octet::test::random_f32({3, 4, len}, -4, 6, 9)}};
      for (int threads : {1, 2}) {
        auto want = octet::test::run(m, "reference", in, threads)["y"], got = octet::test::run_strict(m, "onednn", in, threads)["y"];
        CHECK(octet::test::max_rel_diff(got, want, 1.0) < 1e-5);
      }
    }
  }
}
#endif

#if defined(OCTET_WITH_CONVERTER)

#include "convert.h"
#include "io/io.h"

namespace {
octet::test::Buffer npy(const std::string& p) {
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
  const octet::test::Buffer in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
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
  const octet::test::Buffer in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
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
  const octet::test::Buffer in = npy(dir + "/input.npy"), want = npy(dir + "/expected.npy");
  for (const std::string& be : octet::test::optimized_backends()) {
    auto ref = octet::test::run(m, "reference", {{"input", in}}).begin()->second;
    auto r = octet::test::run_on(m, be, {{"input", in}}, 1, /*allow_fallback=*/true);
    for (const auto& d : r.dispatch)
      if (be == "onednn" && d.op == "MatMul") CHECK_MESSAGE(d.backend == "onednn", d.node);
    const octet::test::Buffer& out = r.out.begin()->second;
    INFO(be << " cosine vs float " << octet::test::cosine(out, want));
    CHECK(octet::test::cosine(out, want) >= 0.999);
    CHECK(octet::test::cosine(out, ref) >= 0.9999);
  }
  CHECK_THROWS_WITH_AS(convert_small("encoder_small", "auto", "int4"), doctest::Contains("--attention-matmul"), octet::Error);
}
#endif

#if defined(OCTET_WITH_ONEDNN)
// The optimized int8_dynamic MatMul (matmul_dynamic.cc) computes the reference's integers and
// float step: bit-identical outputs (max relative difference < 1e-6 allows only the last ulp),
// with batch broadcasting, K and N tails, a fused Relu, 1 and 2 threads, and a NaN in B (code 0).
TEST_CASE("dynamic: int8_dynamic MatMul of two activations matches the reference") {
  struct C { std::vector<int64_t> a, b; const char* act; };
  for (const C& c : {C{{5, 7}, {7, 3}, nullptr}, C{{2, 3, 9, 17}, {2, 3, 17, 13}, "Relu"}, C{{2, 3, 9, 17}, {17, 40}, nullptr},
                     C{{12, 16, 64}, {12, 64, 16}, nullptr}, C{{1, 4, 8, 33}, {3, 1, 33, 9}, nullptr}}) {
    std::vector<int64_t> y;
    {
      const size_t r = std::max(c.a.size(), c.b.size());
      std::vector<int64_t> pa(r - c.a.size(), 1), pb(r - c.b.size(), 1);
      pa.insert(pa.end(), c.a.begin(), c.a.end());
      pb.insert(pb.end(), c.b.begin(), c.b.end());
      for (size_t d = 0; d + 2 < r; ++d) y.push_back(std::max(pa[d], pb[d]));
      y.push_back(pa[r - 2]);
      y.push_back(pb[r - 1]);
    }
    GraphBuilder g;
    GraphBuilder::Dims ad(c.a.begin(), c.a.end()), bd(c.b.begin(), c.b.end()), yd(y.begin(), y.end());
    g.input("a", octet::DataType::f32, ad);
    g.input("b", octet::DataType::f32, bd);
    g.tensor("y", octet::DataType::f32, yd);
    nlohmann::json act = c.act ? nlohmann::json{{"op", c.act}} : nlohmann::json(nullptr);
    g.node("MatMul", {"a", "b"}, {"y"}, nlohmann::json::object(), "int8_dynamic", act);
    g.output("y");
    auto m = g.build();
    std::map<std::string, Buffer> in{{"a", octet::test::random_f32(c.a, -1, 3, 3)}, {"b", octet::test::random_f32(c.b, -2, 2, 4)}};
    INFO("a " << c.a.size() << "-d, K " << c.a.back() << ", N " << c.b.back());
    for (int threads : {1, 2}) {
      auto want = octet::test::run(m, "reference", in, threads)["y"], got = octet::test::run_strict(m, "onednn", in, threads)["y"];
      CHECK(octet::test::max_rel_diff(got, want, 1.0) < 1e-6);
    }
    in["b"].as<float>()[1] = std::numeric_limits<float>::quiet_NaN();
    auto want = octet::test::run(m, "reference", in)["y"], got = octet::test::run_strict(m, "onednn", in)["y"];
    CHECK(octet::test::max_rel_diff(got, want, 1.0) < 1e-6);
  }
}
#endif
