#include "micro_util.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

namespace octet::micro {

void OneNode::input(const std::string& name, DataType dt, std::vector<int64_t> shape, std::vector<uint8_t> data, QuantInfo q) {
  w_.add_tensor({name, dt, {shape.begin(), shape.end()}, std::move(q), {}, false});
  inputs_.push_back(name);
  feeds_.push_back({name, dt, std::move(shape), std::move(data)});
}

void OneNode::constant(const std::string& name, DataType dt, std::vector<int64_t> shape, std::vector<uint8_t> data, QuantInfo q) {
  w_.add_tensor({name, dt, {shape.begin(), shape.end()}, std::move(q), std::move(data), true});
}

void OneNode::output(const std::string& name, DataType dt, std::vector<int64_t> shape, QuantInfo q) {
  w_.add_tensor({name, dt, {shape.begin(), shape.end()}, std::move(q), {}, false});
  outputs_.push_back(name);
}

void OneNode::node(const std::string& op, std::vector<std::string> inputs, nlohmann::json attrs, const std::string& precision) {
  w_.add_node({"n0", op, std::move(inputs), outputs_, std::move(attrs), nullptr, precision});
}

std::shared_ptr<const Model> OneNode::build() {
  w_.set_inputs(inputs_);
  w_.set_outputs(outputs_);
  std::string json;
  std::vector<uint8_t> bin;
  w_.serialize("micro.bin", &json, &bin);
  return Model::from_memory(json, std::move(bin), "micro");
}

namespace {
SessionOptions options(const std::string& backend) {
  SessionOptions o;
  o.backend = backend;
  o.threads = 1;
  o.allow_fallback = false;   // the named backend runs the node, or the Session is not created
  return o;
}

void run_session(benchmark::State& st, const std::shared_ptr<const Model>& model, const std::vector<Feed>& feeds,
                 const std::string& backend, const Work& w) {
  try {
    Session s(model, options(backend));
    // Graph inputs live outside the arena and are never written by a kernel: set once.
    for (const Feed& f : feeds) s.set_input(f.name, f.view());
    s.run();   // first run plans memory and creates shape-dependent primitives: not timed
    for (auto _ : st) s.run();
    std::string impl = s.dispatch().at(0).impl;
    while (!impl.empty() && impl.back() == ' ') impl.pop_back();
    st.SetLabel(impl);
  } catch (const Error& e) {
    st.SkipWithError(e.what());
    return;
  }
  set_counters(st, w);
}

// Backend/benchmark pairs left out because the backend does not run the node itself.
std::vector<std::string>& left_out() {
  static std::vector<std::string> v;
  return v;
}
}  // namespace

void report_left_out() {
  if (left_out().empty()) return;
  const char* env = std::getenv("OCTET_MICRO_VERBOSE");
  if (env && *env && std::string(env) != "0") {
    for (const std::string& s : left_out()) std::fprintf(stderr, "octet_micro: left out %s\n", s.c_str());
  } else {
    std::fprintf(stderr, "octet_micro: %zu backend/benchmark pairs left out (the backend does not run the node itself; "
                 "OCTET_MICRO_VERBOSE=1 lists them)\n", left_out().size());
  }
}

void register_session(const std::string& family, const std::string& shape, OneNode& g, Work w) {
  register_model(family, shape, g.build(), g.feeds(), w);
}

void register_model(const std::string& family, const std::string& shape, std::shared_ptr<const Model> model,
                    std::vector<Feed> feeds_in, Work w) {
  auto feeds = std::make_shared<std::vector<Feed>>(std::move(feeds_in));
  std::vector<std::string> order{"reference"};
  for (const std::string& b : available_backends())
    if (b != "reference") order.push_back(b);
  for (const std::string& backend : order) {
    try {
      Session probe(model, options(backend));
    } catch (const Error& e) {
      left_out().push_back(family + "/" + backend + "/" + shape + ": " + e.what());
      continue;
    }
    benchmark::RegisterBenchmark((family + "/" + backend + "/" + shape).c_str(),
                                 [model, feeds, backend, w](benchmark::State& st) { run_session(st, model, *feeds, backend, w); })
        ->Unit(benchmark::kMicrosecond);
  }
}

void set_counters(benchmark::State& st, const Work& w) {
  const double it = static_cast<double>(st.iterations());
  if (w.items > 0) st.SetItemsProcessed(static_cast<int64_t>(w.items * it));
  if (w.bytes > 0) st.SetBytesProcessed(static_cast<int64_t>(w.bytes * it));
  // Per iteration, in units of 1e9: shows as GOPS=<giga-ops per second>/s.
  if (w.ops > 0) st.counters["GOPS"] = benchmark::Counter(w.ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::string dims(const std::vector<int64_t>& d) {
  std::ostringstream s;
  for (size_t i = 0; i < d.size(); ++i) s << (i ? "x" : "") << d[i];
  return s.str();
}

std::vector<uint8_t> random_f32(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return bytes_of(v);
}

std::vector<uint8_t> random_s8(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>(static_cast<int8_t>(d(rng)));
  return v;
}

std::vector<uint8_t> random_u8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>(rng() & 0xff);
  return v;
}

std::vector<uint8_t> random_s32(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return bytes_of(v);
}

QuantInfo per_tensor(float scale, int32_t zp) { return QuantInfo{{scale}, {zp}, -1}; }
QuantInfo per_channel(std::vector<float> scales) {
  std::vector<int32_t> zps(scales.size(), 0);
  return QuantInfo{std::move(scales), std::move(zps), 0};
}

}  // namespace octet::micro
