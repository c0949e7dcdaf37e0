// LayerNormalization and Softmax over the last axis on every backend against the reference
// (OpTester): row lengths around the vector width and long rows, 1 and 2 threads.
#include <doctest/doctest.h>

#include "op_tester.h"

using namespace octet;
using namespace octet::test;

TEST_CASE("norm: LayerNormalization and Softmax over the last axis, short and long rows") {
  for (int64_t len : {5, 32, 100, 768}) {
    OpTester ln(OpKind::LayerNormalization);
    ln.precision(Precision::Float).seed(9).label("len " + std::to_string(len)).input({3, 4, len}, -4.f, 6.f);
    ln.constant(random_f32({len}, 0.5f, 1.5f, 3)).constant(random_f32({len}, -1, 1, 4));
    ln.attrs({{"axis", -1}, {"epsilon", 1e-5}}).output(DataType::f32).threads(2).require("onednn").check();
    OpTester sm(OpKind::Softmax);
    sm.precision(Precision::Float).seed(9).label("len " + std::to_string(len)).input({3, 4, len}, -4.f, 6.f);
    sm.attrs({{"axis", -1}}).output(DataType::f32).threads(2).require("onednn").check();
  }
}
