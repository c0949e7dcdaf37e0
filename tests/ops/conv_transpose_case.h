// ConvTranspose cases as the op tests (tests/ops/test_conv_transpose.cc) and the backend
// behaviour tests (tests/backends/test_conv_transpose_behaviour.cc) describe them.
#pragma once

#include <string>

#include "op_tester.h"

namespace octet::test {

struct ConvTransposeCase {
  int64_t N = 1, H = 7, W = 6, C = 8, O = 8, KH = 3, KW = 3;
  int64_t sh = 2, sw = 2, pt = 1, pl = 1, pb = 1, pr = 1, oph = 0, opw = 0, dh = 1, dw = 1, group = 1;
  std::string act;
  Q8 x = u8(0);
  DataType yt = DataType::u8;
  bool bias = true;
  WeightSpec w = kSevenBit;

  void pad(int64_t p) { pt = pl = pb = pr = p; }
  int64_t OH() const { return (H - 1) * sh - pt - pb + dh * (KH - 1) + 1 + oph; }
  int64_t OW() const { return (W - 1) * sw - pl - pr + dw * (KW - 1) + 1 + opw; }
  bool depthwise() const { return group > 1 && group == C && O == C; }
  std::string str() const;
};

// X [N,H,W,C], W [O,KH,KW,C/group], B? -> Y; precision still to be set.
OpTester conv_transpose_tester(const ConvTransposeCase& c, uint32_t seed);

// The implementation that must run c at precision p on `backend`, "" when the backend rightly
// has none of its own (then `why` is what its refusal says):
//   oneDNN, float: f32_conv_transpose__onednn. Static int8: qs8_conv_transpose__onednn, unless
//     oneDNN 2.6 computes the shape wrongly (kernel shorter than the stride, output padding
//     beyond the end padding, depthwise with a source zero point: conv_transpose_onednn.cc) or
//     the weights exceed 7 bits without VNNI; then octet's qs8_conv_transpose__simd.
//   XNNPACK, float: f32_conv_transpose__xnnpack with a clamp activation and output padding
//     below the stride. Static int8: qs8_conv_transpose__simd.
std::string expected_conv_transpose_impl(const ConvTransposeCase& c, Precision p, const std::string& backend, std::string* why);

// require() every compiled-in backend to run c at precision p on expected_conv_transpose_impl().
void require_conv_transpose_backends(OpTester& t, const ConvTransposeCase& c, Precision p);

}  // namespace octet::test
