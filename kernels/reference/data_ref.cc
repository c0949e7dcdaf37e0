// PLACEHOLDER: being written (data movement reference kernels).
#include "reference/reference_kernels.h"
#include "ops/op_spec.h"
namespace octet::ref {
namespace {
class Todo final : public Kernel {
 public:
  explicit Todo(const NodeDef& n) : n_(n) {}
  void run(const KernelArgs&) override { node_error(n_, "not implemented yet"); }
 private:
  const NodeDef& n_;
};
}
std::unique_ptr<Kernel> make_data(const KernelContext& ctx) { return std::make_unique<Todo>(ctx.node); }
std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx) { return std::make_unique<Todo>(ctx.node); }
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx) { return std::make_unique<Todo>(ctx.node); }
std::unique_ptr<Kernel> make_layernorm(const KernelContext& ctx) { return std::make_unique<Todo>(ctx.node); }
}
