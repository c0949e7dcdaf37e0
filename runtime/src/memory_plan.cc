#include "memory_plan.h"

#include <algorithm>
#include <numeric>

#include "ops/op_traits.h"

namespace octet {

namespace {
constexpr size_t kAlign = 64;
size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// The input whose memory output 0 may take over (op_table.def's memory column), or -1.
int inplace_candidate(const NodeDef& n) {
  const OpTraits& t = op_traits(n.op);
  return t.memory == MemoryUse::InPlace ? t.memory_input : -1;
}
}  // namespace

MemoryPlan plan_memory(const detail::ModelData& m, const std::vector<size_t>& bytes, const std::vector<bool>& own_memory) {
  const size_t nt = m.tensors.size();
  const int end = static_cast<int>(m.nodes.size());
  MemoryPlan plan;
  plan.root.resize(nt);
  std::iota(plan.root.begin(), plan.root.end(), 0);
  plan.offset.assign(nt, -1);

  std::vector<int> last_use(nt, -1), first_def(nt, -1);
  for (int k = 0; k < end; ++k) {
    for (int t : m.nodes[k].inputs) if (t >= 0) last_use[t] = k;
    for (int t : m.nodes[k].outputs) if (t >= 0) first_def[t] = k;
  }
  std::vector<bool> is_output(nt, false);
  for (int t : m.outputs) last_use[t] = end, is_output[t] = true;

  auto arena = [&](int t) {
    return !m.tensors[t].is_constant() && !m.tensors[t].is_graph_input && (own_memory.empty() || !own_memory[t]);
  };
  // Root-level lifetime, updated as tensors join a root.
  std::vector<int> root_last(last_use);
  std::vector<bool> root_pinned(is_output);   // roots holding a graph output cannot be overwritten

  for (int k = 0; k < end; ++k) {
    const NodeDef& n = m.nodes[k];
    if (n.outputs.empty() || n.outputs[0] < 0) continue;
    const int out = n.outputs[0];
    int join = -1;
    if (op_traits(n.op).memory == MemoryUse::View) {
      join = n.inputs[0];
    } else {
      int c = inplace_candidate(n);
      if (c >= 0 && c < static_cast<int>(n.inputs.size()) && n.inputs[c] >= 0) {
        int in = n.inputs[c];
        int r = plan.root[in];
        bool other_use = false;   // the candidate must not also feed another input of this node
        for (size_t j = 0; j < n.inputs.size(); ++j)
          if (static_cast<int>(j) != c && n.inputs[j] >= 0 && plan.root[n.inputs[j]] == r) other_use = true;
        if (arena(r) && !root_pinned[r] && root_last[r] == k && bytes[in] == bytes[out] && bytes[r] == bytes[out] &&
            m.tensors[in].dtype == m.tensors[out].dtype && !other_use) {
          join = in;
          ++plan.inplace_nodes;
        }
      }
    }
    if (join >= 0) {
      int r = plan.root[join];
      plan.root[out] = r;
      root_last[r] = std::max(root_last[r], root_last[out]);
      root_pinned[r] = root_pinned[r] || root_pinned[out];
    }
  }

  // Place arena roots, largest first, at the lowest offset free during their lifetime.
  struct Item { int t; int first, last; size_t size; int64_t off; };
  std::vector<Item> items;
  for (size_t t = 0; t < nt; ++t) {
    if (plan.root[t] != static_cast<int>(t) || !arena(static_cast<int>(t)) || first_def[t] < 0) continue;
    items.push_back({static_cast<int>(t), first_def[t], std::max(root_last[t], first_def[t]), align_up(std::max<size_t>(bytes[t], 1)), -1});
  }
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].size > items[b].size; });
  std::vector<size_t> placed;
  size_t total = 0;
  for (size_t idx : order) {
    Item& it = items[idx];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t p : placed) {
      const Item& o = items[p];
      if (o.first <= it.last && it.first <= o.last) busy.push_back({o.off, o.off + static_cast<int64_t>(o.size)});
    }
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (const auto& [b, e] : busy) {
      if (off + static_cast<int64_t>(it.size) <= b) break;
      off = std::max(off, e);
    }
    it.off = off;
    total = std::max(total, static_cast<size_t>(off) + it.size);
    placed.push_back(idx);
  }
  for (const Item& it : items) plan.offset[it.t] = it.off;
  plan.arena_bytes = total;
  return plan;
}

}  // namespace octet
