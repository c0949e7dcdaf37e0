// Checks of one backend's session beyond a single comparison (tests/backends): runs whose input
// shapes change, and nodes the memory planner runs in place.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

namespace octet::test {

// One session of `backend` with fallback off runs `feeds` in turn (shapes may change between
// runs): every run's node-0 output "y0" must match the reference within the tolerance of the
// implementation that ran (tests/ops/tolerances.h) and hold >= 3 distinct values, and a feed
// seen before must give the same bits again (kernels keep per-shape state, oneDNN primitives and
// XNNPACK operators, and must not mix it up when a shape returns).
void check_runs_over_feeds(const std::shared_ptr<const Model>& model, const std::string& backend,
                           const std::vector<std::map<std::string, NdArray>>& feeds);

// Runs `model` on `backend` (fallback off) with `inputs`: `tensor` and the graph output `output`
// must share memory (the planner runs the last node in place), and the output must match the
// reference within the tolerance of what ran.
void check_in_place(const std::shared_ptr<const Model>& model, const std::string& backend,
                    const std::map<std::string, NdArray>& inputs, const std::string& tensor, const std::string& output);

// The dispatch entry of node 0 when `model` runs on `backend` with fallback allowed.
DispatchEntry dispatch_of(const std::shared_ptr<const Model>& model, const std::string& backend);

}  // namespace octet::test
