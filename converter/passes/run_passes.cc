// The pass pipeline of `octet convert`, in order (also what the pass-level tests run).
#include <algorithm>
#include <cstdint>

#include "passes/passes.h"

namespace octet::converter {

void PassStats::add(const std::string& what, int n) {
  for (auto& [k, v] : counts)
    if (k == what) return void(v += n);
  counts.push_back({what, n});
}

void run_passes(Graph& g, PassStats& stats) {
  dequantize_integer_ops(g, stats);
  remove_identities(g, stats);
  // Shape-derived subgraphs fold in rounds: the Shape of a tensor whose shape becomes known only
  // once the reshapes before it are folded (every attention layer after the first) needs another.
  for (size_t shapes = SIZE_MAX;;) {
    fold_constants(g, stats);
    infer_shapes(g);
    const size_t left = static_cast<size_t>(std::count_if(g.nodes.begin(), g.nodes.end(), [](const Node& n) { return n.op == "Shape"; }));
    if (left == 0 || left >= shapes) break;
    shapes = left;
  }
  fold_batchnorm(g, stats);
  lower_ops(g, stats);
  to_channels_last(g, stats);
  fold_constants(g, stats);
  fuse_operators(g, stats);
}

}  // namespace octet::converter
