// Reference NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, as ONNX defines them:
//   loss[n, d] = -w[t] * P[n, t, d] with t = target[n, d], w = weight (1 when absent), and 0 (with
//   weight 0) where t == ignore_index; P is the input (NLL) or log_softmax over C (SCE, which
//   also writes P as its optional log_prob output). reduction: none (loss per element), sum, or
//   mean = sum / sum of the weights taken (NaN when all are ignored, as 0/0 in ONNX's reference).
// A target outside [0, C) that is not ignored is an error naming the node.
#include <cmath>
#include <vector>

#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

class LossRef final : public Kernel {
 public:
  explicit LossRef(const KernelContext& ctx)
      : node_(ctx.node), reduction_(ctx.node.attrs.get_string("reduction", "mean")),
        has_ignore_(ctx.node.attrs.has("ignore_index")), ignore_(ctx.node.attrs.get_int("ignore_index", 0)) {}

  void run(const KernelArgs& a) override {
    const Tensor& x = *a.in[0];
    const Tensor& target = *a.in[1];
    const Tensor* weight = a.in.size() > 2 ? a.in[2] : nullptr;
    const int64_t N = x.shape[0], C = x.shape[1], D = C == 0 || N == 0 ? 0 : x.elements() / (N * C);
    std::vector<float> logp;
    const float* p = x.as<float>();
    if (node_.op == OpKind::SoftmaxCrossEntropyLoss) {
      logp = log_softmax(p, N, C, D);
      p = logp.data();
      if (a.out.size() > 1 && a.out[1]) std::copy(logp.begin(), logp.end(), a.out[1]->as<float>());
    }
    float* loss = a.out[0]->as<float>();
    double sum = 0, weights = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t i = n * D + d;
        const int64_t t = target.dtype == DataType::i64 ? target.as<int64_t>()[i] : target.as<int32_t>()[i];
        double l = 0, w = 0;
        if (!(has_ignore_ && t == ignore_)) {
          if (t < 0 || t >= C)
            node_error(node_, "target " + std::to_string(t) + " is outside [0, " + std::to_string(C) + ") and not ignore_index");
          w = weight ? weight->as<float>()[t] : 1.0;
          l = -w * p[(n * C + t) * D + d];
        }
        if (reduction_ == "none") loss[i] = static_cast<float>(l);
        sum += l, weights += w;
      }
    if (reduction_ == "sum") *loss = static_cast<float>(sum);
    if (reduction_ == "mean") *loss = static_cast<float>(sum / weights);
  }

 private:
  static std::vector<float> log_softmax(const float* x, int64_t N, int64_t C, int64_t D) {
    std::vector<float> y(static_cast<size_t>(N * C * D));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        double mx = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; ++c) mx = std::max<double>(mx, x[(n * C + c) * D + d]);
        for (int64_t c = 0; c < C; ++c) s += std::exp(x[(n * C + c) * D + d] - mx);
        const double lse = mx + std::log(s);
        for (int64_t c = 0; c < C; ++c) y[(n * C + c) * D + d] = static_cast<float>(x[(n * C + c) * D + d] - lse);
      }
    return y;
  }

  const NodeDef& node_;
  const std::string reduction_;
  const bool has_ignore_;
  const int64_t ignore_;
};
}  // namespace

std::unique_ptr<Kernel> make_loss(const KernelContext& ctx) { return std::make_unique<LossRef>(ctx); }

}  // namespace octet::ref
