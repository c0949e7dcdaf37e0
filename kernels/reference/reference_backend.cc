// The reference backend: one implementation per op, from op_table.def's reference column, so it
// runs every op the format defines (a table line without a factory does not compile). Every
// other backend's list ends with these entries.
#include "reference/reference_kernels.h"

namespace octet {

namespace {
Support always(const KernelContext&) { return Support::yes(); }

constexpr Impl kReferenceImpls[] = {
#define OCTET_OP(name, family, min_in, max_in, min_out, max_out, memory, prec, quant, layout, onnx, spec, reference) \
  {OpKind::name, op_table::FSD, "", "reference", always, ref::reference},
#include "ops/op_table.def"
#undef OCTET_OP
};
static_assert(sizeof(kReferenceImpls) / sizeof(kReferenceImpls[0]) == kOpCount, "reference list out of step with op_table.def");

class ReferenceBackend final : public Backend {
 public:
  ReferenceBackend() : Backend({}) {}
  const char* name() const override { return "reference"; }
};
}  // namespace

const Impl& reference_impl(OpKind op) { return kReferenceImpls[static_cast<size_t>(op)]; }

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace octet
