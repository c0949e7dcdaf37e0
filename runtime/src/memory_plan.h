// Activation memory planning: one arena per session, tensors placed at offsets so that tensors
// whose lifetimes do not overlap share bytes (greedy by size, as TFLite's arena planner).
// View ops (Reshape...) share their input's bytes; elementwise ops and Conv's residual sum may
// run in place when their input dies at that node.
#pragma once

#include <cstddef>
#include <vector>

#include "model/model_data.h"

namespace octet {

struct MemoryPlan {
  // Per tensor: the tensor whose memory it uses (itself for roots). Roots are arena tensors,
  // constants or graph inputs.
  std::vector<int> root;
  // Per tensor: byte offset into the arena for arena roots, -1 otherwise.
  std::vector<int64_t> offset;
  size_t arena_bytes = 0;
  int inplace_nodes = 0;
};

// `bytes[t]`: size of tensor t for this run's shapes. `own_memory` (if not empty): tensors that
// live outside the arena in buffers of their own, like graph inputs (the session's operands
// computed at run time): no arena bytes, and no node runs in place over them.
MemoryPlan plan_memory(const detail::ModelData& m, const std::vector<size_t>& bytes,
                       const std::vector<bool>& own_memory = {});

}  // namespace octet
