// LSTM, GRU, RNN: attributes, validation and shape inference (ONNX semantics; the weight layout
// and int8_dynamic form are in docs/format.md, "Recurrent ops").
#include <string>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "ops/rnn_params.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

RnnAct act_from_name(const NodeDef& n, const std::string& s) {
  if (s == "Sigmoid") return RnnAct::Sigmoid;
  if (s == "Tanh") return RnnAct::Tanh;
  if (s == "Relu") return RnnAct::Relu;
  n.attrs.fail("activations", "has '" + s + "'; supported are Sigmoid, Tanh and Relu");
}
}  // namespace

RnnParams parse_rnn(const NodeDef& n, int64_t hidden_from_r) {
  RnnParams p;
  p.gates = n.op == OpKind::LSTM ? 4 : n.op == OpKind::GRU ? 3 : 1;
  const std::string dir = n.attrs.get_string("direction", "forward");
  if (dir == "bidirectional") p.dirs = 2;
  else if (dir == "reverse") p.reverse = true;
  else if (dir != "forward") n.attrs.fail("direction", "must be forward, reverse or bidirectional, not '" + dir + "'");
  p.hidden = n.attrs.get_int("hidden_size", hidden_from_r);
  if (p.hidden <= 0) n.attrs.fail("hidden_size", "must be positive");
  if (hidden_from_r > 0 && p.hidden != hidden_from_r)
    n.attrs.fail("hidden_size", "is " + std::to_string(p.hidden) + " but R has " + std::to_string(hidden_from_r) + " columns");
  const int64_t layout = n.attrs.get_int("layout", 0);
  if (layout != 0 && layout != 1) n.attrs.fail("layout", "must be 0 or 1");
  p.layout = static_cast<int>(layout);
  const int64_t lbr = n.attrs.get_int("linear_before_reset", 0);
  if (lbr != 0 && n.op != OpKind::GRU) n.attrs.fail("linear_before_reset", "applies to GRU only");
  p.linear_before_reset = lbr != 0;
  if (n.attrs.has("clip")) {
    p.clip = n.attrs.get_float("clip", 0.f);
    if (!(p.clip > 0)) n.attrs.fail("clip", "must be positive");
  }
  if (n.attrs.get_int("input_forget", 0) != 0) n.attrs.fail("input_forget", "(coupled input-forget gate) is not supported");
  // activation_alpha/beta parameterize activations octet does not offer (LeakyRelu, ...).
  if (n.attrs.has("activation_alpha") || n.attrs.has("activation_beta"))
    n.attrs.fail("activation_alpha", "and activation_beta are not supported (Sigmoid, Tanh, Relu take none)");
  const int per = p.acts_per_dir();
  if (n.attrs.has("activations")) {
    const auto& j = n.attrs.json().at("activations");
    if (!j.is_array() || j.size() != static_cast<size_t>(per * p.dirs))
      n.attrs.fail("activations", "must be a list of " + std::to_string(per * p.dirs) + " names");
    for (const auto& e : j) {
      if (!e.is_string()) n.attrs.fail("activations", "must be a list of names");
      p.acts.push_back(act_from_name(n, e.get<std::string>()));
    }
  } else {
    for (int d = 0; d < p.dirs; ++d) {
      if (p.gates == 4) p.acts.insert(p.acts.end(), {RnnAct::Sigmoid, RnnAct::Tanh, RnnAct::Tanh});
      else if (p.gates == 3) p.acts.insert(p.acts.end(), {RnnAct::Sigmoid, RnnAct::Tanh});
      else p.acts.push_back(RnnAct::Tanh);
    }
  }
  return p;
}

namespace {

int64_t hidden_of_r(const detail::ModelData& m, const NodeDef& n) {
  const TensorDef& r = m.tensor(n.inputs[kRnnR]);
  return r.shape.empty() ? 0 : r.shape.back();
}

void expect_rows_weight(const NodeDef& n, const TensorDef& w, const char* role) {
  if (!w.is_constant()) node_error(n, std::string(role) + " '" + w.name + "' must be a constant");
  if (w.dtype != DT::s8) return;
  // Per output row (gate row) symmetric: the rows are the merged [D*G*H] leading axis.
  if (w.quant.axis != -1 && !(w.quant.axis == 0 && w.shape.size() == 2))
    node_error(n, std::string(role) + " '" + w.name + "' must be quantized per tensor or per row (shape [D*G*H, K], axis 0)");
  for (int32_t z : w.quant.zero_point)
    if (z != 0) node_error(n, std::string(role) + " '" + w.name + "' must be quantized symmetrically (zero point 0)");
}

void validate_rnn(const NodeDef& n, const detail::ModelData& m) {
  parse_rnn(n, hidden_of_r(m, n));
  const auto has = [&](size_t i) { return i < n.inputs.size() && n.inputs[i] >= 0; };
  if (has(kRnnP)) node_error(n, "peephole weights (input P) are not supported");
  if (has(kRnnInitC) && n.op != OpKind::LSTM) node_error(n, "has no initial_c input");
  if (dynamic_input_per_row(n) && n.precision != Precision::Int8Dynamic)
    n.attrs.fail("input_quant", "per_row applies to int8_dynamic nodes only");
  expect_rows_weight(n, m.tensor(n.inputs[kRnnW]), "W");
  expect_rows_weight(n, m.tensor(n.inputs[kRnnR]), "R");
  if (has(kRnnB) && !m.tensor(n.inputs[kRnnB]).is_constant()) node_error(n, "bias B must be a constant");
  expect_dtype(n, m, kRnnX, {DT::f32}, "input X");
  switch (n.precision) {
    case Precision::Float:
      expect_dtype(n, m, kRnnW, {DT::f32}, "W");
      expect_dtype(n, m, kRnnR, {DT::f32}, "R");
      break;
    case Precision::Int8Dynamic:
      expect_dtype(n, m, kRnnW, {DT::s8}, "W");
      expect_dtype(n, m, kRnnR, {DT::s8}, "R");
      break;
    case Precision::Int8Static:
      node_error(n, "has no int8_static form (recurrent ops run float or int8_dynamic)");
  }
  expect_dtype(n, m, kRnnB, {DT::f32}, "bias B");
  expect_dtype(n, m, kRnnSeqLens, {DT::s32, DT::i64}, "sequence_lens");
  expect_dtype(n, m, kRnnInitH, {DT::f32}, "initial_h");
  expect_dtype(n, m, kRnnInitC, {DT::f32}, "initial_c");
  for (size_t o = 0; o < n.outputs.size(); ++o)
    if (n.outputs[o] >= 0) expect_out_dtype(n, m, o, {DT::f32}, "output");
}

void infer_rnn(InferCtx& c) {
  const Shape& x = c.input(kRnnX);
  const Shape& w = c.input(kRnnW);
  const Shape& r = c.input(kRnnR);
  const RnnParams p = parse_rnn(c.node, r.empty() ? 0 : r.back());
  if (x.size() != 3) c.fail("X must be rank 3, got " + shape_str(x));
  const int64_t S = p.layout == 0 ? x[0] : x[1], B = p.layout == 0 ? x[1] : x[0], I = x[2];
  const int64_t D = p.dirs, H = p.hidden, GH = p.gates * H;
  auto check_w = [&](const Shape& s, int64_t k, const char* role) {
    const bool ok3 = s == Shape{D, GH, k}, ok2 = s == Shape{D * GH, k};
    if (!ok3 && !ok2)
      c.fail(std::string(role) + " has shape " + shape_str(s) + ", expected " + shape_str({D, GH, k}) + " or " + shape_str({D * GH, k}));
  };
  check_w(w, I, "W");
  check_w(r, H, "R");
  // B is ONNX's [Wb, Rb] per direction, or their sum [D, G*H] as the converter writes it (not
  // for GRU with linear_before_reset, whose hidden gate adds Rb inside the reset product).
  const bool summed_ok = !(p.gates == 3 && p.linear_before_reset);
  if (c.has_input(kRnnB) && c.input(kRnnB) != Shape{D, 2 * GH} && !(summed_ok && c.input(kRnnB) == Shape{D, GH}))
    c.fail("B has shape " + shape_str(c.input(kRnnB)) + ", expected " + shape_str({D, 2 * GH}) +
           (summed_ok ? " (or the summed " + shape_str({D, GH}) + ")" : std::string()));
  if (c.has_input(kRnnSeqLens) && c.input(kRnnSeqLens) != Shape{B})
    c.fail("sequence_lens has shape " + shape_str(c.input(kRnnSeqLens)) + ", expected [" + std::to_string(B) + "]");
  const Shape state = p.layout == 0 ? Shape{D, B, H} : Shape{B, D, H};
  for (size_t i : {size_t(kRnnInitH), size_t(kRnnInitC)})
    if (c.has_input(i) && c.input(i) != state)
      c.fail(std::string(i == kRnnInitH ? "initial_h" : "initial_c") + " has shape " + shape_str(c.input(i)) + ", expected " + shape_str(state));
  const Shape y = p.layout == 0 ? Shape{S, D, B, H} : Shape{B, S, D, H};
  c.out = {y, state, state};
}
}  // namespace

const OpSpec kRnnSpec{validate_rnn, infer_rnn};

}  // namespace octet
