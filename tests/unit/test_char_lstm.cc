// A trained model with a task metric: the character-level LSTM language model of
// tests/models/char_lstm (benchmarks/train_char_lstm.py: perldiag.pod from perl-modules-5.36,
// Embedding -> LSTM -> Linear, int64 token ids in, logits out, symbolic seq and batch). Converted
// to float and to int8 (dynamic LSTM and FullyConnected), run on the held-out windows, scored by
// perplexity of the next character: int8 within 1% of float, float equal to PyTorch's within
// 0.5%, both far below the unigram perplexity. Also the converter pass that makes the model
// convertible: torch's zero initial state of a symbolic batch (Shape -> ConstantOfShape) is
// dropped from LSTM/GRU/RNN, and any other use of such a run-time-shaped fill is refused.
#ifdef OCTET_WITH_CONVERTER
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convert.h"
#include "export.h"
#include "io/io.h"
#include "ir.h"
#include "passes/passes.h"
#include "test_util.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

namespace {

const std::string kCharLstm = std::string(OCTET_TEST_MODELS) + "/char_lstm";

// exp(mean over positions of -log softmax(logits)[next char]); logits [seq, batch, vocab],
// windows [batch, seq + 1] (the model read windows[:, :seq]).
double perplexity(const NdArray& logits, const io::NdArray& windows) {
  REQUIRE(logits.shape.size() == 3);
  const int64_t S = logits.shape[0], B = logits.shape[1], V = logits.shape[2];
  REQUIRE(windows.shape == std::vector<int64_t>{B, S + 1});
  const float* l = logits.as<float>();
  const int64_t* w = windows.as<int64_t>();
  for (int64_t i = 0; i < windows.elements(); ++i)
    if (w[i] < 0 || w[i] >= V) FAIL("heldout.npy has token id " << w[i] << " outside the vocabulary [0, " << V << ")");
  double nll = 0;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t b = 0; b < B; ++b) {
      const float* row = l + (s * B + b) * V;
      double mx = row[0];
      for (int64_t v = 1; v < V; ++v) mx = std::max(mx, double(row[v]));
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(double(row[v]) - mx);
      nll += mx + std::log(sum) - double(row[w[b * (S + 1) + s + 1]]);
    }
  return std::exp(nll / double(S * B));
}

std::string convert_char_lstm(const TempDir& dir, const std::string& precision) {
  auto o = convert_options(kCharLstm + "/model.onnx", dir.file("char_" + precision + ".json"), precision,
                           precision == "int8" ? kCharLstm + "/calib" : "");
  convert_and_load(o);
  return o.output;
}

int count(const std::shared_ptr<const Model>& m, const std::string& op, const std::string& precision) {
  int n = 0;
  for (const auto& s : m->nodes()) n += s.op == op && s.precision == precision;
  return n;
}

// ---- converter IR for the pass test ----
using converter::Constant;
using converter::Dim;

struct Ir {
  converter::Graph g;
  int count = 0;
  void tensor(const std::string& n, std::vector<Dim> shape, DataType dt = DataType::f32) {
    converter::IrTensor t;
    t.name = n, t.dtype = dt, t.shape = std::move(shape), t.shape_known = true;
    g.add_tensor(std::move(t));
  }
  void constant(const std::string& n, Constant c) {
    converter::IrTensor t;
    t.name = n, t.dtype = c.dtype, t.shape_known = true;
    for (int64_t d : c.shape) t.shape.push_back(Dim::fixed(d));
    t.value = std::move(c);
    g.add_tensor(std::move(t));
  }
  void node(const std::string& op, std::vector<std::string> ins, std::vector<std::string> outs, json attrs = json::object()) {
    for (const auto& o : outs)
      if (!o.empty() && !g.has_tensor(o)) {
        converter::IrTensor t;
        t.name = o;
        g.add_tensor(std::move(t));
      }
    converter::Node n;
    n.name = op + "_" + std::to_string(count++);
    n.op = op, n.inputs = std::move(ins), n.outputs = std::move(outs), n.attrs = std::move(attrs), n.origin = {n.name};
    g.nodes.push_back(std::move(n));
  }
};

const int64_t kI = 3, kH = 4;

// x [seq, batch, I] -> LSTM (hidden H) -> Y. With `fill` set, initial_h and initial_c are torch's
// export for a symbolic batch: ConstantOfShape(Concat([1], Unsqueeze(Gather(Shape(x), 1)), [H]))
// with value `fill`, each taken by a Slice over axis 0.
converter::Graph lstm_graph(bool with_state, float fill = 0.f) {
  Ir ir;
  ir.tensor("x", {Dim::sym("seq"), Dim::sym("batch"), Dim::fixed(kI)});
  ir.g.inputs = {"x"};
  ir.constant("W", Constant::of_floats({1, 4 * kH, kI}, random_floats(4 * kH * kI, -0.5f, 0.5f, 1)));
  ir.constant("R", Constant::of_floats({1, 4 * kH, kH}, random_floats(4 * kH * kH, -0.5f, 0.5f, 2)));
  ir.constant("B", Constant::of_floats({1, 8 * kH}, random_floats(8 * kH, -0.2f, 0.2f, 3)));
  std::vector<std::string> ins = {"x", "W", "R", "B"};
  if (with_state) {
    ir.constant("one", Constant::of_ints({}, {1}));
    ir.constant("axes0", Constant::of_ints({1}, {0}));
    ir.constant("dirs", Constant::of_ints({1}, {1}));
    ir.constant("hid", Constant::of_ints({1}, {kH}));
    ir.constant("s0", Constant::of_ints({1}, {0}));
    ir.constant("e1", Constant::of_ints({1}, {1}));
    ir.node("Shape", {"x"}, {"shape"});
    ir.node("Gather", {"shape", "one"}, {"batch"}, {{"axis", 0}});
    ir.node("Unsqueeze", {"batch", "axes0"}, {"batch1"});
    ir.node("Concat", {"dirs", "batch1", "hid"}, {"state_shape"}, {{"axis", 0}});
    ir.node("ConstantOfShape", {"state_shape"}, {"zeros"}, {{"value", fill}});
    ir.node("Slice", {"zeros", "s0", "e1", "axes0"}, {"h0"});
    ir.node("Slice", {"zeros", "s0", "e1", "axes0"}, {"c0"});
    ins.insert(ins.end(), {"", "h0", "c0"});
    for (const char* t : {"shape", "batch", "batch1", "state_shape"}) ir.g.tensor(t).dtype = DataType::i64;   // as ONNX types them
  }
  ir.tensor("Y", {Dim::sym("seq"), Dim::fixed(1), Dim::sym("batch"), Dim::fixed(kH)});
  ir.node("LSTM", ins, {"Y", "", ""}, {{"hidden_size", kH}});
  ir.g.outputs = {"Y"};
  ir.g.opset = 14;
  return std::move(ir.g);
}


}  // namespace

TEST_CASE("fold_constants: torch's zero initial state of a symbolic batch is dropped from LSTM; same outputs at any batch") {
  converter::Graph with = lstm_graph(true), plain = lstm_graph(false);
  converter::PassStats stats, plain_stats;
  auto m = lower_and_load(with, stats);
  auto ref = lower_and_load(plain, plain_stats);
  int dropped = 0;
  for (const auto& [what, n] : stats.counts)
    if (what == "run-time-shaped zero initial states dropped (LSTM)") dropped += n;
  CHECK(dropped == 2);
  REQUIRE(m->nodes().size() == 1);   // only the LSTM is left: the state subgraph is gone
  CHECK(m->nodes()[0].op == "LSTM");
  CHECK(m->nodes()[0].inputs.size() == 4);
  for (int64_t batch : {1, 3}) {
    NdArray x = random_f32({5, batch, kI}, -1, 1, 10 + uint32_t(batch));
    NdArray got = run(m, "reference", {{"x", x}}).at("Y"), want = run(ref, "reference", {{"x", x}}).at("Y");
    REQUIRE(got.shape == std::vector<int64_t>{5, 1, batch, kH});
    CHECK(got.bytes == want.bytes);
  }
}

TEST_CASE("fold_constants: a run-time-shaped fill that is not a zero recurrent state runs at run time, as the same constant would") {
  converter::Graph g = lstm_graph(true, 0.5f);
  converter::PassStats stats;
  auto m = lower_and_load(g, stats);
  bool fill = false;
  for (const auto& n : m->nodes()) fill = fill || n.op == "ConstantOfShape";
  CHECK(fill);   // the 0.5 initial state is no omitted input: the runtime makes it per batch
  for (int64_t batch : {1, 3}) {
    // The same LSTM with initial_h = initial_c = 0.5 as constants of this batch.
    converter::Graph fixed = lstm_graph(false);
    fixed.tensor("x").shape[1] = converter::Dim::fixed(batch);
    fixed.tensor("Y").shape[2] = converter::Dim::fixed(batch);
    const std::vector<float> half(static_cast<size_t>(batch * kH), 0.5f);
    const std::string h0 = fixed.add_constant("h0", converter::Constant::of_floats({1, batch, kH}, half));
    const std::string c0 = fixed.add_constant("c0", converter::Constant::of_floats({1, batch, kH}, half));
    fixed.nodes.back().inputs.insert(fixed.nodes.back().inputs.end(), {"", h0, c0});
    converter::PassStats fixed_stats;
    auto ref = lower_and_load(fixed, fixed_stats);
    NdArray x = random_f32({5, batch, kI}, -1, 1, 20 + uint32_t(batch));
    NdArray got = run(m, "reference", {{"x", x}}).at("Y"), want = run(ref, "reference", {{"x", x}}).at("Y");
    REQUIRE(got.shape == std::vector<int64_t>{5, 1, batch, kH});
    CHECK(got.bytes == want.bytes);
  }
}

TEST_CASE("char_lstm: int8 perplexity within 1% of float; float matches PyTorch within 0.5%") {
  const json metrics = json::parse(std::ifstream(kCharLstm + "/metrics.json"));
  const double torch_float = metrics.at("perplexity").at("float").get<double>();
  const double unigram = metrics.at("perplexity").at("unigram").get<double>();
  const io::NdArray windows = io::read_npy(kCharLstm + "/heldout.npy");
  REQUIRE(windows.dtype == DataType::i64);
  REQUIRE(windows.shape.size() == 2);
  const int64_t B = windows.shape[0], S = windows.shape[1] - 1;
  // All windows as one batch: tokens [S, B] = windows[:, :S] transposed.
  std::vector<int64_t> tokens(size_t(S * B));
  for (int64_t s = 0; s < S; ++s)
    for (int64_t b = 0; b < B; ++b) tokens[size_t(s * B + b)] = windows.as<int64_t>()[b * (S + 1) + s];
  const NdArray input = NdArray::of<int64_t>(DataType::i64, {S, B}, tokens);

  TempDir dir;
  auto float_model = Model::load(convert_char_lstm(dir, "float"));
  auto int8_model = Model::load(convert_char_lstm(dir, "int8"));
  CHECK(count(int8_model, "LSTM", "int8_dynamic") == 1);
  CHECK(count(int8_model, "FullyConnected", "int8_dynamic") == 1);
  CHECK(count(int8_model, "Gather", "int8_static") == 1);   // the embedding table stored in 8 bits
  // The issue's size bar: at most 0.27x the float ONNX, JSON and .bin together (per-row scales
  // in bf16 in the .bin and the summed LSTM bias are what bring this small model under it).
  const auto bytes = [&](const std::string& f) { return static_cast<double>(std::filesystem::file_size(f)); };
  const double ratio = (bytes(dir.file("char_int8.json")) + bytes(dir.file("char_int8.bin"))) / bytes(kCharLstm + "/model.onnx");
  MESSAGE("int8 files / float ONNX: " << ratio);
  CHECK(ratio <= 0.27);

  const double fp = perplexity(run(float_model, "auto", {{"tokens", input}}).at("logits"), windows);
  const double q = perplexity(run(int8_model, "auto", {{"tokens", input}}).at("logits"), windows);
  const double q_ref = perplexity(run(int8_model, "reference", {{"tokens", input}}).at("logits"), windows);
  MESSAGE("perplexity on " << B << " windows of " << S << ": octet float " << fp << ", int8 " << q << " (reference kernels "
                           << q_ref << "), PyTorch float " << torch_float << ", unigram " << unigram);
  CHECK(std::fabs(fp - torch_float) <= 0.005 * torch_float);
  CHECK(std::fabs(q - fp) <= 0.01 * fp);
  CHECK(std::fabs(q_ref - fp) <= 0.01 * fp);
  // The model has learned something: far better than the training-set character frequencies.
  CHECK(fp < 0.5 * unigram);
  CHECK(q < 0.5 * unigram);
}

#endif  // OCTET_WITH_CONVERTER
