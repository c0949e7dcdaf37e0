// QuantizeLinear and DequantizeLinear on every backend against the reference (OpTester): values on
// and next to rounding ties, the code range's edges, NaN (the lowest code... as the reference)
// and +-Inf (saturating), lengths that leave vector tails, zero points 0, 3, 128, 2 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;

TEST_CASE("quantize: QuantizeLinear f32 -> u8/s8, ties, NaN, +-Inf, zero points") {
  // oneDNN runs u8 as a reorder (within 1 LSB: it may add the zero point after rounding, which
  // differs on exact ties); s8 stays on the reference there (oneDNN turns NaN into +127, not the
  // lowest code). NaN and +-Inf must give exactly the reference's codes everywhere.
  const std::vector<int64_t> shape{2, 9, 7, 5};
  for (DataType t : {DataType::u8, DataType::s8})
    for (int32_t zp : {0, 3, 128}) {
      if (t == DataType::s8 && zp == 128) continue;
      NdArray x = random_f32(shape, -3.5f, 3.5f, 9);
      float* xv = x.as<float>();
      xv[0] = std::numeric_limits<float>::quiet_NaN(), xv[1] = INFINITY, xv[2] = -INFINITY, xv[3] = 0.01f, xv[4] = 0.03f;   // ties
      OpTester o(OpKind::QuantizeLinear);
      o.precision(Precision::Int8Static).label(std::string(dtype_name(t)) + " zp " + std::to_string(zp));
      o.input(x).output(t, per_tensor(0.02f, zp)).require("xnnpack", "quantize_linear__simd");
      if (t == DataType::u8) o.require("onednn");
      // u8 with zero point 0: the negative half of X saturates at code 0, by design of the case.
      if (t == DataType::u8 && zp == 0) o.narrow_output_ok();
      const OpResult r = o.check();
#if defined(OCTET_WITH_ONEDNN)
      CHECK(r.ran_on("onednn") == (t == DataType::u8));
#endif
      for (const BackendRun& b : r.runs) {
        INFO(b.backend);
        CHECK(std::memcmp(b.outputs[0].bytes.data(), r.reference[0].bytes.data(), 3) == 0);   // NaN, +-Inf exactly
      }
    }
}

TEST_CASE("quantize: QuantizeLinear on and next to half-way points, vector tails, 2 threads") {
  for (DataType t : {DataType::u8, DataType::s8})
    for (int64_t n : {int64_t(1), int64_t(37), int64_t(40000)}) {
      const float scale = 0.0371f;
      const int32_t zp = t == DataType::u8 ? 131 : -7;
      std::mt19937 rng(static_cast<uint32_t>(n));
      NdArray x = NdArray::of(DataType::f32, {n}, std::vector<float>(static_cast<size_t>(n)));
      float* xv = x.as<float>();
      for (int64_t i = 0; i < n; ++i) {
        const float k = static_cast<float>(static_cast<int>(rng() % 600) - 300) * 0.5f;   // ties at .5
        switch (i % 5) {
          case 0: xv[i] = k * scale; break;
          case 1: xv[i] = std::nextafter(k * scale, 1e9f); break;
          case 2: xv[i] = std::nextafter(k * scale, -1e9f); break;
          default: xv[i] = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) * 0.013f;
        }
      }
      if (n > 30) xv[3] = NAN, xv[4] = INFINITY, xv[5] = -INFINITY, xv[6] = 1e30f, xv[7] = -1e30f;
      OpTester o(OpKind::QuantizeLinear);
      o.precision(Precision::Int8Static).label(std::string(dtype_name(t)) + " n " + std::to_string(n)).input(x);
      o.output(t, per_tensor(scale, zp)).threads(2).require("xnnpack", "quantize_linear__simd");
      if (n == 1) o.narrow_output_ok();   // one code
      o.check();
    }
}

TEST_CASE("quantize: DequantizeLinear u8/s8 -> f32 equals the reference exactly") {
  for (const Q8& q : {Q8{DataType::u8, 0, 0.02f}, Q8{DataType::u8, 3, 0.02f}, Q8{DataType::u8, 128, 0.02f}, Q8{DataType::s8, 0, 0.02f},
                      Q8{DataType::s8, 3, 0.02f}}) {
    OpTester o(OpKind::DequantizeLinear);
    o.precision(Precision::Int8Static).label(std::string(dtype_name(q.dtype)) + " zp " + std::to_string(q.zero_point));
    o.input({2, 9, 7, 5}, q).output(DataType::f32).require("onednn").check();
  }
}
