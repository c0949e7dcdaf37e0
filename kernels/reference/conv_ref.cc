// Reference Conv and ConvTranspose (NHWC activations, OHWI weights), in float and static int8
// (the precisions op_table.def allows them). Static int8 computes, per output element:
//
//   acc  = sum (x - zp_x) * w  +  bias                    (int32, w symmetric: zp_w = 0)
//   y    = requantize(acc, residual r if fused)           (quant/requant.h: for None/Relu/Clip
//          in output units, v = acc * (s_x s_w[oc] / s_y) (+ s_r / s_y (r - zp_r)), clamped and
//          rounded; otherwise quantize(activation(acc s_x s_w[oc] (+ s_r (r - zp_r)))))
//
// Padding contributes real zeros (codes equal to zp_x), i.e. nothing to acc.
#include <cstring>
#include <vector>

#include "ops/params.h"
#include "quant/activation.h"
#include "quant/quant.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {
float weight_scale(const TensorDef& w, int64_t oc) { return w.quant.scale[w.quant.axis < 0 ? 0 : oc]; }


class ConvRef final : public Kernel {
 public:
  explicit ConvRef(const KernelContext& ctx) : node_(ctx.node), p_(parse_conv(ctx.node)), transpose_(ctx.node.op == OpKind::ConvTranspose) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const Tensor& w = *a.in[1];
    const Tensor* b = a.in.size() > 2 ? a.in[2] : nullptr;
    const Tensor* r = a.in.size() > 3 ? a.in[3] : nullptr;
    Tensor& y = *a.out[0];
    const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const int64_t O = w.shape[0], KH = w.shape[1], KW = w.shape[2], Cg = w.shape[3];
    const int64_t OH = y.shape[1], OW = y.shape[2], Og = O / p_.group;

    // Inputs as integers (static int8, zero point subtracted) or floats, so one loop serves both.
    const bool integer = node_.precision != Precision::Float;
    std::vector<int32_t> xi;
    std::vector<float> xf;
    float sx = 1.f;
    if (node_.precision == Precision::Int8Static) {
      xi.resize(x.elements());
      const int32_t zp = x.zero_point();
      for (int64_t i = 0; i < x.elements(); ++i) xi[i] = load_q(x.dtype, x.data, i) - zp;
      sx = x.scale();
    } else {
      xf.assign(x.as<float>(), x.as<float>() + x.elements());
    }

    // Accumulate in int64 (integer precisions) or double (float), one output element at a time.
    const int64_t ysize = N * OH * OW * O;
    std::vector<int64_t> acc_i(integer ? ysize : 0, 0);
    std::vector<double> acc_f(integer ? 0 : ysize, 0.0);
    const int8_t* w8 = integer ? w.as<int8_t>() : nullptr;
    const float* wf = integer ? nullptr : w.as<float>();
    auto mac = [&](int64_t xidx, int64_t widx, int64_t yidx) {
      for (int64_t ic = 0; ic < Cg; ++ic) {
        if (integer) acc_i[yidx] += static_cast<int64_t>(xi[xidx + ic]) * w8[widx + ic];
        else acc_f[yidx] += static_cast<double>(xf[xidx + ic]) * wf[widx + ic];
      }
    };
    if (!transpose_) {
#pragma omp parallel for collapse(2)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow)
            for (int64_t oc = 0; oc < O; ++oc) {
              const int64_t yidx = ((n * OH + oh) * OW + ow) * O + oc;
              for (int64_t kh = 0; kh < KH; ++kh) {
                const int64_t ih = oh * p_.stride_h - p_.pad_t + kh * p_.dil_h;
                if (ih < 0 || ih >= H) continue;
                for (int64_t kw = 0; kw < KW; ++kw) {
                  const int64_t iw = ow * p_.stride_w - p_.pad_l + kw * p_.dil_w;
                  if (iw < 0 || iw >= W) continue;
                  mac(((n * H + ih) * W + iw) * C + (oc / Og) * Cg, ((oc * KH + kh) * KW + kw) * Cg, yidx);
                }
              }
            }
    } else {
      // Transposed: every input pixel scatters into the outputs its kernel window reaches.
      for (int64_t n = 0; n < N; ++n)
        for (int64_t ih = 0; ih < H; ++ih)
          for (int64_t iw = 0; iw < W; ++iw)
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t oh = ih * p_.stride_h - p_.pad_t + kh * p_.dil_h;
              if (oh < 0 || oh >= OH) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ow = iw * p_.stride_w - p_.pad_l + kw * p_.dil_w;
                if (ow < 0 || ow >= OW) continue;
                for (int64_t oc = 0; oc < O; ++oc)
                  mac(((n * H + ih) * W + iw) * C + (oc / Og) * Cg, ((oc * KH + kh) * KW + kw) * Cg,
                      ((n * OH + oh) * OW + ow) * O + oc);
              }
            }
    }

    const bool stat = node_.precision == Precision::Int8Static;
    const q::Requant rq = stat ? q::requant_for(node_.activation, y.scale(), y.zero_point()) : q::Requant{};
    for (int64_t i = 0; i < ysize; ++i) {
      const int64_t oc = i % O;
      if (stat) {   // quant/requant.h
        const int64_t acc = acc_i[i] + (b ? b->as<int32_t>()[oc] : 0);
        const float k = r ? requant_residual_factor(rq, r->scale()) : 0.f;
        const float d = r ? static_cast<float>(load_q(r->dtype, r->data, i) - r->zero_point()) : 0.f;
        store_requant(y.dtype, y.data, i, acc, requant_multiplier(rq, sx, weight_scale(*w.def, oc)), r != nullptr, k, d,
                      node_.activation, rq);
        continue;
      }
      float real = static_cast<float>(acc_f[i]) + (b ? b->as<float>()[oc] : 0.f);
      if (r) real += r->as<float>()[i];
      y.as<float>()[i] = apply_activation(node_.activation, real);
    }
  }

 private:
  const NodeDef& node_;
  ConvParams p_;
  bool transpose_;
};
}  // namespace

std::unique_ptr<Kernel> make_conv(const KernelContext& ctx) { return std::make_unique<ConvRef>(ctx); }

}  // namespace octet::ref
