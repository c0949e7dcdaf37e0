// LSTM, GRU, RNN. Not yet implemented by any backend: loading a model that uses them fails
// with a message that says so (see the dynamic-quantization work).
#include "ops/op_spec.h"

namespace octet {

namespace {
void validate_rnn(const NodeDef& n, const detail::ModelData&) {
  node_error(n, "recurrent ops are not supported by this version of the runtime");
}
void infer_rnn(InferCtx& c) { c.fail("recurrent ops are not supported by this version of the runtime"); }
}  // namespace

void fill_rnn_specs(OpSpec* t) {
  for (OpKind k : {OpKind::LSTM, OpKind::GRU, OpKind::RNN}) t[size_t(k)] = {1, 8, 0, 3, validate_rnn, infer_rnn};
}

}  // namespace octet
