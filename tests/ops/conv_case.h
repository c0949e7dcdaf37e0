// A convolution case (geometry, dtypes, zero points, weights, residual, activation) as the conv
// tests, the every-op examples and the backend behaviour tests describe it, and the OpTester
// that checks it.
#pragma once

#include <random>
#include <string>

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

}  // namespace octet::test
