// One example node per op and precision: the cases test_every_op.cc walks over every backend and
// every implementation. The table must cover every (op, precision) op_table.def allows (the test
// fails otherwise), so adding an op means adding its example here: a small node with meaningful
// data, described as for any OpTester (op_tester.h).
#pragma once

#include <vector>

#include "op_tester.h"

namespace octet::test {

struct OpExample {
  OpKind op;
  std::vector<Precision> precisions;   // the precisions this description is checked at
  OpTester (*make)();
};

const std::vector<OpExample>& op_examples();

}  // namespace octet::test
