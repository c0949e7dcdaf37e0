#include "op_examples.h"

#include <cmath>
#include <random>

#include "op_cases.h"

namespace octet::test {

namespace {

using nlohmann::json;
constexpr Precision F = Precision::Float, S = Precision::Int8Static, D = Precision::Int8Dynamic;
const Q8 kX = Q8{DataType::u8, 37, 0.03f};   // activations: u8 codes, zero point off the edge

NdArray i64(std::vector<int64_t> shape, int64_t hi, uint32_t seed) {
  std::mt19937 rng(seed);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int64_t>(rng() % static_cast<uint32_t>(hi));
  return NdArray::of(DataType::i64, std::move(shape), v);
}

// One input of kX codes (float precision: their real values) -> one output.
OpTester unary(OpKind op, json attrs = json::object()) {
  OpTester t(op);
  t.input({2, 5, 7, 3}, kX).attrs(std::move(attrs)).output(DataType::u8);
  return t;
}

// Ops on positive reals only: float inputs in [0.1, 8] (the int8 form sees code 37 as 0).
OpTester positive_unary(OpKind op) {
  OpTester t(op);
  t.input({2, 5, 7, 3}, 0.1f, 8.f).output(DataType::f32);
  return t;
}

// Ops on a bounded domain (Asin on [-1, 1], Acosh on [1, inf), Tan between its poles): float
// inputs inside it. Their int8 examples take the codes; outside the domain the table holds the
// lowest code (NaN saturates there), the same in every implementation.
OpTester bounded_unary(OpKind op, float lo, float hi) {
  OpTester t(op);
  t.input({2, 5, 7, 3}, lo, hi).output(DataType::f32);
  return t;
}

// The int8 form of an op on [-1, 1]: codes whose real values stay inside.
OpTester unit_interval_unary(OpKind op) {
  OpTester t(op);
  t.input({2, 5, 7, 3}, Q8{DataType::u8, 128, 1.f / 130}).output(DataType::u8);
  return t;
}

NdArray booleans(std::vector<int64_t> shape, uint32_t seed) {
  NdArray b = random_q8(DataType::u8, std::move(shape), seed);
  b.dtype = DataType::boolean;
  for (auto& x : b.bytes) x &= 1;
  return b;
}

OpTester binary(OpKind op) {
  BinaryCase c;
  c.op = op_name(op), c.a = {2, 4, 4, 8}, c.b = {1, 1, 1, 8}, c.act = "Relu";
  if (op == OpKind::Mul) c.qa.zero_point = 0, c.qb.zero_point = 0;
  else c.qa.zero_point = 100, c.qb.zero_point = 30;
  return binary_tester(c, 3);
}

OpTester float_binary(OpKind op, float blo, float bhi) {
  OpTester t(op);
  t.input({2, 4, 4, 8}, op == OpKind::Pow ? 0.5f : -3.f, 3.f).input({1, 1, 1, 8}, blo, bhi).output(DataType::f32);
  return t;
}

// A recurrent node: X [S=4, B=2, I=3], hidden 5, one direction; W and R f32, or s8 per gate row
// for int8_dynamic; bias f32. Outputs Y, Y_h (and Y_c for LSTM).
OpTester recurrent(OpKind op, bool dynamic) {
  const int64_t G = op == OpKind::LSTM ? 4 : op == OpKind::GRU ? 3 : 1, S = 4, B = 2, I = 3, H = 5;
  const float k = 1.f / std::sqrt(static_cast<float>(H));
  auto weights = [&](int64_t K, uint32_t seed) {
    const auto f = random_floats(static_cast<size_t>(G * H * K), -k, k, seed);
    if (!dynamic) return std::make_pair(NdArray::of(DataType::f32, {1, G * H, K}, f), QuantInfo{});
    std::vector<int8_t> q(f.size());
    std::vector<float> scales(static_cast<size_t>(G * H));
    for (int64_t r = 0; r < G * H; ++r) {
      float m = 0;
      for (int64_t j = 0; j < K; ++j) m = std::max(m, std::fabs(f[r * K + j]));
      scales[r] = m / 127;
      for (int64_t j = 0; j < K; ++j) q[r * K + j] = static_cast<int8_t>(std::nearbyint(f[r * K + j] / scales[r]));
    }
    return std::make_pair(NdArray::of(DataType::s8, {G * H, K}, q), per_channel(scales, 0));
  };
  OpTester t(op);
  t.input({S, B, I}, -1.f, 1.f);
  auto [w, qw] = weights(I, 5);
  auto [r, qr] = weights(H, 6);
  t.constant(w, qw).constant(r, qr).constant(random_f32({1, 2 * G * H}, -k, k, 7));
  json attrs{{"hidden_size", H}};
  if (op == OpKind::GRU) attrs["linear_before_reset"] = 1;
  t.attrs(attrs).output(DataType::f32).output(DataType::f32);
  if (op == OpKind::LSTM) t.output(DataType::f32);
  return t;
}

OpTester conv() {
  ConvCase c;
  c.C = 8, c.O = 12, c.act = "Relu", c.x = kX, c.w = kSevenBit;   // 7-bit: oneDNN's own kernels on any ISA
  return conv_tester(c, 5);
}

OpTester conv_transpose() {
  OpTester t(OpKind::ConvTranspose);
  t.seed(5).input({1, 5, 5, 4}, kX).weights({6, 3, 3, 4}, kSevenBit).bias();
  t.attrs({{"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"output_padding", {1, 1}}, {"dilations", {1, 1}}, {"group", 1}});
  return t.activation("Relu").output(DataType::u8);
}

OpTester fully_connected() {
  FcCase c;
  c.xshape = {3, 40}, c.N = 24, c.x = kX, c.w = kSevenBit, c.act = "Relu";
  return fc_tester(c, 5);
}

OpTester matmul() {
  OpTester t(OpKind::MatMul);
  return t.seed(5).input({2, 5, 16}, kX).scaled_input({2, 16, 9}, Q8{DataType::s8, 0, 0.02f}).output(DataType::u8);
}

OpTester pool(const char* op) {
  PoolCase c;
  c.op = op, c.x = kX;
  return pool_tester(c, 5);
}

OpTester concat() {
  OpTester t(OpKind::Concat);
  return t.input({2, 3, 3, 5}, kX).input({2, 3, 3, 7}, kX).attrs({{"axis", 3}}).output(DataType::u8, per_tensor(kX.scale, kX.zero_point));
}

OpTester split() {
  OpTester t(OpKind::Split);
  return t.input({2, 6, 4}, kX).attrs({{"axis", 1}, {"split", {2, 4}}}).output(DataType::u8).output(DataType::u8);
}

OpTester one_input(OpKind op, std::vector<int64_t> shape, json attrs) {
  OpTester t(op);
  return t.input(std::move(shape), kX).attrs(std::move(attrs)).output(DataType::u8);
}

OpTester gather() {
  OpTester t(OpKind::Gather);
  return t.input({5, 4, 3}, kX).input(i64({3}, 5, 8)).attrs({{"axis", 0}}).output(DataType::u8);
}

OpTester cast() {
  OpTester t(OpKind::Cast);
  return t.input({2, 3, 4}, -30.f, 30.f).attrs({{"to", "i64"}}).output(DataType::i64);
}

OpTester where() {
  OpTester t(OpKind::Where);
  return t.input(booleans({2, 3, 4}, 9)).input({2, 3, 4}, -3.f, 3.f).input({2, 3, 4}, -3.f, 3.f).output(DataType::f32);
}

OpTester equal() {
  OpTester t(OpKind::Equal);
  // Three values each: about a third equal. Two distinct outputs (a mask) by nature.
  return t.input(i64({2, 6}, 3, 10)).input(i64({2, 6}, 3, 11)).output(DataType::boolean).narrow_output_ok();
}

// Comparisons on integers with broadcasting (about a third equal); logic ops on booleans.
OpTester compare(OpKind op) {
  OpTester t(op);
  if (op == OpKind::And || op == OpKind::Or || op == OpKind::Xor)
    return t.input(booleans({2, 6}, 10)).input(booleans({6}, 11)).output(DataType::boolean).narrow_output_ok();
  return t.input(i64({2, 6}, 3, 10)).input(i64({6}, 3, 11)).output(DataType::boolean).narrow_output_ok();
}

OpTester logical_not() {
  OpTester t(OpKind::Not);
  return t.input(booleans({2, 3, 4}, 12)).output(DataType::boolean).narrow_output_ok();
}

OpTester mod() {   // C's fmod on floats (ONNX requires fmod=1 there); the integer forms in test_elementwise
  OpTester t(OpKind::Mod);
  return t.input({2, 4, 4, 8}, -5.f, 5.f).input({1, 1, 1, 8}, 0.5f, 2.f).attrs({{"fmod", 1}}).output(DataType::f32);
}

// Shapes at run time: operands fed as graph inputs, so the session reads them every run.
OpTester shape_of(OpKind op) {
  OpTester t(op);
  return t.input({2, 3, 4}, -1.f, 1.f).output(DataType::i64).narrow_output_ok();
}

OpTester constant_of_shape() {
  OpTester t(OpKind::ConstantOfShape);
  return t.input(NdArray::of(DataType::i64, {3}, std::vector<int64_t>{2, 3, 4})).attrs({{"value", 1.5}})
      .output(DataType::f32).symbolic_batch(false).narrow_output_ok();
}

OpTester range() {
  OpTester t(OpKind::Range);
  auto scalar = [](float v) { return NdArray::of(DataType::f32, {}, std::vector<float>{v}); };
  return t.input(scalar(-1.f)).input(scalar(7.5f)).input(scalar(0.75f)).output(DataType::f32).symbolic_batch(false);
}

OpTester runtime_reshape() {
  OpTester t(OpKind::Reshape);
  return t.input({2, 3, 4}, kX).input(NdArray::of(DataType::i64, {2}, std::vector<int64_t>{4, -1}))
      .output(DataType::u8).symbolic_batch(false);
}

OpTester reduce(OpKind op) {
  OpTester t(op);
  return t.input({2, 4, 4, 8}, kX).attrs({{"axes", {1, 2}}, {"keepdims", 1}}).output(DataType::u8);
}

OpTester float_reduce(OpKind op) {   // positive inputs: LogSum's domain, and products that stay finite
  OpTester t(op);
  return t.input({2, 4, 4, 8}, 0.5f, 1.5f).attrs({{"axes", {1, 2}}, {"keepdims", 0}}).output(DataType::f32);
}

OpTester arg_reduce(OpKind op) {
  OpTester t(op);
  return t.input({3, 5, 4}, -2.f, 2.f).attrs({{"axis", 1}, {"keepdims", 1}}).output(DataType::i64);
}

OpTester gather_elements() {
  OpTester t(OpKind::GatherElements);
  return t.input({4, 5, 3}, kX).input(i64({4, 2, 3}, 5, 13)).attrs({{"axis", 1}}).output(DataType::u8);
}

OpTester cumsum() {
  OpTester t(OpKind::CumSum);
  return t.input({3, 6, 4}, -2.f, 2.f).attrs({{"axis", 1}, {"exclusive", 1}, {"reverse", 1}}).output(DataType::f32);
}

OpTester topk() {   // distinct values with probability 1 (random floats): the order is unique
  OpTester t(OpKind::TopK);
  return t.input({3, 7, 4}, -2.f, 2.f).attrs({{"axis", 1}, {"k", 3}, {"largest", 1}}).output(DataType::f32).output(DataType::i64);
}

OpTester onehot() {
  OpTester t(OpKind::OneHot);
  t.input(i64({2, 5}, 6, 14)).none();   // depth: an operand, here the attribute
  return t.input(NdArray::of(DataType::f32, {2}, std::vector<float>{-0.5f, 2.f})).attrs({{"depth", 4}, {"axis", 1}})
      .output(DataType::f32).narrow_output_ok();
}

// Scores [N=3, C=5, d=4], targets with some ignored (ignore_index 2), class weights; per element.
OpTester loss(OpKind op) {
  OpTester t(op);
  t.input({3, 5, 4}, op == OpKind::NegativeLogLikelihoodLoss ? -3.f : -2.f, op == OpKind::NegativeLogLikelihoodLoss ? 0.f : 2.f);
  t.input(i64({3, 4}, 5, 15)).constant(random_f32({5}, 0.5f, 1.5f, 16));
  t.attrs({{"reduction", "none"}, {"ignore_index", 2}}).output(DataType::f32);
  if (op == OpKind::SoftmaxCrossEntropyLoss) t.output(DataType::f32);
  return t;
}

OpTester instance_norm() {
  OpTester t(OpKind::InstanceNormalization);
  t.input({2, 3, 5, 4}, -2.f, 3.f).constant(random_f32({3}, 0.5f, 1.5f, 3)).constant(random_f32({3}, -1, 1, 4));
  return t.attrs({{"epsilon", 1e-5}}).output(DataType::f32);
}

OpTester softmax(OpKind op = OpKind::Softmax) {
  OpTester t(op);
  return t.input({3, 4, 10}, -4.f, 6.f).attrs({{"axis", -1}}).output(DataType::f32);
}

OpTester layer_norm() {
  OpTester t(OpKind::LayerNormalization);
  t.input({3, 4, 10}, -4.f, 6.f).constant(random_f32({10}, 0.5f, 1.5f, 3)).constant(random_f32({10}, -1, 1, 4));
  return t.attrs({{"axis", -1}, {"epsilon", 1e-5}}).output(DataType::f32);
}

OpTester quantize() {
  OpTester t(OpKind::QuantizeLinear);
  return t.input({2, 9, 7, 5}, -2.f, 3.f).output(DataType::u8, per_tensor(0.02f, 100));
}

OpTester dequantize() {
  OpTester t(OpKind::DequantizeLinear);
  return t.input({2, 9, 7, 5}, kX).output(DataType::f32);
}

#define OCTET_UNARY_EXAMPLE(name, ...) {OpKind::name, {F, S}, [] { return unary(OpKind::name, __VA_ARGS__); }}

}  // namespace

const std::vector<OpExample>& op_examples() {
  static const std::vector<OpExample> table = {
      {OpKind::Conv, {F, S}, conv},
      {OpKind::ConvTranspose, {F, S}, conv_transpose},
      {OpKind::FullyConnected, {F, S, D}, fully_connected},
      {OpKind::MatMul, {F, S, D}, matmul},
      {OpKind::MaxPool, {F, S}, [] { return pool("MaxPool"); }},
      {OpKind::AveragePool, {F, S}, [] { return pool("AveragePool"); }},
      {OpKind::GlobalAveragePool, {F, S}, [] { return pool("GlobalAveragePool"); }},
      {OpKind::Add, {F, S}, [] { return binary(OpKind::Add); }},
      {OpKind::Sub, {F, S}, [] { return binary(OpKind::Sub); }},
      {OpKind::Mul, {F, S}, [] { return binary(OpKind::Mul); }},
      {OpKind::Div, {F}, [] { return float_binary(OpKind::Div, 0.5f, 3.f); }},
      {OpKind::Pow, {F}, [] { return float_binary(OpKind::Pow, -2.f, 2.f); }},
      {OpKind::Max, {F}, [] { return float_binary(OpKind::Max, -3.f, 3.f); }},
      {OpKind::Min, {F}, [] { return float_binary(OpKind::Min, -3.f, 3.f); }},
      OCTET_UNARY_EXAMPLE(Relu, json::object()),
      OCTET_UNARY_EXAMPLE(LeakyRelu, {{"alpha", 0.2}}),
      OCTET_UNARY_EXAMPLE(Clip, {{"min", -0.5}, {"max", 1.5}}),
      OCTET_UNARY_EXAMPLE(Sigmoid, json::object()),
      OCTET_UNARY_EXAMPLE(Tanh, json::object()),
      OCTET_UNARY_EXAMPLE(HardSwish, json::object()),
      OCTET_UNARY_EXAMPLE(HardSigmoid, {{"alpha", 0.2}, {"beta", 0.5}}),
      OCTET_UNARY_EXAMPLE(Gelu, json::object()),
      OCTET_UNARY_EXAMPLE(Erf, json::object()),
      OCTET_UNARY_EXAMPLE(Exp, json::object()),
      OCTET_UNARY_EXAMPLE(Neg, json::object()),
      OCTET_UNARY_EXAMPLE(Abs, json::object()),
      // Positive domains: float on [0.1, 8]; int8 on the codes (code 37 is 0: Log gives -Inf
      // there, saturating to the lowest code, as a quantized model's Log does).
      {OpKind::Log, {F}, [] { return positive_unary(OpKind::Log); }},
      {OpKind::Log, {S}, [] { return unary(OpKind::Log); }},
      {OpKind::Sqrt, {F}, [] { return positive_unary(OpKind::Sqrt); }},
      {OpKind::Sqrt, {S}, [] { return unary(OpKind::Sqrt); }},
      {OpKind::Reciprocal, {F}, [] { return positive_unary(OpKind::Reciprocal); }},
      {OpKind::Reciprocal, {S}, [] { return unary(OpKind::Reciprocal); }},
      {OpKind::Concat, {F, S}, concat},
      {OpKind::Split, {F, S}, split},
      {OpKind::Slice, {F, S}, [] { return one_input(OpKind::Slice, {4, 6, 5}, {{"starts", {1}}, {"ends", {4}}, {"axes", {1}}}); }},
      {OpKind::Reshape, {F}, [] { return one_input(OpKind::Reshape, {2, 3, 4}, {{"shape", {0, -1}}}); }},
      {OpKind::Reshape, {S}, runtime_reshape},   // its shape a graph input: an operand read at run time
      {OpKind::Flatten, {F, S}, [] { return one_input(OpKind::Flatten, {2, 3, 4, 5}, {{"axis", 2}}); }},
      {OpKind::Transpose, {F, S}, [] { return one_input(OpKind::Transpose, {2, 3, 4, 5}, {{"perm", {0, 3, 1, 2}}}); }},
      {OpKind::Squeeze, {F, S}, [] { return one_input(OpKind::Squeeze, {2, 1, 3, 1}, {{"axes", {1, 3}}}); }},
      {OpKind::Unsqueeze, {F, S}, [] { return one_input(OpKind::Unsqueeze, {2, 3}, {{"axes", {0, 3}}}); }},
      {OpKind::Pad, {F, S}, [] { return one_input(OpKind::Pad, {2, 4, 4, 3}, {{"pads", {0, 1, 2, 0, 0, 2, 1, 0}}, {"value", 0.5}}); }},
      {OpKind::Resize, {F, S}, [] { return one_input(OpKind::Resize, {2, 3, 3, 4}, {{"mode", "linear"}, {"scales", {1, 2, 2, 1}}}); }},
      {OpKind::Gather, {F, S}, gather},
      {OpKind::Expand, {F, S}, [] { return one_input(OpKind::Expand, {3, 1}, {{"shape", {2, 3, 4}}}); }},
      {OpKind::Cast, {F}, cast},
      {OpKind::Where, {F}, where},
      {OpKind::Shape, {F}, [] { return shape_of(OpKind::Shape); }},
      {OpKind::Size, {F}, [] { return shape_of(OpKind::Size); }},
      {OpKind::ConstantOfShape, {F}, constant_of_shape},
      {OpKind::Range, {F}, range},
      {OpKind::Tile, {F, S}, [] { return one_input(OpKind::Tile, {2, 3}, {{"repeats", {2, 3}}}); }},
      {OpKind::ReduceMean, {F, S}, [] { return reduce(OpKind::ReduceMean); }},
      {OpKind::ReduceSum, {F}, [] { return reduce(OpKind::ReduceSum); }},
      {OpKind::ReduceMax, {F, S}, [] { return reduce(OpKind::ReduceMax); }},
      {OpKind::Softmax, {F}, [] { return softmax(); }},
      {OpKind::LayerNormalization, {F}, layer_norm},
      {OpKind::QuantizeLinear, {F, S}, quantize},
      {OpKind::DequantizeLinear, {F, S}, dequantize},
      {OpKind::LSTM, {F}, [] { return recurrent(OpKind::LSTM, false); }},
      {OpKind::LSTM, {D}, [] { return recurrent(OpKind::LSTM, true); }},
      {OpKind::GRU, {F}, [] { return recurrent(OpKind::GRU, false); }},
      {OpKind::GRU, {D}, [] { return recurrent(OpKind::GRU, true); }},
      {OpKind::RNN, {F}, [] { return recurrent(OpKind::RNN, false); }},
      {OpKind::RNN, {D}, [] { return recurrent(OpKind::RNN, true); }},
      {OpKind::Equal, {F}, equal},
      OCTET_UNARY_EXAMPLE(Sin, json::object()),
      OCTET_UNARY_EXAMPLE(Cos, json::object()),
      {OpKind::Tan, {F}, [] { return bounded_unary(OpKind::Tan, -1.2f, 1.2f); }},
      {OpKind::Tan, {S}, [] { return unary(OpKind::Tan); }},
      {OpKind::Asin, {F}, [] { return bounded_unary(OpKind::Asin, -0.95f, 0.95f); }},
      {OpKind::Asin, {S}, [] { return unit_interval_unary(OpKind::Asin); }},
      {OpKind::Acos, {F}, [] { return bounded_unary(OpKind::Acos, -0.95f, 0.95f); }},
      {OpKind::Acos, {S}, [] { return unit_interval_unary(OpKind::Acos); }},
      OCTET_UNARY_EXAMPLE(Atan, json::object()),
      OCTET_UNARY_EXAMPLE(Sinh, json::object()),
      OCTET_UNARY_EXAMPLE(Cosh, json::object()),
      OCTET_UNARY_EXAMPLE(Asinh, json::object()),
      {OpKind::Acosh, {F}, [] { return bounded_unary(OpKind::Acosh, 1.05f, 8.f); }},
      {OpKind::Acosh, {S}, [] { return unary(OpKind::Acosh); }},
      {OpKind::Atanh, {F}, [] { return bounded_unary(OpKind::Atanh, -0.95f, 0.95f); }},
      {OpKind::Atanh, {S}, [] { return unit_interval_unary(OpKind::Atanh); }},
      OCTET_UNARY_EXAMPLE(Floor, json::object()),
      OCTET_UNARY_EXAMPLE(Ceil, json::object()),
      OCTET_UNARY_EXAMPLE(Round, json::object()),
      // Sign has three output values by nature.
      {OpKind::Sign, {F, S}, [] { return unary(OpKind::Sign).narrow_output_ok(); }},
      OCTET_UNARY_EXAMPLE(Softplus, json::object()),
      OCTET_UNARY_EXAMPLE(Softsign, json::object()),
      OCTET_UNARY_EXAMPLE(Elu, {{"alpha", 0.5}}),
      OCTET_UNARY_EXAMPLE(Selu, {{"alpha", 1.5}, {"gamma", 1.1}}),
      OCTET_UNARY_EXAMPLE(Celu, {{"alpha", 2.0}}),
      OCTET_UNARY_EXAMPLE(ThresholdedRelu, {{"alpha", 0.4}}),
      OCTET_UNARY_EXAMPLE(Shrink, {{"lambd", 0.6}, {"bias", 0.3}}),
      {OpKind::Not, {F}, logical_not},
      {OpKind::Greater, {F}, [] { return compare(OpKind::Greater); }},
      {OpKind::Less, {F}, [] { return compare(OpKind::Less); }},
      {OpKind::GreaterOrEqual, {F}, [] { return compare(OpKind::GreaterOrEqual); }},
      {OpKind::LessOrEqual, {F}, [] { return compare(OpKind::LessOrEqual); }},
      {OpKind::And, {F}, [] { return compare(OpKind::And); }},
      {OpKind::Or, {F}, [] { return compare(OpKind::Or); }},
      {OpKind::Xor, {F}, [] { return compare(OpKind::Xor); }},
      {OpKind::Mod, {F}, mod},
      {OpKind::PRelu, {F}, [] { return float_binary(OpKind::PRelu, 0.1f, 0.5f); }},
      {OpKind::ReduceMin, {F, S}, [] { return reduce(OpKind::ReduceMin); }},
      {OpKind::ReduceProd, {F}, [] { return float_reduce(OpKind::ReduceProd); }},
      {OpKind::ReduceL1, {F}, [] { return float_reduce(OpKind::ReduceL1); }},
      {OpKind::ReduceL2, {F}, [] { return float_reduce(OpKind::ReduceL2); }},
      {OpKind::ReduceSumSquare, {F}, [] { return float_reduce(OpKind::ReduceSumSquare); }},
      {OpKind::ReduceLogSum, {F}, [] { return float_reduce(OpKind::ReduceLogSum); }},
      {OpKind::ReduceLogSumExp, {F}, [] { return float_reduce(OpKind::ReduceLogSumExp); }},
      {OpKind::ArgMax, {F}, [] { return arg_reduce(OpKind::ArgMax); }},
      {OpKind::ArgMin, {F}, [] { return arg_reduce(OpKind::ArgMin); }},
      {OpKind::GatherElements, {F, S}, gather_elements},
      {OpKind::Trilu, {F, S}, [] { return one_input(OpKind::Trilu, {2, 5, 6}, {{"upper", 0}, {"k", 1}}); }},
      {OpKind::CumSum, {F}, cumsum},
      // A one-hot by nature: two distinct values.
      {OpKind::DepthToSpace, {F, S}, [] { return one_input(OpKind::DepthToSpace, {2, 8, 3, 2}, {{"blocksize", 2}, {"mode", "CRD"}}); }},
      {OpKind::SpaceToDepth, {F, S}, [] { return one_input(OpKind::SpaceToDepth, {2, 3, 4, 6}, {{"blocksize", 2}}); }},
      {OpKind::TopK, {F}, topk},
      {OpKind::OneHot, {F}, onehot},
      {OpKind::InstanceNormalization, {F}, instance_norm},
      {OpKind::IsNaN, {F}, [] {   // a mask by nature: two distinct values
        OpTester t(OpKind::IsNaN);
        return t.input(NdArray::of(DataType::f32, {2, 3}, std::vector<float>{1, NAN, -INFINITY, 0, NAN, 2})).output(DataType::boolean).narrow_output_ok();
      }},
      {OpKind::IsInf, {F}, [] {
        OpTester t(OpKind::IsInf);
        t.input(NdArray::of(DataType::f32, {2, 3}, std::vector<float>{1, INFINITY, -INFINITY, 0, NAN, 2})).attrs({{"detect_negative", 0}});
        return t.output(DataType::boolean).narrow_output_ok();
      }},
      {OpKind::EyeLike, {F}, [] {
        OpTester t(OpKind::EyeLike);
        return t.input({4, 5}, -1.f, 1.f).attrs({{"k", 1}}).output(DataType::f32).narrow_output_ok().symbolic_batch(false);
      }},
      {OpKind::NonZero, {F}, [] {   // about half the elements are 0: the output is sized by the values
        OpTester t(OpKind::NonZero);
        std::vector<float> v(24);
        for (size_t i = 0; i < v.size(); ++i) v[i] = (i * 7) % 3 == 0 ? 0.f : static_cast<float>(i) - 11.f;
        return t.input(NdArray::of(DataType::f32, {2, 3, 4}, v)).output(DataType::i64).symbolic_batch(false);
      }},
      {OpKind::NonMaxSuppression, {F}, [] {   // 2 batches x 2 classes x 6 boxes, overlapping pairs
        OpTester t(OpKind::NonMaxSuppression);
        std::vector<float> boxes;
        for (int b = 0; b < 2; ++b)
          for (int i = 0; i < 6; ++i) {
            const float x = static_cast<float>(i / 2) * 1.5f + (i % 2) * 0.2f * static_cast<float>(b + 1), y = (i % 2) * 0.1f;
            boxes.insert(boxes.end(), {y, x, y + 1.f, x + 1.f});
          }
        t.input(NdArray::of(DataType::f32, {2, 6, 4}, boxes)).input({2, 2, 6}, 0.f, 1.f);
        t.constant(NdArray::of(DataType::i64, {}, std::vector<int64_t>{2}));
        t.constant(NdArray::of(DataType::f32, {}, std::vector<float>{0.5f}));
        t.constant(NdArray::of(DataType::f32, {}, std::vector<float>{0.2f}));
        return t.output(DataType::i64).symbolic_batch(false);
      }},
      {OpKind::Compress, {F}, [] {   // rows 0, 2 and 3 of 5 (the condition is one shorter than the axis)
        OpTester t(OpKind::Compress);
        t.input({5, 3}, -1.f, 1.f).input(NdArray::of(DataType::boolean, {4}, std::vector<uint8_t>{1, 0, 1, 1}));
        return t.attrs({{"axis", 0}}).output(DataType::f32).symbolic_batch(false);
      }},
      {OpKind::GatherND, {F, S}, [] {   // batch_dims 1: [2, 5, 3] by [2, 4, 1] -> [2, 4, 3]
        OpTester t(OpKind::GatherND);
        return t.input({2, 5, 3}, kX).input(i64({2, 4, 1}, 5, 17)).attrs({{"batch_dims", 1}}).output(DataType::u8).symbolic_batch(false);
      }},
      {OpKind::ScatterND, {F}, [] {   // distinct rows, so the result does not depend on write order
        OpTester t(OpKind::ScatterND);
        t.input({5, 3}, -1.f, 1.f).input(NdArray::of(DataType::i64, {2, 1}, std::vector<int64_t>{3, 0}));
        return t.input({2, 3}, 2.f, 3.f).attrs({{"reduction", "add"}}).output(DataType::f32).symbolic_batch(false);
      }},
      {OpKind::ScatterElements, {F}, [] {
        OpTester t(OpKind::ScatterElements);
        t.input({3, 4}, -1.f, 1.f).input(NdArray::of(DataType::i64, {3, 2}, std::vector<int64_t>{1, 3, 0, -1, 2, 0}));
        return t.input({3, 2}, 2.f, 3.f).attrs({{"axis", 1}}).output(DataType::f32).symbolic_batch(false);
      }},
      {OpKind::Einsum, {F}, [] {   // attention scores with a broadcast batch ellipsis
        OpTester t(OpKind::Einsum);
        return t.input({2, 3, 4, 5}, -1.f, 1.f).input({1, 3, 6, 5}, -1.f, 1.f).attrs({{"equation", "...qd,...kd->...qk"}}).output(DataType::f32);
      }},
      {OpKind::NegativeLogLikelihoodLoss, {F}, [] { return loss(OpKind::NegativeLogLikelihoodLoss); }},
      {OpKind::SoftmaxCrossEntropyLoss, {F}, [] { return loss(OpKind::SoftmaxCrossEntropyLoss); }},
      {OpKind::Hardmax, {F}, [] { return softmax(OpKind::Hardmax).narrow_output_ok(); }},
  };
  return table;
}

}  // namespace octet::test
