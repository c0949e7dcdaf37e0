// The reference LSTM/GRU/RNN, open for one kind of extension: how the matrix products are
// computed. Everything else (quantizing X and h, the order of the float operations, the gates,
// sequence lengths, directions, outputs) is this one definition, so a kernel that overrides
// products() with a faster exact product (kernels/simd/rnn_simd.cc) gives the reference's
// results bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "ops/rnn_params.h"
#include "quant/quant.h"

namespace octet::ref {

// Rows of K values: floats, or dynamically quantized (u8, per tensor or per row) codes minus the
// zero point.
struct RnnRows {
  int64_t K = 0;
  const float* f = nullptr;
  std::vector<int16_t> q;
  std::vector<uint8_t> bad;   // row holds NaN or +-Inf (int8 only): its products are NaN
  std::vector<q::Params> params;   // each row's (the tensor's, repeated, when per tensor)
  float scale_of(int64_t r) const { return params[static_cast<size_t>(r)].scale; }
  // Reuses the storage: no allocation per time step once it has grown.
  void quantize(const float* x, int64_t rows, int64_t k, bool per_row = false);
};

class RnnKernel : public Kernel {
 public:
  explicit RnnKernel(const KernelContext& ctx);
  void run(const KernelArgs& a) override;

 protected:
  // out[r * n + j] = (row r of x) . (row w0 + j of w) for r < rows, j < n: in int8, the exact
  // integer sum as float times (x.scale_of(r) * s_w[w0 + j]), NaN for a bad row; in float, summed in
  // double. Overrides must give the same values.
  virtual void products(const RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out);

  const NodeDef& node_;
  RnnParams p_;
  bool int8_ = false;
  bool x_per_row_ = false;   // input_quant per_row: X quantized per row (time step, batch element)

 private:
  float clip(float v) const { return p_.clip > 0 ? std::min(std::max(v, -p_.clip), p_.clip) : v; }
  std::vector<int64_t> sequence_lengths(const Tensor* t, int64_t S, int64_t B) const;
  // Per-run buffers, kept between runs.
  RnnRows xs_, hs_, rs_;
  std::vector<float> xw_, hp_, rp_, h_, c_, hnew_, cnew_, pre_, hw_, rh_;
};

}  // namespace octet::ref
