// Reference Einsum: for every output element, the sum over every summed label's values of the
// product of the operands at the labels' positions (repeated labels in one operand read its
// diagonal; ellipsis dims of extent 1 broadcast). Accumulated in double for f32, exactly in the
// integer type otherwise. The oracle, not a fast path: transformers' 2-operand forms that are a
// MatMul in disguise are worth a lowering to MatMul when a profile shows them.
#include <algorithm>
#include <vector>

#include "ops/einsum.h"
#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

class EinsumRef final : public Kernel {
 public:
  explicit EinsumRef(const KernelContext& ctx) : node_(ctx.node) {}

  // The plan depends on the input shapes only: parsed when they change, not on every run.
  Support reshape(const KernelArgs& a) override {
    std::vector<Shape> shapes;
    for (const Tensor* t : a.in) shapes.push_back(t->shape);
    plan_ = parse_einsum(node_, shapes);
    return Support::yes();
  }

  void run(const KernelArgs& a) override {
    const EinsumPlan& p = plan_;
    switch (a.out[0]->dtype) {
      case DataType::f32: return compute<float, double>(p, a);
      case DataType::s32: return compute<int32_t, int32_t>(p, a);
      case DataType::i64: return compute<int64_t, int64_t>(p, a);
      default: node_error(node_, "unsupported dtype");
    }
  }

 private:
  template <class T, class Acc>
  void compute(const EinsumPlan& p, const KernelArgs& a) const {
    // Every label's slot in one index vector: output labels first, then the summed ones.
    std::vector<int> labels = p.output;
    labels.insert(labels.end(), p.summed.begin(), p.summed.end());
    std::vector<int64_t> extent;
    for (int l : labels) extent.push_back(p.sizes.at(l));
    // Per operand: for each slot, the stride it moves that operand by (0 for broadcast or absent).
    std::vector<std::vector<int64_t>> stride(a.in.size(), std::vector<int64_t>(labels.size(), 0));
    for (size_t i = 0; i < a.in.size(); ++i) {
      int64_t s = 1;
      for (size_t d = p.inputs[i].size(); d-- > 0;) {
        const size_t slot = static_cast<size_t>(std::find(labels.begin(), labels.end(), p.inputs[i][d]) - labels.begin());
        if (a.in[i]->shape[d] != 1 || extent[slot] == 1) stride[i][slot] += s;
        s *= a.in[i]->shape[d];
      }
    }
    const size_t n_out = p.output.size(), n_all = labels.size();
    int64_t inner = 1;
    for (size_t k = n_out; k < n_all; ++k) inner *= extent[k];
    T* y = a.out[0]->as<T>();
    const int64_t total = a.out[0]->elements();
    std::vector<int64_t> idx(n_all, 0);
    for (int64_t o = 0; o < total; ++o) {
      Acc acc = 0;
      std::fill(idx.begin() + static_cast<std::ptrdiff_t>(n_out), idx.end(), 0);
      for (int64_t r = 0; r < inner; ++r) {
        Acc prod = 1;
        for (size_t i = 0; i < a.in.size(); ++i) {
          int64_t off = 0;
          for (size_t k = 0; k < n_all; ++k) off += idx[k] * stride[i][k];
          prod *= static_cast<Acc>(a.in[i]->as<T>()[off]);
        }
        acc += prod;
        for (size_t k = n_all; k-- > n_out;) {   // next summed index
          if (++idx[k] < extent[k]) break;
          idx[k] = 0;
        }
      }
      y[o] = static_cast<T>(acc);
      for (size_t k = n_out; k-- > 0;) {   // next output index
        if (++idx[k] < extent[k]) break;
        idx[k] = 0;
      }
    }
  }

  const NodeDef& node_;
  EinsumPlan plan_;
};
}  // namespace

std::unique_ptr<Kernel> make_einsum(const KernelContext& ctx) { return std::make_unique<EinsumRef>(ctx); }

}  // namespace octet::ref
