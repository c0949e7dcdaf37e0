// The losses ONNX's test suite exercises (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss):
// validation and shape inference. Inference runtimes meet them in exported training graphs and
// evaluation scripts; octet runs them in float, as ONNX defines them.
#include "ops/op_spec.h"
#include "ops/spec_util.h"

namespace octet {

namespace {
using DT = DataType;

void validate_loss(const NodeDef& n, const detail::ModelData& m) {
  const std::string r = n.attrs.get_string("reduction", "mean");
  if (r != "none" && r != "sum" && r != "mean") n.attrs.fail("reduction", "must be none, sum or mean");
  n.attrs.get_int("ignore_index", 0);
  if (n.precision != Precision::Float) node_error(n, "runs in float only");
  expect_dtype(n, m, 0, {DT::f32}, "input");
  expect_dtype(n, m, 1, {DT::s32, DT::i64}, "target");
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) expect_dtype(n, m, 2, {DT::f32}, "weight");
  for (size_t o = 0; o < n.outputs.size(); ++o)
    if (n.outputs[o] >= 0) expect_out_dtype(n, m, o, {DT::f32}, o == 0 ? "loss" : "log_prob");
}

// input [N, C, d1..dk], target [N, d1..dk], weight [C]; loss [N, d1..dk] or a scalar; log_prob
// (SoftmaxCrossEntropyLoss) the input's shape.
void infer_loss(InferCtx& c) {
  const Shape& x = c.input(0);
  const Shape& t = c.input(1);
  if (x.size() < 2) c.fail("input " + shape_str(x) + " is not [N, C, ...]");
  Shape want = x;
  want.erase(want.begin() + 1);
  if (t != want) c.fail("target " + shape_str(t) + " does not match input " + shape_str(x) + " without its class dim");
  if (c.has_input(2) && c.input(2) != Shape{x[1]}) c.fail("weight " + shape_str(c.input(2)) + " is not [C] = [" + std::to_string(x[1]) + "]");
  const bool none = c.node.attrs.get_string("reduction", "mean") == "none";
  c.out = {none ? t : Shape{}, x};
  c.out.resize(c.node.outputs.size());
}
}  // namespace

const OpSpec kLossSpec{validate_loss, infer_loss};

}  // namespace octet
