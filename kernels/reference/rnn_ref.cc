// Reference LSTM, GRU and RNN (ONNX semantics, docs/format.md "Recurrent ops"): one time step and
// one gate row at a time, written to be read. It defines the float and int8_dynamic results that
// the fast kernels (kernels/onednn/rnn_onednn.cc) are tested against. The matrix products are
// one virtual function (rnn_ref.h): kernels/simd/rnn_simd.cc replaces it with its exact GEMM.
//
// int8_dynamic: X is quantized once per run (u8, per tensor, or per row with input_quant per_row:
// one scale per time step and batch element; dynamic_quant.h); each step the
// direction's hidden state [B, H] is quantized the same way (and, for GRU without
// linear_before_reset, r (.) h too). Gate pre-activations, in this order of float operations:
//   xw  = float(sum (qx - zx) w) * (sx[step, batch] * sw[row])
//   pre = (xw + (Wb + Rb)) + float(sum (qh - zh) r) * (sh * sr[row])
// A row of X or h (one batch element) holding NaN or +-Inf makes that row's product NaN, so NaN
// propagates through the sequence as it would in float, while the scale comes from the finite
// values only and the other batch elements are untouched.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/dynamic_quant.h"
#include "reference/reference_kernels.h"
#include "reference/rnn_ref.h"

namespace octet::ref {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

float activate(RnnAct a, float v) {
  switch (a) {
    case RnnAct::Sigmoid: return 1.f / (1.f + std::exp(-v));
    case RnnAct::Tanh: return std::tanh(v);
    case RnnAct::Relu: return v > 0 ? v : 0.f;
  }
  return v;
}

template <class T> T* sized(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}
}  // namespace

void RnnRows::quantize(const float* x, int64_t rows, int64_t k, bool per_row) {
  K = k;
  const size_t n = static_cast<size_t>(rows * k);
  q.resize(n);
  params.resize(static_cast<size_t>(rows));
  q::dynamic_params_u8_rows(x, static_cast<size_t>(rows), static_cast<size_t>(k), per_row, params.data());
  for (int64_t r = 0; r < rows; ++r) {
    const q::Params qp = params[r];
    const float inv = 1.f / qp.scale;
    for (int64_t i = r * k; i < (r + 1) * k; ++i) q[i] = static_cast<int16_t>(q::quantize<uint8_t>(x[i], inv, qp.zero_point) - qp.zero_point);
  }
  bad.assign(static_cast<size_t>(rows), 0);
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) bad[i / static_cast<size_t>(k)] = 1;
}

RnnKernel::RnnKernel(const KernelContext& ctx)
    : node_(ctx.node),
      p_(parse_rnn(ctx.node, ctx.input(kRnnR).shape.back())),
      int8_(ctx.node.precision == Precision::Int8Dynamic),
      x_per_row_(dynamic_input_per_row(ctx.node)) {}

void RnnKernel::products(const RnnRows& x, int64_t rows, const Tensor& w, int64_t w0, int64_t n, float* out) {
  const int64_t K = x.K;
  const QuantInfo& wq = w.quant();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t wr = w0 + j;
      if (!int8_) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x.f[r * K + k]) * w.as<float>()[wr * K + k];
        out[r * n + j] = static_cast<float>(acc);
      } else if (x.bad[r]) {
        out[r * n + j] = kNaN;
      } else {
        int64_t acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += static_cast<int64_t>(x.q[r * K + k]) * w.as<int8_t>()[wr * K + k];
        out[r * n + j] = static_cast<float>(acc) * (x.scale_of(r) * wq.scale[wq.axis < 0 ? 0 : wr]);
      }
    }
}

void RnnKernel::run(const KernelArgs& a) {
  const Tensor& X = *a.in[kRnnX];
  auto in = [&](size_t i) { return i < a.in.size() ? a.in[i] : nullptr; };
  auto out = [&](size_t i) { return i < a.out.size() ? a.out[i] : nullptr; };
  const Tensor *Bt = in(kRnnB), *lens_t = in(kRnnSeqLens), *h0 = in(kRnnInitH), *c0 = in(kRnnInitC);
  Tensor *Y = out(kRnnY), *Yh = out(kRnnYh), *Yc = out(kRnnYc);
  const Tensor& W = *a.in[kRnnW];
  const Tensor& R = *a.in[kRnnR];
  const bool lstm = p_.gates == 4, gru = p_.gates == 3, lbr = p_.linear_before_reset;
  const int64_t S = p_.layout == 0 ? X.shape[0] : X.shape[1], B = p_.layout == 0 ? X.shape[1] : X.shape[0];
  const int64_t I = X.shape[2], H = p_.hidden, G = p_.gates, GH = G * H, D = p_.dirs;
  const std::vector<int64_t> lens = sequence_lengths(lens_t, S, B);
  // Recurrent products per step: GRU without linear_before_reset multiplies r (.) h by its h-gate
  // rows after r is known, so only the z and r rows come first.
  const int64_t nh = gru && !lbr ? 2 * H : GH;

  xs_.K = I, hs_.K = H, rs_.K = H;
  if (int8_) xs_.quantize(X.as<float>(), S * B, I, x_per_row_);
  else xs_.f = X.as<float>();
  auto xrow = [&](int64_t t, int64_t b) { return p_.layout == 0 ? t * B + b : b * S + t; };
  auto yidx = [&](int64_t t, int64_t d, int64_t b) { return p_.layout == 0 ? ((t * D + d) * B + b) * H : ((b * S + t) * D + d) * H; };
  auto sidx = [&](int64_t d, int64_t b) { return p_.layout == 0 ? (d * B + b) * H : (b * D + d) * H; };
  if (Y) std::fill(Y->as<float>(), Y->as<float>() + Y->elements(), 0.f);

  // xw: input products of every step; hp, rp: recurrent products of this step; pre: gate
  // pre-activations per batch row; hw: GRU's recurrent h-gate product (lbr = 1).
  float* xw = sized(xw_, S * B * GH);
  float* hp = sized(hp_, B * nh);
  float* rp = sized(rp_, B * H);
  float* h = sized(h_, B * H);
  float* c = sized(c_, B * H);
  float* hnew = sized(hnew_, B * H);
  float* cnew = sized(cnew_, B * H);
  float* pre = sized(pre_, B * GH);
  float* hw = sized(hw_, B * H);
  float* rh = sized(rh_, B * H);
  for (int64_t d = 0; d < D; ++d) {
    const bool rev = p_.reverse || d == 1;
    const bool summed = Bt && Bt->elements() == D * GH;   // [D, G*H] = Wb + Rb (docs/format.md)
    const float* wb = Bt ? Bt->as<float>() + d * (summed ? GH : 2 * GH) : nullptr;
    const float* rb = wb && !summed ? wb + GH : nullptr;
    auto bias = [&](int64_t n, bool with_rb) { return (wb ? wb[n] : 0.f) + (with_rb && rb ? rb[n] : 0.f); };
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        h[b * H + j] = h0 ? h0->as<float>()[sidx(d, b) + j] : 0.f;
        c[b * H + j] = c0 ? c0->as<float>()[sidx(d, b) + j] : 0.f;
      }
    products(xs_, S * B, W, d * GH, GH, xw);
    for (int64_t s = 0; s < S; ++s) {
      auto active = [&](int64_t b) { return s < lens[b]; };
      auto time = [&](int64_t b) { return rev ? lens[b] - 1 - s : s; };
      if (int8_) hs_.quantize(h, B, H);
      else hs_.f = h;
      products(hs_, B, R, d * GH, nh, hp);
      std::copy(h, h + B * H, hnew), std::copy(c, c + B * H, cnew);
      for (int64_t b = 0; b < B; ++b) {
        if (!active(b)) continue;
        for (int64_t n = 0; n < GH; ++n) {
          const bool gru_h = gru && n >= 2 * H;
          float v = xw[xrow(time(b), b) * GH + n] + bias(n, !(gru_h && lbr));
          if (!gru_h) v = v + hp[b * nh + n];
          else if (lbr) hw[b * H + n - 2 * H] = hp[b * nh + n] + (rb ? rb[n] : 0.f);
          pre[b * GH + n] = v;
        }
      }
      if (gru) {
        // r first: without linear_before_reset it multiplies h before the recurrent product.
        std::fill(rh, rh + B * H, 0.f);
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          for (int64_t j = 0; j < H; ++j) {
            float* pr = &pre[b * GH + H + j];
            *pr = activate(p_.act(d, 0), clip(*pr));
            if (!lbr) rh[b * H + j] = *pr * h[b * H + j];
          }
        }
        if (!lbr) {
          if (int8_) rs_.quantize(rh, B, H);
          else rs_.f = rh;
          products(rs_, B, R, d * GH + 2 * H, H, rp);
        }
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          for (int64_t j = 0; j < H; ++j) {
            const float z = activate(p_.act(d, 0), clip(pre[b * GH + j]));
            const float r = pre[b * GH + H + j];
            float hh = pre[b * GH + 2 * H + j];
            if (lbr) hh = hh + r * hw[b * H + j];
            else hh = hh + rp[b * H + j];
            const float ht = activate(p_.act(d, 1), clip(hh));
            hnew[b * H + j] = (1.f - z) * ht + z * h[b * H + j];
          }
        }
      } else {
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          const float* g = &pre[b * GH];
          for (int64_t j = 0; j < H; ++j) {
            if (!lstm) {
              hnew[b * H + j] = activate(p_.act(d, 0), clip(g[j]));
              continue;
            }
            const float i_g = activate(p_.act(d, 0), clip(g[j]));
            const float o_g = activate(p_.act(d, 0), clip(g[H + j]));
            const float f_g = activate(p_.act(d, 0), clip(g[2 * H + j]));
            const float c_g = activate(p_.act(d, 1), clip(g[3 * H + j]));
            const float cn = f_g * c[b * H + j] + i_g * c_g;
            cnew[b * H + j] = cn;
            hnew[b * H + j] = o_g * activate(p_.act(d, 2), cn);
          }
        }
      }
      for (int64_t b = 0; b < B; ++b)
        if (active(b) && Y) std::copy(hnew + b * H, hnew + (b + 1) * H, Y->as<float>() + yidx(time(b), d, b));
      std::swap(h, hnew), std::swap(c, cnew);
    }
    for (int64_t b = 0; b < B; ++b) {
      if (Yh) std::copy(h + b * H, h + (b + 1) * H, Yh->as<float>() + sidx(d, b));
      if (Yc) std::copy(c + b * H, c + (b + 1) * H, Yc->as<float>() + sidx(d, b));
    }
  }
}

std::vector<int64_t> RnnKernel::sequence_lengths(const Tensor* t, int64_t S, int64_t B) const {
  std::vector<int64_t> lens(static_cast<size_t>(B), S);
  if (!t) return lens;
  for (int64_t b = 0; b < B; ++b) {
    lens[b] = t->dtype == DataType::s32 ? t->as<int32_t>()[b] : t->as<int64_t>()[b];
    if (lens[b] < 0 || lens[b] > S)
      node_error(node_, "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                            " is outside the sequence length " + std::to_string(S));
  }
  return lens;
}

std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx) { return std::make_unique<RnnKernel>(ctx); }

}  // namespace octet::ref
