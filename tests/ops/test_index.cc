// Values and refusals of the indexing ops and losses that the every-op walk cannot see (it checks
// backends against the reference; here the reference itself is checked against ONNX's
// definitions): GatherElements' index bounds, TopK's tie order, OneHot's out-of-range rows,
// the losses' ignore_index and bad targets, NonZero and NonMaxSuppression (outputs sized by values).
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;

namespace {
NdArray ints(std::vector<int64_t> shape, std::vector<int64_t> v) { return NdArray::of(DataType::i64, std::move(shape), v); }
NdArray floats(std::vector<int64_t> shape, std::vector<float> v) { return NdArray::of(DataType::f32, std::move(shape), v); }

// Runs the tester's model on the reference backend; returns output `k`.
NdArray run(const OpTester& t, size_t k = 0) {
  BuiltCase b = t.build();
  SessionOptions so;
  so.backend = "reference";
  Session s(b.model, so);
  for (const auto& [name, v] : b.inputs) s.set_input(name, TensorView{v.dtype, v.shape, const_cast<uint8_t*>(v.bytes.data())});
  s.run();
  const TensorView y = s.output(b.model->outputs()[k].name);
  NdArray r{y.dtype, y.shape, {}};
  r.bytes.assign(static_cast<const uint8_t*>(y.data), static_cast<const uint8_t*>(y.data) + y.bytes());
  return r;
}

std::string error_of(const OpTester& t) {
  try {
    run(t);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("GatherElements: negative indices count from the end; out of range is an error naming the node") {
  OpTester t(OpKind::GatherElements);
  t.input(floats({2, 3}, {1, 2, 3, 4, 5, 6})).input(ints({2, 2}, {-1, 0, 2, -3})).attrs({{"axis", 1}}).output(DataType::f32);
  const NdArray y = run(t);
  CHECK(std::vector<float>(y.as<float>(), y.as<float>() + 4) == std::vector<float>{3, 1, 6, 4});
  OpTester bad(OpKind::GatherElements);
  bad.input(floats({2, 3}, {1, 2, 3, 4, 5, 6})).input(ints({2, 1}, {0, 3})).attrs({{"axis", 1}}).output(DataType::f32);
  const std::string e = error_of(bad);
  CHECK(e.find("GatherElements") != std::string::npos);
  CHECK(e.find("index 3 is outside [-3, 3)") != std::string::npos);
}

TEST_CASE("TopK: ties go to the lower index, largest and smallest") {
  for (int largest : {1, 0}) {
    OpTester t(OpKind::TopK);
    t.input(floats({1, 6}, {2, 5, 2, 5, 1, 1})).attrs({{"k", 3}, {"axis", 1}, {"largest", largest}});
    t.output(DataType::f32).output(DataType::i64);
    const NdArray v = run(t, 0), i = run(t, 1);
    INFO("largest " << largest);
    if (largest) {
      CHECK(std::vector<float>(v.as<float>(), v.as<float>() + 3) == std::vector<float>{5, 5, 2});
      CHECK(std::vector<int64_t>(i.as<int64_t>(), i.as<int64_t>() + 3) == std::vector<int64_t>{1, 3, 0});
    } else {
      CHECK(std::vector<float>(v.as<float>(), v.as<float>() + 3) == std::vector<float>{1, 1, 2});
      CHECK(std::vector<int64_t>(i.as<int64_t>(), i.as<int64_t>() + 3) == std::vector<int64_t>{4, 5, 0});
    }
  }
}

TEST_CASE("OneHot: a negative index counts from depth; one outside [-depth, depth) is a row of off values") {
  OpTester t(OpKind::OneHot);
  t.input(ints({3}, {1, -1, 7})).none().input(floats({2}, {0, 9})).attrs({{"depth", 3}, {"axis", -1}}).output(DataType::f32);
  const NdArray y = run(t);
  CHECK(std::vector<float>(y.as<float>(), y.as<float>() + 9) == std::vector<float>{0, 9, 0, 0, 0, 9, 0, 0, 0});
}

TEST_CASE("losses: ignore_index drops the element from the mean; a target outside [0, C) is an error") {
  // input [N=2, C=3] of log-probabilities; targets 2 and (ignored) 1; weights.
  OpTester t(OpKind::NegativeLogLikelihoodLoss);
  t.input(floats({2, 3}, {-1, -2, -3, -4, -5, -6})).input(ints({2}, {2, 1})).constant(floats({3}, {1, 1, 0.5f}));
  t.attrs({{"reduction", "mean"}, {"ignore_index", 1}}).output(DataType::f32).symbolic_batch(false);
  const NdArray y = run(t);
  CHECK(*y.as<float>() == doctest::Approx(3.0));   // (0.5 * 3) / 0.5
  OpTester bad(OpKind::NegativeLogLikelihoodLoss);
  bad.input(floats({2, 3}, {-1, -2, -3, -4, -5, -6})).input(ints({2}, {2, 3})).attrs({{"reduction", "sum"}}).output(DataType::f32).symbolic_batch(false);
  const std::string e = error_of(bad);
  CHECK(e.find("NegativeLogLikelihoodLoss") != std::string::npos);
  CHECK(e.find("target 3 is outside [0, 3)") != std::string::npos);
}

TEST_CASE("integer Div and Mod: by zero and lowest / -1 give defined values, never a trap") {
  const int32_t lo = std::numeric_limits<int32_t>::lowest();
  for (OpKind op : {OpKind::Div, OpKind::Mod}) {
    OpTester t(op);
    t.input(NdArray::of(DataType::s32, {4}, std::vector<int32_t>{lo, 7, -7, 5}))
        .input(NdArray::of(DataType::s32, {4}, std::vector<int32_t>{-1, 0, 2, -3})).output(DataType::s32).symbolic_batch(false);
    const NdArray y = run(t);
    const std::vector<int32_t> got(y.as<int32_t>(), y.as<int32_t>() + 4);
    INFO(op_name(op));
    if (op == OpKind::Div) CHECK(got == std::vector<int32_t>{lo, 0, -3, -1});   // wraps, 0, truncates
    else CHECK(got == std::vector<int32_t>{0, 0, 1, -1});                        // Python's sign rule (fmod=0)
  }
}

// NonZero's and NonMaxSuppression's outputs are sized by the values (OpSpec::value_shaped): one
// session run on inputs whose count differs gives each run's own shape, and what reads the
// output (a Transpose here) follows it.
TEST_CASE("NonZero: coordinates in row-major order, sized by the values, run after run in one session") {
  OpTester t(OpKind::NonZero);
  t.input(floats({2, 3}, {0, 1.5f, 0, -2, 0, NAN})).output(DataType::i64).symbolic_batch(false);
  BuiltCase b = t.build();
  SessionOptions so;
  so.backend = "reference";
  Session s(b.model, so);
  const std::string in = b.model->inputs()[0].name, out = b.model->outputs()[0].name;
  struct Run {
    std::vector<float> x;
    std::vector<int64_t> want_shape, want;
  };
  for (const Run& r : {Run{{0, 1.5f, 0, -2, 0, NAN}, {2, 3}, {0, 1, 1, 1, 0, 2}},   // NaN is not 0
                       Run{{0, 0, 0, 0, 0, 0}, {2, 0}, {}},
                       Run{{1, 1, 1, 1, 1, 1}, {2, 6}, {0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2}},
                       Run{{0, 0, 0, 0, 0, 7}, {2, 1}, {1, 2}}}) {
    s.set_input(in, TensorView{DataType::f32, {2, 3}, const_cast<float*>(r.x.data())});
    s.run();
    const TensorView y = s.output(out);
    REQUIRE(y.shape == r.want_shape);
    const int64_t* v = static_cast<const int64_t*>(y.data);
    CHECK(std::vector<int64_t>(v, v + r.want.size()) == r.want);
  }
}

TEST_CASE("NonMaxSuppression: ONNX Runtime's rules (score order, IoU above the threshold suppresses, per-class limit)") {
  // Class 0: box 0 (score 0.9) suppresses box 1 (IoU 0.68 > 0.5); box 2 (disjoint) is kept;
  // box 3 is below score_threshold. Class 1: only 2 boxes per class; box 3 first (0.95).
  OpTester t(OpKind::NonMaxSuppression);
  t.input(floats({1, 4, 4}, {0, 0, 1, 1, /**/ 0.1f, 0, 1.1f, 1, /**/ 5, 5, 6, 6, /**/ 2, 2, 3, 3}));
  t.input(floats({1, 2, 4}, {0.9f, 0.8f, 0.7f, 0.1f, /**/ 0.5f, 0.6f, 0.4f, 0.95f}));
  t.constant(ints({}, {2})).constant(floats({}, {0.5f})).constant(floats({}, {0.2f}));
  t.output(DataType::i64).symbolic_batch(false);
  const NdArray y = run(t);
  REQUIRE(y.shape == std::vector<int64_t>{4, 3});
  CHECK(std::vector<int64_t>(y.as<int64_t>(), y.as<int64_t>() + 12) == std::vector<int64_t>{0, 0, 0, 0, 0, 2, 0, 1, 3, 0, 1, 1});
  OpTester bad(OpKind::NonMaxSuppression);
  bad.input(floats({1, 1, 4}, {0, 0, 1, 1})).input(floats({1, 1, 1}, {1})).constant(ints({}, {1})).constant(floats({}, {1.5f}));
  bad.output(DataType::i64).symbolic_batch(false);
  CHECK(error_of(bad).find("iou_threshold 1.5") != std::string::npos);
}
