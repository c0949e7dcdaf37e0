// A BERT-style export end to end (tests/models/bert_tiny, benchmarks/export_bert_tiny.py): int64
// token ids through Gather embeddings, a padding mask through Equal/Where into -inf scores, the
// tanh form of GELU, Shape-derived reshape targets with a symbolic batch in every layer.
#include <doctest/doctest.h>

#if defined(OCTET_WITH_CONVERTER)   // converts the ONNX model (builds without the converter skip this file)

#include <fstream>
#include <map>
#include <sstream>

#include "convert.h"
#include "io/io.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

namespace {
using octet::test::NdArray;

const std::string kDir = std::string(OCTET_TEST_MODELS) + "/bert_tiny";

std::shared_ptr<const octet::Model> convert_bert(const std::string& precision, nlohmann::json* file = nullptr) {
  octet::test::TempDir dir;   // the loaded model keeps its .bin mapped after the files go
  auto o = octet::test::convert_options(kDir + "/model.onnx", dir.file("bert_" + precision + ".json"), precision,
                                        precision == "int8" ? kDir + "/calib" : "");
  auto m = octet::test::convert_and_load(o);
  if (file) *file = nlohmann::json::parse(std::ifstream(o.output));
  return m;
}

std::map<std::string, NdArray> held_out() {
  std::map<std::string, NdArray> in;
  for (auto& [name, t] : octet::io::read_npz(kDir + "/input.npz")) in[name] = NdArray{t.dtype, t.shape, t.bytes};
  return in;
}

NdArray npy(const std::string& p) {
  octet::io::NdArray t = octet::io::read_npy(p);
  return {t.dtype, t.shape, t.bytes};
}

std::vector<std::string> backends() {
  std::vector<std::string> b{"reference"};
  for (const auto& o : octet::test::optimized_backends()) b.push_back(o);
  return b;
}

// Row r of a [batch, ...] buffer as a batch-1 buffer.
NdArray row(const NdArray& b, int64_t r) {
  NdArray o = b;
  o.shape[0] = 1;
  const size_t n = b.bytes.size() / static_cast<size_t>(b.shape[0]);
  o.bytes.assign(b.bytes.begin() + static_cast<long>(r * n), b.bytes.begin() + static_cast<long>((r + 1) * n));
  return o;
}
}  // namespace

// The converter reads the whole export: no Shape/Range/Erf left, 2 tanh GELUs fused, the mask ops
// kept; float reproduces PyTorch; dynamic int8 keeps cosine >= 0.9999 vs float on every backend
// (measured 0.999977; PyTorch quantize_dynamic on the same input: qnnpack 0.99998, onednn 0.99992).
TEST_CASE("bert_tiny: embeddings, padding mask and tanh GELU convert and run") {
  const std::map<std::string, NdArray> in = held_out();
  const NdArray want = npy(kDir + "/expected.npy");
  nlohmann::json file;
  auto f = convert_bert("float", &file);
  std::map<std::string, int> ops;
  for (const auto& n : f->nodes()) ops[n.op]++;
  CHECK(ops["Gelu"] == 2);
  CHECK(ops["Equal"] == 1);
  CHECK(ops["Where"] == 2);
  CHECK(ops["Gather"] == 2);
  for (const auto& n : f->nodes()) CHECK_MESSAGE(n.op != "Tanh", n.name);   // GELU's Tanh fused; the pooler's is on its FC
  for (const auto& n : file["nodes"])
    if (n["op"] == "Gelu") CHECK(n["attrs"].value("approximate", "") == "tanh");
  for (const std::string& be : backends()) {
    INFO(be);
    CHECK(octet::test::max_rel_diff(octet::test::run(f, be, in)["logits"], want, 1e-3) < 1e-4);
  }

  auto q = convert_bert("int8");
  int dynamic = 0;
  for (const auto& n : q->nodes()) dynamic += n.op == "FullyConnected" && n.precision == "int8_dynamic";
  CHECK(dynamic == 10);
  for (const std::string& be : backends()) {
    const double c = octet::test::cosine(octet::test::run(q, be, in)["logits"], want);
    INFO(be << " cosine " << c);
    CHECK(c >= 0.9999);
  }
}

// Masking means something: changing the ids under the mask leaves that row's logits unchanged
// (float model), and the batch can change between runs (row 0 alone = row 0 of the pair).
TEST_CASE("bert_tiny: padded positions are ignored and the batch may change") {
  auto f = convert_bert("float");
  std::map<std::string, NdArray> in = held_out();
  const NdArray base = octet::test::run(f, "reference", in)["logits"];
  int64_t* ids = reinterpret_cast<int64_t*>(in["input_ids"].bytes.data());
  const int64_t* mask = reinterpret_cast<const int64_t*>(in["attention_mask"].bytes.data());
  const int64_t seq = in["input_ids"].shape[1];
  int changed = 0;
  for (int64_t i = seq; i < 2 * seq; ++i)
    if (mask[i] == 0) ids[i] = 7 + i, ++changed;
  REQUIRE(changed > 0);   // the held-out pair has a padded second row
  const NdArray moved = octet::test::run(f, "reference", in)["logits"];
  CHECK(octet::test::max_rel_diff(moved, base, 1e-4) < 1e-5);
  ids[1] = (ids[1] + 1) % 100 + 1;   // an unmasked id does change row 0
  CHECK(octet::test::max_rel_diff(octet::test::run(f, "reference", in)["logits"], base, 1e-4) > 1e-3);

  const std::map<std::string, NdArray> pair = held_out();
  const std::map<std::string, NdArray> one{{"input_ids", row(pair.at("input_ids"), 0)}, {"attention_mask", row(pair.at("attention_mask"), 0)}};
  const NdArray y1 = octet::test::run(f, "auto", one)["logits"];
  CHECK(octet::test::max_rel_diff(y1, row(base, 0), 1e-4) < 1e-4);
}

#endif  // OCTET_WITH_CONVERTER
