// Cases of the ops with many parameters (geometry, dtypes, zero points, weights, activation) as
// the op tests, the every-op examples and the backend behaviour tests describe them, each with the
// OpTester that checks it (precision still to be set) and a str() for messages.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "op_tester.h"

namespace octet::test {

struct ConvCase {
  int64_t N = 1, H = 9, W = 9, C = 3, O = 5, KH = 3, KW = 3;
  int64_t sh = 1, sw = 1, pt = 1, pl = 1, pb = 1, pr = 1, dh = 1, dw = 1, group = 1;
  std::string act;
  Q8 x = u8(0);
  DataType yt = DataType::u8;
  bool bias = true;
  WeightSpec w = kFullRange;
  bool residual = false;
  Q8 r = s8(0, 0.03f);   // the residual's type and quantization

  void pad(int64_t p) { pt = pl = pb = pr = p; }
  int64_t OH() const { return (H + pt + pb - (dh * (KH - 1) + 1)) / sh + 1; }
  int64_t OW() const { return (W + pl + pr - (dw * (KW - 1) + 1)) / sw + 1; }
  bool depthwise() const { return group > 1 && group == C; }
  std::string str() const;
};

// X [N,H,W,C], W [O,KH,KW,C/group], B?, R? -> Y; precision still to be set.
OpTester conv_tester(const ConvCase& c, uint32_t seed);

// Requires every backend whose implementation list covers the case to run it (oneDNN only with
// `onednn`), except where this machine's oneDNN has only its reference code for it (grouped
// convolutions without VNNI), so that a refusal fails instead of passing as a reference run.
void require_conv_backends(OpTester& t, const ConvCase& c, Precision p, bool onednn = true);

// Random signedness of X and Y, X zero point over the whole range, bias, weight granularity and
// weight range (XNNPACK sweep style).
void random_quant(ConvCase& c, std::mt19937& rng);

// FullyConnected: X [..., K] (dim 0 the batch), W [N, K], B [N]? -> Y [..., N].
struct FcCase {
  std::vector<int64_t> xshape;
  int64_t N = 5;
  std::string act;
  Q8 x = u8(0);
  DataType yt = DataType::u8;
  bool bias = true;
  WeightSpec w = kFullRange;
  std::string str() const;
};
OpTester fc_tester(const FcCase& c, uint32_t seed);

// MaxPool, AveragePool, GlobalAveragePool on X [N,H,W,C] (Y keeps X's quantization).
struct PoolCase {
  std::string op = "MaxPool";
  int64_t N = 1, H = 9, W = 9, C = 17, KH = 3, KW = 3, sh = 2, sw = 2, pt = 1, pl = 1, pb = 1, pr = 1, dil = 1;
  bool ceil = false, include_pad = false;
  Q8 x = Q8{DataType::u8, 0, 0.05f};
  void pad(int64_t p) { pt = pl = pb = pr = p; }
  std::string str() const;
};
OpTester pool_tester(const PoolCase& c, uint32_t seed);

// Add, Sub, Mul (and float Div) of A and B with numpy broadcasting, each operand and Y with its
// own quantization.
struct BinaryCase {
  std::string op = "Add";
  std::vector<int64_t> a, b;
  std::string act;
  Q8 qa = Q8{DataType::u8, 0, 0.03f}, qb = Q8{DataType::u8, 0, 0.05f};
  DataType yt = DataType::u8;
  std::string str() const;
};
OpTester binary_tester(const BinaryCase& c, uint32_t seed);
// The broadcast shape of a and b.
std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace octet::test
