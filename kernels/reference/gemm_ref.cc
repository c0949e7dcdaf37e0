// Reference FullyConnected (Y[..., N] = X[..., K] W[N, K]^T + B) and MatMul (numpy matmul of two
// activations, batch dims broadcast). Quantized forms:
//
//   FullyConnected static:  acc = sum (x - zp_x) w + bias;  y = requantize(acc) (quant/requant.h)
//   FullyConnected dynamic: x quantized per tensor (or per row: input_quant) at run time to u8
//                           (dynamic_quant.h), then real = acc s_x s_w[n] + bias_f32, output float
//   MatMul static:          acc = sum (a - zp_a)(b - zp_b);  y = requantize(acc), with s_a s_b for s_x s_w
//   MatMul dynamic:         A quantized per tensor at run time to u8 (as FullyConnected's x), B to
//                           s8 symmetric per tensor (dynamic_scale_s8); real = acc s_a s_b, output float
#include <vector>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/activation.h"
#include "quant/dynamic_quant.h"
#include "quant/quant.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

// Operand as zero-point-free integers plus its scale (static or dynamic), or as floats.
struct Operand {
  std::vector<int32_t> i;
  const float* f = nullptr;
  float scale = 1.f;
  std::vector<float> row_scale;   // per-row dynamic quantization: one scale per row
  float scale_of_row(int64_t r) const { return row_scale.empty() ? scale : row_scale[static_cast<size_t>(r)]; }
};
// per_row_cols > 0: a dynamic operand quantized per row of that many values (input_quant).
Operand load_operand(const Tensor& t, Precision p, bool symmetric = false, int64_t per_row_cols = 0) {
  Operand o;
  const int64_t n = t.elements();
  if (p == Precision::Int8Dynamic && symmetric) {
    o.scale = q::dynamic_scale_s8(t.as<float>(), n);
    std::vector<int8_t> tmp(n);
    q::quantize_s8_symmetric(t.as<float>(), n, o.scale, tmp.data());
    o.i.assign(tmp.begin(), tmp.end());
  } else if (p == Precision::Int8Static) {
    o.i.resize(n);
    for (int64_t k = 0; k < n; ++k) o.i[k] = load_q(t.dtype, t.data, k) - t.zero_point();
    o.scale = t.scale();
  } else if (p == Precision::Int8Dynamic) {
    const int64_t cols = per_row_cols > 0 ? per_row_cols : n, rows = cols > 0 ? n / cols : 0;
    std::vector<q::Params> ps(static_cast<size_t>(rows));
    q::dynamic_params_u8_rows(t.as<float>(), rows, cols, per_row_cols > 0, ps.data());
    std::vector<uint8_t> tmp(n);
    o.i.resize(n);
    for (int64_t r = 0; r < rows; ++r) {
      q::quantize_u8(t.as<float>() + r * cols, cols, ps[r], tmp.data() + r * cols);
      for (int64_t k = r * cols; k < (r + 1) * cols; ++k) o.i[k] = tmp[k] - ps[r].zero_point;
      if (per_row_cols > 0) o.row_scale.push_back(ps[r].scale);
    }
    if (rows > 0) o.scale = ps[0].scale;
  } else {
    o.f = t.as<float>();
  }
  return o;
}

class FullyConnectedRef final : public Kernel {
 public:
  explicit FullyConnectedRef(const KernelContext& ctx) : node_(ctx.node) {}
  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const Tensor& w = *a.in[1];
    const Tensor* b = a.in.size() > 2 ? a.in[2] : nullptr;
    Tensor& y = *a.out[0];
    const int64_t N = w.shape[0], K = w.shape[1], rows = x.elements() / K;
    const Precision p = node_.precision;
    Operand xo = load_operand(x, p, false, p == Precision::Int8Dynamic && dynamic_input_per_row(node_) ? K : 0);
    const QuantInfo& wq = w.quant();
    const q::Requant rq = p == Precision::Int8Static ? q::requant_for(node_.activation, y.scale(), y.zero_point()) : q::Requant{};
#pragma omp parallel for
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t n = 0; n < N; ++n) {
        float real;
        if (p == Precision::Float) {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(xo.f[r * K + k]) * w.as<float>()[n * K + k];
          real = static_cast<float>(acc) + (b ? b->as<float>()[n] : 0.f);
        } else {
          int64_t acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += static_cast<int64_t>(xo.i[r * K + k]) * w.as<int8_t>()[n * K + k];
          const float sw = wq.scale[wq.axis < 0 ? 0 : n];
          if (p == Precision::Int8Static) {   // quant/requant.h
            store_requant(y.dtype, y.data, r * N + n, acc + (b ? b->as<int32_t>()[n] : 0), requant_multiplier(rq, xo.scale, sw),
                          false, 0.f, 0.f, node_.activation, rq);
            continue;
          }
          real = static_cast<float>(acc) * (xo.scale_of_row(r) * sw) + (b ? b->as<float>()[n] : 0.f);
        }
        y.as<float>()[r * N + n] = apply_activation(node_.activation, real);
      }
  }

 private:
  const NodeDef& node_;
};

class MatMulRef final : public Kernel {
 public:
  explicit MatMulRef(const KernelContext& ctx) : node_(ctx.node) {}
  void run(const KernelArgs& a) override {
    const Tensor& A = *a.in[0];
    const Tensor& B = *a.in[1];
    Tensor& Y = *a.out[0];
    const Precision p = node_.precision;
    Operand ao = load_operand(A, p), bo = load_operand(B, p, /*symmetric=*/true);
    const int64_t M = A.shape[A.shape.size() - 2], K = A.shape.back(), N = B.shape.back();
    const int64_t batches = Y.elements() / (M * N);
    const q::Requant rq = p == Precision::Int8Static ? q::requant_for(node_.activation, Y.scale(), Y.zero_point()) : q::Requant{};
    for (int64_t bi = 0; bi < batches; ++bi) {
      const int64_t aoff = matmul_batch_offset(Y.shape, A.shape, bi) * M * K, boff = matmul_batch_offset(Y.shape, B.shape, bi) * K * N;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const int64_t yi = (bi * M + m) * N + n;
          float real;
          if (p == Precision::Float) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(ao.f[aoff + m * K + k]) * bo.f[boff + k * N + n];
            real = static_cast<float>(acc);
          } else {
            int64_t acc = 0;
            for (int64_t k = 0; k < K; ++k) acc += static_cast<int64_t>(ao.i[aoff + m * K + k]) * bo.i[boff + k * N + n];
            if (p == Precision::Int8Static) {   // quant/requant.h
              store_requant(Y.dtype, Y.data, yi, acc, requant_multiplier(rq, ao.scale, bo.scale), false, 0.f, 0.f, node_.activation, rq);
              continue;
            }
            real = static_cast<float>(acc) * (ao.scale * bo.scale);
          }
          Y.as<float>()[yi] = apply_activation(node_.activation, real);
        }
    }
  }

 private:
  const NodeDef& node_;
};
}  // namespace

std::unique_ptr<Kernel> make_fully_connected(const KernelContext& ctx) { return std::make_unique<FullyConnectedRef>(ctx); }
std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx) { return std::make_unique<MatMulRef>(ctx); }

}  // namespace octet::ref
