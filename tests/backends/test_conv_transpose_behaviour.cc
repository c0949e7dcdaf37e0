// ConvTranspose on the oneDNN and XNNPACK backends beyond comparisons (those are in
// tests/ops/test_conv_transpose.cc): sessions whose batch changes (oneDNN primitives per shape,
// XNNPACK's operator set up again, the simd kernel's buffers), and which implementation declines
// what, saying why.
#include <doctest/doctest.h>

#include "ops/conv_transpose_case.h"
#include "session_checks.h"

using namespace octet;
using namespace octet::test;

namespace {

bool compiled(const std::string& backend) {
  const auto v = optimized_backends();
  return std::find(v.begin(), v.end(), backend) != v.end();
}

// Batches 1, 3, 1, 2 through one session of `backend` at precision p.
void check_batch_changes(const ConvTransposeCase& c, Precision p, const std::string& backend, const std::string& impl) {
  INFO(c.str() << " " << precision_name(p) << " on " << backend);
  const auto model = conv_transpose_tester(c, 31).precision(p).build().model;
  CHECK(dispatch_of(model, backend).impl == impl);
  std::vector<std::map<std::string, NdArray>> feeds;
  for (int64_t n : {1, 3, 1, 2})
    feeds.push_back({{"x0", p == Precision::Float ? random_f32({n, c.H, c.W, c.C}, -1.f, 1.f, 40 + static_cast<uint32_t>(n))
                                                  : random_q8(c.x.dtype, {n, c.H, c.W, c.C}, 40 + static_cast<uint32_t>(n))}});
  check_runs_over_feeds(model, backend, feeds);
}

}  // namespace

TEST_SUITE("conv_transpose") {

TEST_CASE("conv_transpose: the batch changes between runs of one session, on every implementation") {
  ConvTransposeCase c;
  c.C = 17, c.O = 24, c.oph = c.opw = 1, c.x = u8(37), c.act = "Relu";
  if (compiled("onednn")) {
    check_batch_changes(c, Precision::Int8Static, "onednn", "qs8_conv_transpose__onednn");
    check_batch_changes(c, Precision::Float, "onednn", "f32_conv_transpose__onednn");
    ConvTransposeCase gaps = c;   // a kernel shorter than the stride: octet's simd kernel
    gaps.KH = gaps.KW = 1, gaps.pad(0);
    check_batch_changes(gaps, Precision::Int8Static, "onednn", "qs8_conv_transpose__simd");
  }
  if (compiled("xnnpack")) {
    check_batch_changes(c, Precision::Int8Static, "xnnpack", "qs8_conv_transpose__simd");
    check_batch_changes(c, Precision::Float, "xnnpack", "f32_conv_transpose__xnnpack");
  }
  if (!compiled("onednn") && !compiled("xnnpack")) MESSAGE("SKIPPED: neither oneDNN nor XNNPACK in this build");
}

TEST_CASE("conv_transpose: oneDNN declines what its int8 deconvolution gets wrong, saying why; the simd kernel takes it") {
  if (!compiled("onednn")) {
    MESSAGE("SKIPPED: no oneDNN backend in this build");
    return;
  }
  struct Declined {
    ConvTransposeCase c;
    const char* why;
  };
  std::vector<Declined> cases;
  ConvTransposeCase c;
  c.KH = c.KW = 1, c.pad(0);
  cases.push_back({c, "kernel smaller than the stride"});
  c = ConvTransposeCase{};
  c.pb = 0, c.oph = 1;
  cases.push_back({c, "output_padding beyond the end padding"});
  c = ConvTransposeCase{};
  c.C = c.O = c.group = 8, c.x = u8(3);
  cases.push_back({c, "depthwise with a source zero point"});
  for (const Declined& d : cases) {
    INFO(d.c.str());
    const DispatchEntry e = dispatch_of(conv_transpose_tester(d.c, 3).precision(Precision::Int8Static).build().model, "onednn");
    CHECK(e.impl == "qs8_conv_transpose__simd");
    CHECK(e.note.find(std::string("qs8_conv_transpose__onednn: ") + d.why) != std::string::npos);
    // Float is not affected (oneDNN runs it as a backward-data convolution).
    CHECK(dispatch_of(conv_transpose_tester(d.c, 3).precision(Precision::Float).build().model, "onednn").impl ==
          "f32_conv_transpose__onednn");
  }
  // The detail names oneDNN's own implementation.
  const DispatchEntry e = dispatch_of(conv_transpose_tester(ConvTransposeCase{}, 3).precision(Precision::Int8Static).build().model, "onednn");
  CHECK(e.impl == "qs8_conv_transpose__onednn");
  CHECK(!e.detail.empty());
}

TEST_CASE("conv_transpose: XNNPACK declines int8 (per-tensor, fixed-point deconvolution), saying why") {
  if (!compiled("xnnpack")) {
    MESSAGE("SKIPPED: no XNNPACK backend in this build");
    return;
  }
  const DispatchEntry e = dispatch_of(conv_transpose_tester(ConvTransposeCase{}, 3).precision(Precision::Int8Static).build().model, "xnnpack");
  CHECK(e.impl == "qs8_conv_transpose__simd");
  CHECK(e.note.find("qs8_conv_transpose__xnnpack: XNNPACK's int8 deconvolution has per-tensor weight scales") != std::string::npos);
  ConvTransposeCase c;
  c.act = "HardSwish";
  const DispatchEntry f = dispatch_of(conv_transpose_tester(c, 3).precision(Precision::Float).build().model, "xnnpack");
  CHECK(f.backend == "reference");
  CHECK(f.note.find("fused HardSwish is not an output clamp") != std::string::npos);
}

}  // TEST_SUITE
