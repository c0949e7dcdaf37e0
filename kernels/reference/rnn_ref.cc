// Reference LSTM, GRU and RNN (ONNX semantics, docs/format.md "Recurrent ops"): one time step at
// a time, one batch row and one gate vector at a time, written to be read. It defines the float
// and int8_dynamic results the fast kernels are tested against, and it is their step loop too:
// they override the matrix products, X/h quantization and vector activations (rnn_ref.h).
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

float activate_one(RnnAct a, float v) {
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

void RnnRows::resize(int64_t rows, int64_t k) {
  K = k;
  codes.resize(static_cast<size_t>(rows * k));
  params.resize(static_cast<size_t>(rows));
  bad.assign(static_cast<size_t>(rows), 0);
}

void RnnRows::quantize(const float* x, int64_t rows, int64_t k, bool per_row) {
  resize(rows, k);
  q::dynamic_params_u8_rows(x, static_cast<size_t>(rows), static_cast<size_t>(k), per_row, params.data());
  for (int64_t r = 0; r < rows; ++r) q::quantize_u8(x + r * k, static_cast<size_t>(k), params[r], codes.data() + r * k);
  for (int64_t i = 0; i < rows * k; ++i)
    if (!std::isfinite(x[i])) bad[i / k] = 1;
}

RnnKernel::RnnKernel(const KernelContext& ctx)
    : node_(ctx.node),
      p_(parse_rnn(ctx.node, ctx.input(kRnnR).shape.back())),
      int8_(ctx.node.precision == Precision::Int8Dynamic),
      x_per_row_(dynamic_input_per_row(ctx.node)),
      w_def_(&ctx.input(kRnnW)),
      r_def_(&ctx.input(kRnnR)) {
  const int64_t H = p_.hidden, GH = p_.gates * H;
  const bool gru0 = p_.gates == 3 && !p_.linear_before_reset;
  for (int64_t d = 0; d < p_.dirs; ++d) {
    weight_rows_.push_back({RowsKind::Input, d, d * GH, GH});
    weight_rows_.push_back({RowsKind::Recurrent, d, d * GH, gru0 ? 2 * H : GH});
    if (gru0) weight_rows_.push_back({RowsKind::ResetHidden, d, d * GH + 2 * H, H});
  }
}

size_t RnnKernel::slice_of(const Tensor& w, int64_t w0, int64_t n) const {
  for (size_t i = 0; i < weight_rows_.size(); ++i) {
    const WeightRows& s = weight_rows_[i];
    if ((s.kind == RowsKind::Input ? w_def_ : r_def_) == w.def && s.w0 == w0 && s.n == n) return i;
  }
  node_error(node_, "asked for weight rows that are not one of the recurrent op's slices");
}

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
        for (int64_t k = 0; k < K; ++k)
          acc += (static_cast<int64_t>(x.codes[r * K + k]) - x.zero_point_of(r)) * w.as<int8_t>()[wr * K + k];
        out[r * n + j] = static_cast<float>(acc) * (x.scale_of(r) * wq.scale[wq.axis < 0 ? 0 : wr]);
      }
    }
}

void RnnKernel::quantize(const float* x, int64_t rows, int64_t k, bool per_row, RnnRows* out) { out->quantize(x, rows, k, per_row); }

void RnnKernel::activate(RnnAct a, float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = activate_one(a, v[i]);
}

// Same form as std::min(std::max()), so NaN passes through.
void RnnKernel::clip(float* v, int64_t n) const {
  if (p_.clip <= 0) return;
  for (int64_t i = 0; i < n; ++i) v[i] = std::min(std::max(v[i], -p_.clip), p_.clip);
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
  sequence_lengths(lens_t, S, B);
  // Recurrent products per step: GRU without linear_before_reset multiplies r (.) h by its h-gate
  // rows after r is known, so only the z and r rows come first. Those gates (all of them
  // elsewhere) add their recurrent product straight to the pre-activation.
  const int64_t nh = gru && !lbr ? 2 * H : GH, direct = gru ? 2 * H : GH;

  xs_.K = I, hs_.K = H, rs_.K = H;
  if (int8_) quantize(X.as<float>(), S * B, I, x_per_row_, &xs_);
  else xs_.f = X.as<float>();
  auto xrow = [&](int64_t t, int64_t b) { return p_.layout == 0 ? t * B + b : b * S + t; };
  auto yidx = [&](int64_t t, int64_t d, int64_t b) { return p_.layout == 0 ? ((t * D + d) * B + b) * H : ((b * S + t) * D + d) * H; };
  auto sidx = [&](int64_t d, int64_t b) { return p_.layout == 0 ? (d * B + b) * H : (b * D + d) * H; };
  // Every Y entry within a sequence is written below; only shorter sequences leave zeros.
  if (Y && std::any_of(lens_.begin(), lens_.end(), [&](int64_t l) { return l < S; }))
    std::fill(Y->as<float>(), Y->as<float>() + Y->elements(), 0.f);

  // bx: the bias each gate adds to its input product (Wb + Rb; GRU's h gate with
  // linear_before_reset: Wb only, its Rb goes with the recurrent product: rbh). xw: input
  // products of every step; hp, rp: recurrent products of this step; pre: gate pre-activations
  // per batch row; hw: GRU's recurrent h-gate product (lbr = 1).
  float* bx = sized(bx_, GH);
  float* rbh = sized(rbh_, H);
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
    for (int64_t n = 0; n < GH; ++n) {
      const bool rb_later = gru && lbr && n >= 2 * H;
      bx[n] = (wb ? wb[n] : 0.f) + (!rb_later && rb ? rb[n] : 0.f);
    }
    for (int64_t j = 0; j < H; ++j) rbh[j] = rb && gru ? rb[2 * H + j] : 0.f;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        h[b * H + j] = h0 ? h0->as<float>()[sidx(d, b) + j] : 0.f;
        c[b * H + j] = c0 ? c0->as<float>()[sidx(d, b) + j] : 0.f;
      }
    products(xs_, S * B, W, d * GH, GH, xw);
    for (int64_t s = 0; s < S; ++s) {
      auto active = [&](int64_t b) { return s < lens_[b]; };
      auto time = [&](int64_t b) { return rev ? lens_[b] - 1 - s : s; };
      if (int8_) quantize(h, B, H, false, &hs_);
      else hs_.f = h;
      products(hs_, B, R, d * GH, nh, hp);
      std::copy(h, h + B * H, hnew), std::copy(c, c + B * H, cnew);
      for (int64_t b = 0; b < B; ++b) {
        if (!active(b)) continue;
        const float* x = &xw[xrow(time(b), b) * GH];
        const float* hr = &hp[b * nh];
        float* g = &pre[b * GH];
        for (int64_t n = 0; n < direct; ++n) g[n] = (x[n] + bx[n]) + hr[n];
        for (int64_t n = direct; n < GH; ++n) g[n] = x[n] + bx[n];   // GRU's h gate: finished below
        if (gru && lbr)
          for (int64_t j = 0; j < H; ++j) hw[b * H + j] = hr[2 * H + j] + rbh[j];
      }
      if (gru) {
        // Gates z, r, h. r first: without linear_before_reset it multiplies h before the
        // recurrent product.
        std::fill(rh, rh + B * H, 0.f);
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          float* r = &pre[b * GH + H];
          clip(r, H);
          activate(p_.act(d, 0), r, H);
          if (!lbr)
            for (int64_t j = 0; j < H; ++j) rh[b * H + j] = r[j] * h[b * H + j];
        }
        if (!lbr) {
          if (int8_) quantize(rh, B, H, false, &rs_);
          else rs_.f = rh;
          products(rs_, B, R, d * GH + 2 * H, H, rp);
        }
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          float *z = &pre[b * GH], *r = z + H, *hh = z + 2 * H;
          clip(z, H);
          activate(p_.act(d, 0), z, H);
          if (lbr)
            for (int64_t j = 0; j < H; ++j) hh[j] = hh[j] + r[j] * hw[b * H + j];
          else
            for (int64_t j = 0; j < H; ++j) hh[j] = hh[j] + rp[b * H + j];
          clip(hh, H);
          activate(p_.act(d, 1), hh, H);
          for (int64_t j = 0; j < H; ++j) hnew[b * H + j] = (1.f - z[j]) * hh[j] + z[j] * h[b * H + j];
        }
      } else {
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          float* g = &pre[b * GH];
          float* hb = &hnew[b * H];
          clip(g, GH);
          if (!lstm) {
            activate(p_.act(d, 0), g, H);
            std::copy(g, g + H, hb);
            continue;
          }
          // Gates i, o, f, c: c' = f c + i c~, h' = o act(c').
          activate(p_.act(d, 0), g, 3 * H);
          activate(p_.act(d, 1), g + 3 * H, H);
          const float *i_g = g, *o_g = g + H, *f_g = g + 2 * H, *c_g = g + 3 * H, *cb = &c[b * H];
          float* cn = &cnew[b * H];
          for (int64_t j = 0; j < H; ++j) cn[j] = f_g[j] * cb[j] + i_g[j] * c_g[j];
          std::copy(cn, cn + H, hb);
          activate(p_.act(d, 2), hb, H);
          for (int64_t j = 0; j < H; ++j) hb[j] = o_g[j] * hb[j];
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

void RnnKernel::sequence_lengths(const Tensor* t, int64_t S, int64_t B) {
  lens_.assign(static_cast<size_t>(B), S);
  if (!t) return;
  for (int64_t b = 0; b < B; ++b) {
    lens_[b] = t->dtype == DataType::s32 ? t->as<int32_t>()[b] : t->as<int64_t>()[b];
    if (lens_[b] < 0 || lens_[b] > S)
      node_error(node_, "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens_[b]) +
                            " is outside the sequence length " + std::to_string(S));
  }
}

std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx) { return std::make_unique<RnnKernel>(ctx); }

}  // namespace octet::ref
