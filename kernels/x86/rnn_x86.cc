// LSTM, GRU, RNN on x86: octet's own vectorized gate loops, with the matrix products on oneDNN's
// matmul (float; onednn/gemm_onednn.h) or octet's packed u8 x s8 kernel (int8_dynamic,
// gemm_u8s8.h).
// Per run, the input projection of every time step is one GEMM per direction ([S*B, I] x W^T);
// per step, the recurrent product is one small GEMM on the hidden state. int8_dynamic quantizes
// X once and h every step (u8, per tensor, dynamic_quant.h) and runs u8 x s8 -> s32 products
// on weights packed once at load: the zero point is compensated with precomputed weight row sums
// and the scales applied in the gate loop, so the float arithmetic is exactly the reference's
// (docs/format.md, "Recurrent ops"). oneDNN 2.6's gemm:jit re-packed the plain weights on every
// call (int8 was no faster than float) and offers no pre-packed layout for it; it is used only for
// the input projection of many steps, where that pays (exec()). Float primitives depend only on
// shapes (created in reshape(), never per call). All buffers are sized in reshape().
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "onednn/gemm_onednn.h"
#include "onednn/onednn_common.h"
#include "ops/op_spec.h"
#include "ops/params.h"
#include "ops/rnn_params.h"
#include "quant/dynamic_quant.h"
#include "x86/gemm_u8s8.h"
#include "x86/math_avx2.h"
#include "x86/quantize_avx2.h"
#include "x86/x86_kernels.h"

namespace octet::x86 {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

OCTET_AVX2_FMA void activate(RnnAct a, float* v, int64_t n) {
  int64_t i = 0;
  switch (a) {
    case RnnAct::Sigmoid:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, math::sigmoid8(_mm256_loadu_ps(v + i)));
      for (; i < n; ++i) v[i] = math::sigmoid(v[i]);
      break;
    case RnnAct::Tanh:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, math::tanh8(_mm256_loadu_ps(v + i)));
      for (; i < n; ++i) v[i] = math::tanh_approx(v[i]);
      break;
    case RnnAct::Relu: for (int64_t i = 0; i < n; ++i) v[i] = v[i] > 0 ? v[i] : 0.f; break;
  }
}
// Same form as the reference's std::min(std::max()) so NaN passes through.
OCTET_AVX2_FMA void clip(float c, float* v, int64_t n) {
  if (c <= 0) return;
  for (int64_t i = 0; i < n; ++i) {
    const float m = v[i] < -c ? -c : v[i];
    v[i] = c < m ? c : m;
  }
}
// out[n] = base[n] + dequantized (or float) recurrent product.
OCTET_AVX2_FMA void add_product(const float* base, const void* acc, bool int8, int32_t zp, float s, const int32_t* rowsum,
                                const float* wscale, bool bad, float* out, int64_t n) {
  if (!int8) {
    const float* a = static_cast<const float*>(acc);
    for (int64_t i = 0; i < n; ++i) out[i] = base[i] + a[i];
    return;
  }
  const int32_t* a = static_cast<const int32_t*>(acc);
  for (int64_t i = 0; i < n; ++i) out[i] = base[i] + (bad ? kNaN : static_cast<float>(a[i] - zp * rowsum[i]) * (s * wscale[i]));
}

template <class T> T* grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

class RnnX86 final : public Kernel {
 public:
  RnnX86(const KernelContext& ctx, GemmIsa isa)
      : node_(ctx.node), threads_(ctx.threads), isa_(isa), p_(parse_rnn(ctx.node, ctx.input(kRnnR).shape.back())) {
    int8_ = node_.precision == Precision::Int8Dynamic;
    x_per_row_ = dynamic_input_per_row(node_);
    const TensorDef& w = ctx.input(kRnnW);
    const TensorDef& r = ctx.input(kRnnR);
    I_ = w.shape.back(), H_ = p_.hidden, G_ = p_.gates, GH_ = G_ * H_, D_ = p_.dirs;
    const size_t esz = int8_ ? 1 : 4;
    const float* b = ctx.has_input(kRnnB) ? reinterpret_cast<const float*>(ctx.input(kRnnB).data) : nullptr;
    dirs_.resize(D_);
    for (int64_t d = 0; d < D_; ++d) {
      Dir& dir = dirs_[d];
      const bool gru0 = G_ == 3 && !p_.linear_before_reset;
      dir.w = w.data + d * GH_ * I_ * esz;
      dir.r = r.data + d * GH_ * H_ * esz;
      dir.rh = dir.r + 2 * H_ * H_ * esz;
      if (int8_) {   // packed once for octet's u8 x s8 kernel (gemm_u8s8.h)
        auto s8 = [](const uint8_t* p) { return reinterpret_cast<const int8_t*>(p); };
        dir.qw = PackedU8S8(s8(dir.w), GH_, I_, I_, isa);
        dir.qr = PackedU8S8(s8(dir.r), gru0 ? 2 * H_ : GH_, H_, H_, isa);
        if (gru0) dir.qrh = PackedU8S8(s8(dir.rh), H_, H_, H_, isa);
      }
      const bool summed = b && ctx.input(kRnnB).shape.back() == GH_;   // [D, G*H] = Wb + Rb
      const float* wb = b ? b + d * (summed ? GH_ : 2 * GH_) : nullptr;
      const float* rb = wb && !summed ? wb + GH_ : nullptr;
      dir.bias_x.resize(GH_), dir.rb_h.assign(H_, 0.f);
      for (int64_t n = 0; n < GH_; ++n) {
        const bool gru_h_lbr = G_ == 3 && n >= 2 * H_ && p_.linear_before_reset;
        dir.bias_x[n] = (wb ? wb[n] : 0.f) + (!gru_h_lbr && rb ? rb[n] : 0.f);
        if (gru_h_lbr && rb) dir.rb_h[n - 2 * H_] = rb[n];
      }
      if (int8_) {
        row_info(w, d, I_, &dir.sw, &dir.cw);
        row_info(r, d, H_, &dir.sr, &dir.cr);
      }
    }
  }

  Support reshape(const KernelArgs& a) override {
    const Shape& x = a.in[kRnnX]->shape;
    S_ = p_.layout == 0 ? x[0] : x[1], B_ = p_.layout == 0 ? x[1] : x[0];
    if (S_ * B_ == 0) return Support::yes();
    // int8: octet's own packed u8 x s8 kernel (no primitive). Float: oneDNN matmuls reading the
    // model's rows [N, K] in place.
    auto make = [&](int64_t M, int64_t K, int64_t N, Gemm* g, const uint8_t* Dir::*wp, PackedU8S8 Dir::*q) {
      g->M = M, g->q = q;
      if (int8_) return;
      std::vector<const float*> w;
      for (const Dir& dir : dirs_) w.push_back(reinterpret_cast<const float*>(dir.*wp));
      g->f32.init(M, K, N, w, threads_);
      impl_ = g->f32.impl();
    };
    const bool gru0 = G_ == 3 && !p_.linear_before_reset;
    make(S_ * B_, I_, GH_, &proj_, &Dir::w, &Dir::qw);
    make(B_, H_, gru0 ? 2 * H_ : GH_, &rec_, &Dir::r, &Dir::qr);
    if (gru0) make(B_, H_, H_, &rech_, &Dir::rh, &Dir::qrh);
    const size_t M = static_cast<size_t>(S_ * B_), BH = static_cast<size_t>(B_ * H_);
    grow(xq_, M * I_ + 4), grow(xw_, D_ * M * GH_), grow(xbad_, M), grow(xp_, M);   // + 4: the u8 kernel's slack
    grow(hq_, BH + 4), grow(hacc_, B_ * GH_), grow(hbad_, B_), grow(gates_, GH_);
    grow(h_, BH), grow(c_, BH), grow(hn_, BH), grow(cn_, BH), grow(rh_, BH), grow(rhacc_, BH);
    return Support::yes();
  }

  void run(const KernelArgs& a) override {
    auto in = [&](size_t i) { return i < a.in.size() ? a.in[i] : nullptr; };
    auto out = [&](size_t i) { return i < a.out.size() ? a.out[i] : nullptr; };
    const Tensor& X = *a.in[kRnnX];
    const Tensor *lens_t = in(kRnnSeqLens), *h0 = in(kRnnInitH), *c0 = in(kRnnInitC);
    Tensor *Y = out(kRnnY), *Yh = out(kRnnYh), *Yc = out(kRnnYc);
    const int64_t S = S_, B = B_, H = H_, GH = GH_, M = S * B;
    lens_.assign(B, S);
    bool all_full = true;
    for (int64_t b = 0; lens_t && b < B; ++b) {
      lens_[b] = lens_t->dtype == DataType::s32 ? lens_t->as<int32_t>()[b] : lens_t->as<int64_t>()[b];
      if (lens_[b] < 0 || lens_[b] > S)
        node_error(node_, "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens_[b]) +
                              " is outside the sequence length " + std::to_string(S));
      all_full = all_full && lens_[b] == S;
    }
    if (Y && !all_full) std::fill(Y->as<float>(), Y->as<float>() + Y->elements(), 0.f);
    auto sidx = [&](int64_t d, int64_t b) { return p_.layout == 0 ? (d * B + b) * H : (b * D_ + d) * H; };
    if (M == 0) {
      for (int64_t d = 0; d < D_; ++d)
        for (int64_t b = 0; b < B; ++b)
          for (Tensor* t : {Yh, Yc})
            if (t) {
              const Tensor* init = t == Yh ? h0 : c0;
              for (int64_t j = 0; j < H; ++j) t->as<float>()[sidx(d, b) + j] = init ? init->as<float>()[sidx(d, b) + j] : 0.f;
            }
      return;
    }
    // Input projection of all steps, one GEMM per direction, then bias (and scales) folded in.
    const void* xsrc = X.data;
    if (int8_) {
      quantize_u8_rows_avx2(X.as<float>(), M, I_, x_per_row_, xp_.data(), xq_.data());
      for (int64_t m = 0; m < M; ++m) {
        bool bad = false;
        for (int64_t k = 0; k < I_; ++k) bad |= !std::isfinite(X.as<float>()[m * I_ + k]);
        xbad_[m] = bad;
      }
      xsrc = xq_.data();
    }
    for (int64_t d = 0; d < D_; ++d) {
      float* xw = xw_.data() + d * M * GH;
      exec(proj_, d, xsrc, xw);
      const Dir& dir = dirs_[d];
      for (int64_t m = 0; m < M; ++m) fold_bias(xw + m * GH, dir, int8_ ? xp_[m] : q::Params{1.f, 0}, m);
    }

    const bool lstm = G_ == 4, gru = G_ == 3, gru0 = gru && !p_.linear_before_reset;
    const int64_t NR = gru0 ? 2 * H : GH;
    for (int64_t d = 0; d < D_; ++d) {
      const Dir& dir = dirs_[d];
      const bool rev = p_.reverse || d == 1;
      float *h = h_.data(), *c = c_.data(), *hn = hn_.data(), *cn = cn_.data();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          h[b * H + j] = h0 ? h0->as<float>()[sidx(d, b) + j] : 0.f;
          c[b * H + j] = c0 ? c0->as<float>()[sidx(d, b) + j] : 0.f;
        }
      for (int64_t s = 0; s < S; ++s) {
        q::Params hp = recurrent_product(h, B * H, rec_, d, hacc_.data());
        std::copy(h, h + B * H, hn);
        if (lstm) std::copy(c, c + B * H, cn);
        for (int64_t b = 0; b < B; ++b) {
          if (s >= lens_[b]) continue;
          const int64_t t = rev ? lens_[b] - 1 - s : s;
          const int64_t xr = p_.layout == 0 ? t * B + b : b * S + t;
          const float* xw = xw_.data() + (d * M + xr) * GH;
          float* g = gates_.data();
          add_product(xw, hacc_.data() + b * NR, int8_, hp.zero_point, hp.scale, dir.cr.data(), dir.sr.data(), hbad_[b], g, NR);
          float* hb = hn + b * H;
          if (lstm) {
            clip(p_.clip, g, GH);
            activate(p_.act(d, 0), g, 3 * H);
            activate(p_.act(d, 1), g + 3 * H, H);
            float* cb = cn + b * H;
            const float* cp = c + b * H;
            lstm_cell(g, cp, cb, H);
            std::copy(cb, cb + H, hb);
            activate(p_.act(d, 2), hb, H);
            for (int64_t j = 0; j < H; ++j) hb[j] = g[H + j] * hb[j];
          } else if (!gru) {
            clip(p_.clip, g, H);
            activate(p_.act(d, 0), g, H);
            std::copy(g, g + H, hb);
          } else {
            clip(p_.clip, g, 2 * H);
            activate(p_.act(d, 0), g + H, H);   // r
            float* hg = g + 2 * H;
            if (p_.linear_before_reset) {
              // hw (this row's h-gate product) + Rb, times r, onto x's part.
              const int32_t* acc = reinterpret_cast<const int32_t*>(hacc_.data() + b * NR + 2 * H);
              const float* accf = hacc_.data() + b * NR + 2 * H;
              for (int64_t j = 0; j < H; ++j) {
                const float hw = (int8_ ? (hbad_[b] ? kNaN : static_cast<float>(acc[j] - hp.zero_point * dir.cr[2 * H + j]) * (hp.scale * dir.sr[2 * H + j]))
                                        : accf[j]) + dir.rb_h[j];
                hg[j] = xw[2 * H + j] + g[H + j] * hw;
              }
              gru_finish(d, g, h + b * H, hb);
            } else {
              // r * h waits for every row's r: finished below.
              for (int64_t j = 0; j < H; ++j) rh_[b * H + j] = g[H + j] * h[b * H + j];
              std::copy(g, g + H, hn + b * H);   // park z's pre-activation in hn until then
            }
          }
        }
        if (gru0) gru0_finish(d, s, dir, h, hn);
        for (int64_t b = 0; Y && b < B; ++b) {
          if (s >= lens_[b]) continue;
          const int64_t t = rev ? lens_[b] - 1 - s : s;
          const int64_t yi = p_.layout == 0 ? ((t * D_ + d) * B + b) * H : ((b * S + t) * D_ + d) * H;
          std::copy(hn + b * H, hn + (b + 1) * H, Y->as<float>() + yi);
        }
        std::swap(h_, hn_), std::swap(c_, cn_);
        h = h_.data(), c = c_.data(), hn = hn_.data(), cn = cn_.data();
      }
      for (int64_t b = 0; b < B; ++b) {
        if (Yh) std::copy(h + b * H, h + (b + 1) * H, Yh->as<float>() + sidx(d, b));
        if (Yc) std::copy(c + b * H, c + (b + 1) * H, Yc->as<float>() + sidx(d, b));
      }
    }
  }

  std::string detail() const override { return int8_ ? std::string(isa_name(isa_)) + " u8s8 gemm" : "oneDNN matmul " + impl_; }

 private:
  struct Dir {
    // W; R (GRU without linear_before_reset: only its z and r rows); R's h rows (that GRU only)
    const uint8_t *w = nullptr, *r = nullptr, *rh = nullptr;
    PackedU8S8 qw, qr, qrh;   // int8: the same, packed
    std::vector<float> sw, sr, bias_x, rb_h;
    std::vector<int32_t> cw, cr;
  };
  struct Gemm {
    onednn::MatMulF32 f32;   // float: one weight matrix per direction
    int64_t M = 0;
    PackedU8S8 Dir::*q = nullptr;   // int8: the direction's packed weights
  };

  // Per-row scales and code sums (for the activation zero point) of direction d's rows.
  void row_info(const TensorDef& t, int64_t d, int64_t K, std::vector<float>* scale, std::vector<int32_t>* sum) const {
    const int8_t* w = reinterpret_cast<const int8_t*>(t.data);
    scale->resize(GH_), sum->resize(GH_);
    for (int64_t n = 0; n < GH_; ++n) {
      const int64_t row = d * GH_ + n;
      (*scale)[n] = t.quant.axis < 0 ? t.quant.scale[0] : t.quant.scale[row];
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += w[row * K + k];
      (*sum)[n] = acc;
    }
  }

  OCTET_AVX2_FMA static void lstm_cell(const float* g, const float* cp, float* cn, int64_t H) {
    for (int64_t j = 0; j < H; ++j) cn[j] = g[2 * H + j] * cp[j] + g[j] * g[3 * H + j];
  }

  OCTET_AVX2_FMA void gru_finish(int64_t d, float* g, const float* hp, float* hb) const {
    clip(p_.clip, g + 2 * H_, H_);
    activate(p_.act(d, 0), g, H_);
    activate(p_.act(d, 1), g + 2 * H_, H_);
    for (int64_t j = 0; j < H_; ++j) hb[j] = (1.f - g[j]) * g[2 * H_ + j] + g[j] * hp[j];
  }

  void gru0_finish(int64_t d, int64_t s, const Dir& dir, const float* h, float* hn) {
    const int64_t B = B_, H = H_, M = S_ * B_;
    const bool rev = p_.reverse || d == 1;
    for (int64_t b = 0; b < B; ++b)
      if (s >= lens_[b]) std::fill(rh_.begin() + b * H, rh_.begin() + (b + 1) * H, 0.f);
    q::Params rp = recurrent_product(rh_.data(), B * H, rech_, d, rhacc_.data());
    for (int64_t b = 0; b < B; ++b) {
      if (s >= lens_[b]) continue;
      const int64_t t = rev ? lens_[b] - 1 - s : s;
      const int64_t xr = p_.layout == 0 ? t * B + b : b * S_ + t;
      const float* xw = xw_.data() + (d * M + xr) * GH_;
      float* g = gates_.data();
      std::copy(hn + b * H, hn + (b + 1) * H, g);   // z's pre-activation, parked
      add_product(xw + 2 * H, rhacc_.data() + b * H, int8_, rp.zero_point, rp.scale, dir.cr.data() + 2 * H,
                  dir.sr.data() + 2 * H, hbad_[b], g + 2 * H, H);
      gru_finish(d, g, h + b * H, hn + b * H);
    }
  }

  // Quantizes (int8) `n` floats of state and multiplies them by weight rows; acc gets s32 or f32.
  q::Params recurrent_product(const float* state, int64_t n, Gemm& g, int64_t d, float* acc) {
    q::Params p{1.f, 0};
    const void* src = state;
    if (int8_) {
      p = dynamic_params_u8_avx2(state, static_cast<size_t>(n));
      quantize_u8_avx2(state, static_cast<size_t>(n), p, hq_.data());
      for (int64_t b = 0; b < B_; ++b) {
        bool bad = false;
        for (int64_t j = 0; j < H_; ++j) bad |= !std::isfinite(state[b * H_ + j]);
        hbad_[b] = bad;
      }
      src = hq_.data();
    }
    exec(g, d, src, acc);
    return p;
  }

  void exec(Gemm& g, int64_t d, const void* src, void* dst) {
    if (!int8_) return g.f32.run(static_cast<const float*>(src), static_cast<size_t>(d), static_cast<float*>(dst));
    const PackedU8S8& q = dirs_[d].*g.q;
    if (g.q == &Dir::qw && g.M >= kLargeRows && large_gemm_) {
      // The input projection of all steps: oneDNN's own u8 x s8 GEMM on the model's rows, the
      // same raw products (no offsets; the zero point is compensated by the row sums later).
      onednn::gemm_u8s8s32(static_cast<const uint8_t*>(src), g.M, q.K(), reinterpret_cast<const int8_t*>(dirs_[d].w), q.N(),
                           static_cast<int32_t*>(dst), threads_, node_);
      return;
    }
    q.gemm(static_cast<const uint8_t*>(src), g.M, q.K(), static_cast<int32_t*>(dst), q.N(), threads_);
  }

  OCTET_AVX2_FMA void fold_bias(float* row, const Dir& dir, q::Params xp, int64_t m) const {
    if (!int8_) {
      for (int64_t n = 0; n < GH_; ++n) row[n] = row[n] + dir.bias_x[n];
      return;
    }
    int32_t* acc = reinterpret_cast<int32_t*>(row);
    const bool bad = xbad_[m];
    for (int64_t n = 0; n < GH_; ++n) {
      const float xw = bad ? kNaN : static_cast<float>(acc[n] - xp.zero_point * dir.cw[n]) * (xp.scale * dir.sw[n]);
      row[n] = xw + dir.bias_x[n];
    }
  }

  // With VNNI, oneDNN's GEMM is faster than octet's kernel for the input projection of many
  // steps (it re-packs the weights per call, which pays only for many rows); without VNNI its
  // AVX2 path would saturate full-range weights.
  static constexpr int64_t kLargeRows = 32;
  const bool large_gemm_ = onednn::isa_has_vnni();
  const NodeDef& node_;
  int threads_;
  GemmIsa isa_;
  RnnParams p_;
  bool int8_ = false;
  int64_t I_ = 0, H_ = 0, G_ = 0, GH_ = 0, D_ = 0, S_ = 0, B_ = 0;
  std::vector<Dir> dirs_;
  Gemm proj_, rec_, rech_;
  std::string impl_;
  std::vector<uint8_t> xq_, hq_;
  std::vector<float> xw_, hacc_, gates_, h_, c_, hn_, cn_, rh_, rhacc_;
  std::vector<uint8_t> xbad_, hbad_;   // row holds a non-finite value
  std::vector<q::Params> xp_;          // quantization params of each row of X
  bool x_per_row_ = false;
  std::vector<int64_t> lens_;
};
}  // namespace

Support rnn_supports(const KernelContext& ctx) {
  // int8_dynamic: any s8 weights are exact in PackedU8S8 (gemm_u8s8.h); packed once, so constant.
  for (size_t i : {size_t(kRnnW), size_t(kRnnR)})
    if (!ctx.input(i).data) return Support::no("W and R must be constant");
  return Support::yes();
}

std::unique_ptr<Kernel> make_rnn(const KernelContext& ctx, GemmIsa isa) { return std::make_unique<RnnX86>(ctx, isa); }

}  // namespace octet::x86
