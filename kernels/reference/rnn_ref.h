// The reference LSTM/GRU/RNN, open for the extensions a fast kernel needs: how the matrix
// products are computed, how X and h are quantized (int8_dynamic), and how a gate activation
// runs over a vector. Everything else (the order of the float operations, the gates, sequence
// lengths, directions, layouts, GRU's two forms, the outputs) is this one step loop, so a kernel
// that overrides products() with a faster exact product (kernels/simd/rnn_simd.cc) gives the
// reference's results bit for bit, and one that also overrides activate() with approximations
// (kernels/x86/rnn_x86.cc) differs only by them.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "ops/rnn_params.h"
#include "quant/quant.h"

namespace octet::ref {

// Rows of K values: floats, or dynamically quantized u8 codes (per tensor or per row) with each
// row's quantization params.
struct RnnRows {
  int64_t K = 0;
  const float* f = nullptr;
  std::vector<uint8_t> codes;
  std::vector<uint8_t> bad;        // row holds NaN or +-Inf (int8 only): its products are NaN
  std::vector<q::Params> params;   // each row's (the tensor's, repeated, when per tensor)
  float scale_of(int64_t r) const { return params[static_cast<size_t>(r)].scale; }
  int32_t zero_point_of(int64_t r) const { return params[static_cast<size_t>(r)].zero_point; }
  // Reuses the storage: no allocation per time step once it has grown.
  void quantize(const float* x, int64_t rows, int64_t k, bool per_row = false);
  // Sizes codes, bad and params for `rows` rows of k (for quantize() overrides).
  void resize(int64_t rows, int64_t k);
};

class RnnKernel : public Kernel {
 public:
  explicit RnnKernel(const KernelContext& ctx);
  void run(const KernelArgs& a) override;

 protected:
  // out[r * n + j] = (row r of x) . (row w0 + j of w) for r < rows, j < n: in int8, the exact
  // integer sum of (code - zero point) w as float, times (x.scale_of(r) * s_w[w0 + j]), NaN for a
  // bad row; in float, summed in double. Overrides must give the same int8 values.
  virtual void products(const RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out);
  // int8: rows x k floats to codes in *out (dynamic_quant.h: per row, or per tensor). Overrides
  // must give the same codes, params and bad rows.
  virtual void quantize(const float* x, int64_t rows, int64_t k, bool per_row, RnnRows* out);
  // v[i] = a(v[i]) for i < n. The reference: std::exp, std::tanh.
  virtual void activate(RnnAct a, float* v, int64_t n);

  // The weight rows run() asks products() for, per direction: W's gate rows (the input
  // projection of all steps), R's rows of the first recurrent product (GRU with
  // linear_before_reset 0: only z and r) and that GRU's h-gate rows of R (multiplied by r (.) h
  // later). Kernels that pack weights pack these at load; slice_of() finds one again.
  enum class RowsKind : uint8_t { Input, Recurrent, ResetHidden };
  struct WeightRows {
    RowsKind kind;
    int64_t dir, w0, n;   // rows [w0, w0 + n) of W (Input) or R
  };
  const std::vector<WeightRows>& weight_rows() const { return weight_rows_; }
  // The index in weight_rows() of the rows [w0, w0 + n) of w (throws naming the node if absent).
  size_t slice_of(const Tensor& w, int64_t w0, int64_t n) const;

  const NodeDef& node_;
  RnnParams p_;
  bool int8_ = false;
  bool x_per_row_ = false;   // input_quant per_row: X quantized per row (time step, batch element)

 private:
  void clip(float* v, int64_t n) const;
  void sequence_lengths(const Tensor* t, int64_t S, int64_t B);
  std::vector<WeightRows> weight_rows_;
  const TensorDef *w_def_, *r_def_;
  // Per-run buffers, kept between runs.
  RnnRows xs_, hs_, rs_;
  std::vector<int64_t> lens_;
  std::vector<float> bx_, rbh_, xw_, hp_, rp_, h_, c_, hnew_, cnew_, pre_, hw_, rh_;
};

}  // namespace octet::ref
