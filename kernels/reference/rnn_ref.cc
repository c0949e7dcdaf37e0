// Reference LSTM, GRU and RNN (ONNX semantics, docs/format.md "Recurrent ops"): one time step and
// one gate row at a time, written to be read. It defines the float and int8_dynamic results that
// the fast kernels (kernels/onednn/rnn_onednn.cc) are tested against.
//
// int8_dynamic: X is quantized once per run (u8, per tensor, dynamic_quant.h); each step the
// direction's hidden state [B, H] is quantized the same way (and, for GRU without
// linear_before_reset, r (.) h too). Gate pre-activations, in this order of float operations:
//   xw  = float(sum (qx - zx) w) * (sx * sw[row])
//   pre = (xw + (Wb + Rb)) + float(sum (qh - zh) r) * (sh * sr[row])
// A row of X or h (one batch element) holding NaN or +-Inf makes that row's product NaN, so NaN
// propagates through the sequence as it would in float, while the scale comes from the finite
// values only and the other batch elements are untouched.
#include <cmath>
#include <limits>
#include <vector>

#include "ops/op_spec.h"
#include "ops/rnn_params.h"
#include "quant/dynamic_quant.h"
#include "reference/reference_kernels.h"

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

// Rows of K values, either float or dynamically quantized (codes minus zero point).
struct Rows {
  int64_t K = 0;
  const float* f = nullptr;
  std::vector<int32_t> q;
  std::vector<bool> bad;   // row has a non-finite value (int8 only)
  float scale = 1.f;

  void quantize(const float* x, int64_t rows, int64_t k) {
    K = k;
    const size_t n = static_cast<size_t>(rows * k);
    q::Params qp = q::dynamic_params_u8(x, n);
    std::vector<uint8_t> tmp(n);
    q::quantize_u8(x, n, qp, tmp.data());
    q.resize(n);
    for (size_t i = 0; i < n; ++i) q[i] = tmp[i] - qp.zero_point;
    scale = qp.scale;
    bad.assign(static_cast<size_t>(rows), false);
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(x[i])) bad[i / static_cast<size_t>(k)] = true;
  }
};

// Weight matrix [D*G*H, K], float or s8 with per-row (or per-tensor) scales.
struct Weights {
  const Tensor* t;
  int64_t K;
  float scale(int64_t row) const { return t->quant().axis < 0 ? t->quant().scale[0] : t->quant().scale[row]; }
};

// One product row . weight row, dequantized (int8) or in double (float).
float dot(const Rows& x, int64_t xr, const Weights& w, int64_t wr, bool int8) {
  const int64_t K = w.K;
  if (!int8) {
    double acc = 0;
    for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x.f[xr * K + k]) * w.t->as<float>()[wr * K + k];
    return static_cast<float>(acc);
  }
  if (x.bad[xr]) return kNaN;
  int64_t acc = 0;
  for (int64_t k = 0; k < K; ++k) acc += static_cast<int64_t>(x.q[xr * K + k]) * w.t->as<int8_t>()[wr * K + k];
  return static_cast<float>(acc) * (x.scale * w.scale(wr));
}

class RnnRef final : public Kernel {
 public:
  explicit RnnRef(const KernelContext& ctx) : node_(ctx.node), p_(parse_rnn(ctx.node, ctx.input(kRnnR).shape.back())) {}

  void run(const KernelArgs& a) override {
    const Tensor& X = *a.in[kRnnX];
    auto in = [&](size_t i) { return i < a.in.size() ? a.in[i] : nullptr; };
    auto out = [&](size_t i) { return i < a.out.size() ? a.out[i] : nullptr; };
    const Tensor *Bt = in(kRnnB), *lens_t = in(kRnnSeqLens), *h0 = in(kRnnInitH), *c0 = in(kRnnInitC);
    Tensor *Y = out(kRnnY), *Yh = out(kRnnYh), *Yc = out(kRnnYc);
    const bool lstm = p_.gates == 4, gru = p_.gates == 3, int8 = node_.precision == Precision::Int8Dynamic;
    const int64_t S = p_.layout == 0 ? X.shape[0] : X.shape[1], B = p_.layout == 0 ? X.shape[1] : X.shape[0];
    const int64_t I = X.shape[2], H = p_.hidden, G = p_.gates, GH = G * H, D = p_.dirs;
    const std::vector<int64_t> lens = sequence_lengths(lens_t, S, B);
    const Weights W{a.in[kRnnW], I}, R{a.in[kRnnR], H};

    Rows xs;
    xs.K = I;
    if (int8) xs.quantize(X.as<float>(), S * B, I);
    else xs.f = X.as<float>();
    auto xrow = [&](int64_t t, int64_t b) { return p_.layout == 0 ? t * B + b : b * S + t; };
    auto yidx = [&](int64_t t, int64_t d, int64_t b) { return p_.layout == 0 ? ((t * D + d) * B + b) * H : ((b * S + t) * D + d) * H; };
    auto sidx = [&](int64_t d, int64_t b) { return p_.layout == 0 ? (d * B + b) * H : (b * D + d) * H; };
    if (Y) std::fill(Y->as<float>(), Y->as<float>() + Y->elements(), 0.f);

    // pre: gate pre-activations per batch row; hw: GRU's recurrent h-gate product (lbr=1).
    std::vector<float> h(B * H), c(B * H), hnew(B * H), cnew(B * H), pre(B * GH), hw(B * H), rh(B * H);
    for (int64_t d = 0; d < D; ++d) {
      const bool rev = p_.reverse || d == 1;
      const float* wb = Bt ? Bt->as<float>() + d * 2 * GH : nullptr;
      const float* rb = wb ? wb + GH : nullptr;
      auto bias = [&](int64_t n, bool with_rb) { return (wb ? wb[n] : 0.f) + (with_rb && rb ? rb[n] : 0.f); };
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          h[b * H + j] = h0 ? h0->as<float>()[sidx(d, b) + j] : 0.f;
          c[b * H + j] = c0 ? c0->as<float>()[sidx(d, b) + j] : 0.f;
        }
      for (int64_t s = 0; s < S; ++s) {
        auto active = [&](int64_t b) { return s < lens[b]; };
        auto time = [&](int64_t b) { return rev ? lens[b] - 1 - s : s; };
        Rows hs;
        hs.K = H;
        if (int8) hs.quantize(h.data(), B, H);
        else hs.f = h.data();
        hnew = h, cnew = c;
        for (int64_t b = 0; b < B; ++b) {
          if (!active(b)) continue;
          for (int64_t n = 0; n < GH; ++n) {
            const int64_t row = d * GH + n;
            const bool gru_h = gru && n >= 2 * H;
            float v = dot(xs, xrow(time(b), b), W, row, int8) + bias(n, !(gru_h && p_.linear_before_reset));
            if (!gru_h) v = v + dot(hs, b, R, row, int8);
            else if (p_.linear_before_reset) hw[b * H + n - 2 * H] = dot(hs, b, R, row, int8) + (rb ? rb[n] : 0.f);
            pre[b * GH + n] = v;
          }
        }
        if (gru) {
          // r first: without linear_before_reset it multiplies h before the recurrent product.
          std::fill(rh.begin(), rh.end(), 0.f);
          for (int64_t b = 0; b < B; ++b) {
            if (!active(b)) continue;
            for (int64_t j = 0; j < H; ++j) {
              float* pr = &pre[b * GH + H + j];
              *pr = activate(p_.act(d, 0), clip(*pr));
              if (!p_.linear_before_reset) rh[b * H + j] = *pr * h[b * H + j];
            }
          }
          Rows rs;
          rs.K = H;
          if (!p_.linear_before_reset) {
            if (int8) rs.quantize(rh.data(), B, H);
            else rs.f = rh.data();
          }
          for (int64_t b = 0; b < B; ++b) {
            if (!active(b)) continue;
            for (int64_t j = 0; j < H; ++j) {
              const float z = activate(p_.act(d, 0), clip(pre[b * GH + j]));
              const float r = pre[b * GH + H + j];
              float hp = pre[b * GH + 2 * H + j];
              if (p_.linear_before_reset) hp = hp + r * hw[b * H + j];
              else hp = hp + dot(rs, b, R, d * GH + 2 * H + j, int8);
              const float hh = activate(p_.act(d, 1), clip(hp));
              hnew[b * H + j] = (1.f - z) * hh + z * h[b * H + j];
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
          if (active(b) && Y) std::copy(hnew.begin() + b * H, hnew.begin() + (b + 1) * H, Y->as<float>() + yidx(time(b), d, b));
        h.swap(hnew), c.swap(cnew);
      }
      for (int64_t b = 0; b < B; ++b) {
        if (Yh) std::copy(h.begin() + b * H, h.begin() + (b + 1) * H, Yh->as<float>() + sidx(d, b));
        if (Yc) std::copy(c.begin() + b * H, c.begin() + (b + 1) * H, Yc->as<float>() + sidx(d, b));
      }
    }
  }

 private:
  float clip(float v) const { return p_.clip > 0 ? std::min(std::max(v, -p_.clip), p_.clip) : v; }

  std::vector<int64_t> sequence_lengths(const Tensor* t, int64_t S, int64_t B) const {
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

  const NodeDef& node_;
  RnnParams p_;
};
}  // namespace

std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx) { return std::make_unique<RnnRef>(ctx); }

}  // namespace octet::ref
