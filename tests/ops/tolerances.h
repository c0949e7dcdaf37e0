// How far an implementation may be from the reference kernel, and why: THE table every
// comparison in tests/ops (OpTester, test_every_op) looks up, keyed by what ran: the library and
// dtype of the implementation's name (<dtype>_<op>[_<variant>]__<library>, backend.h), the op
// and the fused activation. The first matching row wins; an implementation no row matches fails
// the test ("no tolerance for ..."), so a new library or op states its bound here.
//
// Units. 8-bit outputs: the largest |code difference| per element (LSB); other integer outputs
// (s32, i64, bool): the same, in units of the integer. Float outputs: the largest
// |a - b| / (|b| + 1) (relative for large values, absolute near 0, where cancellation leaves no
// meaningful relative error).
//
// Where the reference's arithmetic is reproduced exactly (integer sums, then the same float
// operations in the same order: docs/format.md "Static int8 arithmetic") the bound is 0: any
// difference is a bug. A bound of 1 LSB is for implementations that order float operations
// differently, so that a value within float error of a rounding tie can land on the neighbouring
// code; more than 1 code would be a real error (a wrong tap, bias, zero point or clamp).
#pragma once

#include <cstdint>
#include <string>

#include "ops/op_traits.h"

namespace octet::test {

struct ToleranceRule {
  const char* library;       // the implementation's library: "onednn", "xnnpack", "simd", "x86", ... ("*": any)
  const char* dtype;         // "qs8" (static int8), "qd8" (dynamic int8), "f32" ("*": any)
  const char* ops;           // op names separated by spaces ("*": any)
  const char* activations;   // fused activations (Activation::name(): "HardSwish", ...) separated by spaces ("*": any)
  int64_t lsb;               // integer outputs
  double rel;                // float outputs
  const char* why;
};

inline constexpr ToleranceRule kTolerances[] = {
    {"reference", "*", "*", "*", 0, 0.0, "the reference kernel itself"},
    // octet's own kernels.
    {"simd", "*", "*", "*", 0, 0.0,
     "octet's portable kernels (kernels/simd) sum the integers exactly and then do the reference's float operations in "
     "the reference's order: bit for bit, int8 and float outputs alike"},
    {"x86 x86_vnni", "qs8", "*", "*", 0, 0.0,
     "exact u8 x s8 sums (vpmaddwd widens to 16 bits, vpdpbusd accumulates in 32), then the reference's requantization"},
    {"x86 x86_vnni", "qd8", "LSTM GRU RNN", "*", 0, 2e-3,
     "the same integer products and float steps, but the AVX2 gate polynomials (x86/math_avx2.h) differ from std::exp / "
     "std::tanh by ~1e-7, which now and then moves the next step's quantized hidden state by one code; over a sequence "
     "that stays below 2e-3 (outputs in [-1, 1]; measured in test_rnn.cc)"},
    {"x86 x86_vnni", "qd8", "MatMul", "*", 0, 1e-6,
     "the reference's integers and float steps in the reference's order (x86/matmul_dynamic_x86.cc): at most the last "
     "ulp"},
    {"x86 x86_vnni", "qd8", "*", "*", 0, 1e-5,
     "the same integer products; the float epilogue (scale product, bias, GELU polynomial) rounds a few ulp differently"},
    {"x86", "f32", "*", "*", 0, 1e-5,
     "float sums over 8 lanes (or oneDNN's matmul for recurrent products) in another order than the reference's double "
     "accumulation, and exp/tanh polynomials: a few ulp of O(1) results; 1e-5 is far below a real error"},
    // oneDNN.
    {"onednn", "qs8", "Conv ConvTranspose FullyConnected MatMul", "LeakyRelu HardSwish HardSigmoid Sigmoid Tanh Gelu", 1, 0.0,
     "the reference applies these activations in real units (docs/format.md, second form); oneDNN applies them as "
     "eltwise post-ops after the residual's sum post-op, on scaled values or with its own formulas and polynomials: a "
     "few ulp from the reference, so a value that close to a rounding tie lands on the neighbouring code (measured: "
     "~1 code in 1e5, with a residual and HardSwish, HardSigmoid or Sigmoid)"},
    {"onednn", "qs8", "Conv ConvTranspose FullyConnected MatMul", "*", 0, 0.0,
     "exact s32 sums (7-bit weights without VNNI, any weights with it: onednn_common.h); with no activation, Relu or "
     "Clip the output scale and bounds fold into octet's own multiplier m[c], rounded before the zero point is added, "
     "the reference's first form (onednn_common.cc quant_chain): code for code"},
    {"onednn", "qs8", "Add Sub Mul", "*", 1, 0.0,
     "oneDNN's binary primitive scales each operand and sums in f32 in another order than the reference: ties move by 1 "
     "(measured: a few codes in 1e3)"},
    {"onednn", "qs8", "QuantizeLinear", "*", 1, 0.0,
     "oneDNN's reorder may add the zero point after rounding, which differs on exact ties only (reorder_onednn.cc)"},
    {"onednn", "qs8", "*", "*", 0, 0.0,
     "codes moved (pooling max, concat, transpose, slice) or averaged with the reference's rounding "
     "(pool_onednn.cc), dequantized with the same float product: exact"},
    {"onednn", "f32", "*", "*", 0, 3e-5,
     "float32 FMAs in blocked order against the reference's double accumulation: a random walk of about sqrt(K) 2^-24 "
     "|partial sums| ~ 5e-6 for K <= 825 terms of O(1/sqrt(K)), plus oneDNN's logistic/tanh/erf polynomials (a few "
     "ulp); observed worst 3.3e-6, and a real error (a wrong tap, bias or scale) moves outputs by > 1e-2"},
    // XNNPACK.
    {"xnnpack", "qs8", "Conv FullyConnected", "*", 0, 0.0,
     "XNNPACK's qc8 operators accumulate exactly in int32 and requantize with octet's own multiplier m[c], rounding as "
     "quant/requant.h: code for code"},
    {"xnnpack", "qs8", "Add Sub Mul AveragePool GlobalAveragePool", "*", 1, 0.0,
     "XNNPACK requantizes sums and means in fixed point: a value within its rounding error of a tie lands on the "
     "neighbouring code (measured: ~1 code in 2000)"},
    {"xnnpack", "qs8", "*", "*", 0, 0.0, "codes moved (max pooling, concat): exact"},
    {"xnnpack", "f32", "*", "*", 0, 3e-5,
     "float32 sums in XNNPACK's order (random walk ~ sqrt(K) 2^-24 |partials| ~ 5e-6) and its sigmoid approximation (a "
     "few ulp); a real error is > 1e-2"},
};

// The first rule of kTolerances for an implementation named `impl` running `op` with the fused
// activation `activation` ("" for none); nullptr when no rule applies.
const ToleranceRule* find_tolerance(OpKind op, const std::string& impl, const std::string& activation);

}  // namespace octet::test
