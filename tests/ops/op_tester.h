// The one op tester (XNNPACK's tester pattern): describe one node, and check() builds it as a
// one-node model, runs the reference kernel inside, then every optimized backend compiled in
// (optimized_backends()), and compares each with the reference within the tolerance of
// tolerances.h for the implementation that ran. Every op family's test (tests/ops/test_*.cc)
// and the walk over every op (test_every_op.cc) use it.
//
//   OpTester(OpKind::Conv)
//       .precision(Precision::Int8Static)
//       .input({1, 9, 9, 17}, u8(37))      // X: u8 codes over the whole range, zero point 37
//       .weights({33, 3, 3, 17})           // W: s8 codes in [-127, 127], one scale per output channel
//       .bias()                            // B: s32, one per output channel
//       .attrs({{"pads", {1, 1, 1, 1}}})
//       .activation("Relu6")
//       .output(DataType::u8)              // Y: u8, scale and zero point derived from the real result
//       .require("onednn")                 // oneDNN must run it on one of its own implementations
//       .check();
//
// The same description with .precision(Precision::Float) tests the float node: every 8-bit
// tensor becomes f32 holding its real values (scale * (code - zero point)), so one description
// gives both cases. With Precision::Int8Dynamic activations become f32 and weights stay s8.
//
// Meaningful data, whatever the op:
//  - Scales. The scale of the weights (or of a scaled_input(), MatMul's B) is derived so that the
//    node's linear part (the node on its inputs up to the weights, without activation) has real
//    values of standard deviation 3 about each channel's mean; the bias cancels that mean plus
//    U(-1.5, 1.5) (X's zero point at an extreme would otherwise saturate). An 8-bit output's
//    scale and zero point are derived from the float node's result on the same real values
//    (5% margin each side), so int8 outputs span the code range; ops that move codes
//    (op_traits: Keep) take their input's quantization instead.
//  - MISTRUSTED: the reference's 8-bit outputs must hold >= 3 distinct codes and be < 50%
//    saturated (float outputs >= 3 distinct values), so garbage in both paths cannot agree.
//  - Each backend runs its session twice: the second run must equal the first bit for bit.
//    With threads(n) it also runs on n threads: integer outputs equal the 1-thread ones.
//  - A backend that does not take the case (the node falls back to the reference kernel) is
//    reported as "SKIPPED <backend>: <why each implementation declined>", and fails the test
//    when require() names that backend.
//
// Adding a test for a new op: one OpTester per case, inputs in the node's input order (none()
// for an omitted optional input), attrs() as in docs/format.md, output() per node output; add
// the op's library/op row to tolerances.h if no row matches what runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ops/op_traits.h"
#include "test_util.h"

namespace octet::test {

// The type and quantization of an 8-bit tensor: real = scale * (code - zero_point).
struct Q8 {
  DataType dtype = DataType::u8;
  int32_t zero_point = 0;
  float scale = 0.02f;
};
Q8 u8(int32_t zero_point = 0, float scale = 0.02f);
Q8 s8(int32_t zero_point = 0, float scale = 0.02f);
int32_t qmin(DataType t);   // 0 for u8, -128 for s8
int32_t qmax(DataType t);   // 255, 127

// s8 weight codes.
struct WeightSpec {
  int max = 127;             // codes uniform in [-max, max] (64: the converter's --weight-bits 7)
  bool per_channel = true;   // one scale per output channel (dim 0, jittered over 0.5..1.5x); else one
  int poke = 0;              // non-zero: the middle code is set to -poke (one weight at the edge of a range)
};
constexpr WeightSpec kFullRange{127, true, 0};
constexpr WeightSpec kSevenBit{64, true, 0};

// What one optimized backend did with a case.
struct BackendRun {
  std::string backend;
  std::string impl, detail, note;   // the dispatch entry of the node after the run
  bool ran = false;                 // on one of the backend's own implementations (not the reference)
  std::vector<NdArray> outputs;     // per graph output (1 thread)
  int64_t max_lsb = 0;              // worst integer difference from the reference
  double max_rel = 0;               // worst float difference from the reference (tolerances.h units)
};

struct OpResult {
  std::shared_ptr<const Model> model;
  std::map<std::string, NdArray> inputs;
  std::vector<NdArray> reference;   // per graph output (node outputs, omitted ones left out)
  std::vector<BackendRun> runs;     // per optimized backend compiled in
  const BackendRun* on(const std::string& backend) const;   // nullptr: not compiled in
  bool ran_on(const std::string& backend) const;             // compiled in and ran on its own implementation
};

// A one-node model and its inputs, as check() runs them.
struct BuiltCase {
  std::shared_ptr<const Model> model;
  std::map<std::string, NdArray> inputs;
};

class OpTester {
 public:
  explicit OpTester(OpKind op);

  OpTester& precision(Precision p);
  OpTester& label(std::string text);   // shown with every failure (the case's parameters)
  OpTester& seed(uint32_t s);

  // Node inputs, in order. Graph inputs get names "x0", "x1", ...; constants "c<i>".
  // 8-bit codes uniform over the type's range (float precisions: their real values).
  OpTester& input(std::vector<int64_t> shape, Q8 q);
  // f32 values uniform in [lo, hi].
  OpTester& input(std::vector<int64_t> shape, float lo, float hi);
  // Exactly these values, in every precision (indices, masks, hand-made codes).
  OpTester& input(NdArray value, QuantInfo q = {});
  // An 8-bit run-time operand whose scale is derived like the weights' (MatMul's B).
  OpTester& scaled_input(std::vector<int64_t> shape, Q8 q);
  // Constant s8 weights [O, ...] (Float: their real values; Int8Dynamic: s8 as well).
  OpTester& weights(std::vector<int64_t> shape, WeightSpec w = kFullRange);
  // The bias of the weights before it: one value per output channel (Int8Static: s32 in units of
  // s_x * s_w[c]; otherwise f32).
  OpTester& bias();
  // A constant with exactly these values (any precision).
  OpTester& constant(NdArray value, QuantInfo q = {});
  OpTester& none();   // an omitted optional input

  OpTester& attrs(nlohmann::json a);
  // "", "Relu", "Relu6", "LeakyRelu" (alpha 0.1), "HardSwish", "HardSigmoid" (0.2, 0.5), "Sigmoid",
  // "Tanh", "Gelu".
  OpTester& activation(const std::string& act);

  // Node outputs, in order. An 8-bit output's quantization is derived (see above) or given.
  OpTester& output(DataType dt);
  OpTester& output(DataType dt, QuantInfo q);
  OpTester& no_output();   // an omitted optional output

  // Graph inputs of rank >= 2 get the symbolic leading dimension "batch" when they all have the
  // same leading size (default); false: every dimension fixed.
  OpTester& symbolic_batch(bool on);
  // Also run every backend on n threads (integer outputs must equal the 1-thread ones).
  OpTester& threads(int n);
  // On `backend` (if compiled in) the node must run on one of its own implementations, whose
  // name contains `impl` when given (e.g. "__simd", "qs8_conv__onednn"); a refusal fails, unless
  // its reason contains `except_when` (alternatives separated by '|': gaps of this machine's
  // ISA, say), which is reported. Replaces an earlier requirement for the same backend.
  OpTester& require(const std::string& backend, const std::string& impl = "", const std::string& except_when = "");
  OpTester& no_requirements();
  // Accept reference outputs with few distinct codes (the MISTRUSTED check off), for ops whose
  // result is legitimately narrow (say so at the call).
  OpTester& narrow_output_ok();

  OpKind op() const { return op_; }
  Precision node_precision() const { return precision_; }
  const std::string& case_label() const { return label_; }

  // The model and inputs (scales derived on the reference backend).
  BuiltCase build() const;
  // build(), the reference, every optimized backend, the comparisons (doctest CHECKs).
  OpResult check() const;

 private:
  struct Slot;
  struct Out {
    DataType dtype = DataType::f32;
    bool has_quant = false, omitted = false;
    QuantInfo quant;
  };
  struct Requirement {
    std::string backend, impl, except_when;
  };
  struct Prepared;

  OpKind op_;
  Precision precision_ = Precision::Float;
  std::string label_;
  uint32_t seed_ = 1;
  std::vector<std::shared_ptr<Slot>> slots_;
  std::vector<Out> outputs_;
  nlohmann::json attrs_ = nlohmann::json::object();
  std::string activation_;
  bool symbolic_batch_ = true;
  int threads_ = 1;
  std::vector<Requirement> required_;
  bool narrow_ok_ = false;

  mutable std::shared_ptr<Prepared> cache_;   // derived data, shared by the precisions of one description

  const Prepared& prepare() const;
  Prepared derive_data() const;
  void derive_output_quant(Prepared& p) const;
  BuiltCase float_twin(const Prepared& p, size_t count, const std::string& act, bool finite) const;
};

// Real values of 8-bit codes, or a copy of anything else.
NdArray dequantized(const NdArray& codes, const QuantInfo& q);
// The MISTRUSTED check: >= 3 distinct codes, < 50% saturated (8-bit), >= 3 distinct values (f32).
void check_not_trivial(const NdArray& y, const std::string& what);
// The worst difference between `got` and `want` in tolerances.h units: codes for integer types,
// |a - b| / (|b| + 1) for f32 (infinite on a dtype/shape mismatch or a NaN in one only).
double output_difference(const NdArray& got, const NdArray& want);
// CHECKs `got` against `want` within the tolerance for `impl` (tolerances.h); returns the difference.
double check_within_tolerance(OpKind op, const std::string& impl, const std::string& activation, const NdArray& got,
                              const NdArray& want, const std::string& what);

}  // namespace octet::test
