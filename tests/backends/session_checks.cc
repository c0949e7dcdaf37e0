#include "session_checks.h"

#include <doctest/doctest.h>

#include "model/model_data.h"
#include "ops/op_tester.h"

namespace octet::test {

namespace {
// The op and fused activation of the node that produces graph output `output`.
std::pair<OpKind, std::string> producer(const Model& m, const std::string& output) {
  const auto& md = m.data();
  const int t = md.find_tensor(output);
  const NodeDef& n = md.nodes.at(static_cast<size_t>(md.tensor(t).producer));
  return {n.op, n.activation.name()};
}
}  // namespace

void check_runs_over_feeds(const std::shared_ptr<const Model>& model, const std::string& backend,
                           const std::vector<std::map<std::string, NdArray>>& feeds) {
  SessionOptions o;
  o.backend = backend;
  o.allow_fallback = false;
  Session s(model, o);
  const auto [op, act] = producer(*model, "y0");
  std::map<std::string, NdArray> seen;   // output by the feed's bytes
  for (const auto& feed : feeds) {
    INFO(backend << ", x0 of shape " << feed.at("x0").shape.size() << "-d, leading " << feed.at("x0").shape.at(0));
    for (const auto& [name, v] : feed) s.set_input(name, v.view());
    s.run();
    const NdArray y = NdArray::copy_of(s.output("y0"));
    const NdArray want = run(model, "reference", feed).at("y0");
    check_within_tolerance(op, s.dispatch().at(0).impl, act, y, want, "y0");
    check_not_trivial(want, "y0");
    std::string key;
    for (const auto& [name, v] : feed) key += name + std::to_string(v.shape.size()) + std::string(v.bytes.begin(), v.bytes.end());
    const auto [it, fresh] = seen.emplace(key, y);
    if (!fresh) CHECK_MESSAGE(it->second.bytes == y.bytes, "a feed seen before gave other results (stale per-shape state?)");
  }
}

void check_in_place(const std::shared_ptr<const Model>& model, const std::string& backend,
                    const std::map<std::string, NdArray>& inputs, const std::string& tensor, const std::string& output) {
  SessionOptions o;
  o.backend = backend;
  o.allow_fallback = false;
  Session s(model, o);
  const void *tp = nullptr, *yp = nullptr;
  s.set_observer([&](const std::string&, const std::string& name, const TensorView& v) {
    if (name == tensor) tp = v.data;
    if (name == output) yp = v.data;
  });
  for (const auto& [n, v] : inputs) s.set_input(n, v.view());
  s.run();
  CHECK(tp != nullptr);
  CHECK_MESSAGE(tp == yp, tensor << " and " << output << " do not share memory: the node did not run in place");
  const auto [op, act] = producer(*model, output);
  const NdArray want = run(model, "reference", inputs).at(output);
  check_within_tolerance(op, s.dispatch().back().impl, act, NdArray::copy_of(s.output(output)), want, output);
  check_not_trivial(want, output);
}

DispatchEntry dispatch_of(const std::shared_ptr<const Model>& model, const std::string& backend) {
  Session s(model, {1, backend});
  return s.dispatch().at(0);
}

}  // namespace octet::test
