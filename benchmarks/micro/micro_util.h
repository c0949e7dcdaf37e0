// Shared by octet_micro's benchmarks: one-node models built in memory (ModelWriter, as the tests'
// GraphBuilder does) and a benchmark body that runs that model through the public Session API
// on one backend, so a node kernel is measured the way the runtime calls it, next to the
// reference kernel it replaces.
//
// Names read as BM_<Family>/<implementation>/<shape>: the reference first, then every backend
// compiled in that runs the node itself (allow_fallback = false; a backend that would fall back
// is not registered; report_left_out() says so). The label column shows the implementation
// the dispatch log names. Everything is single-threaded (Session threads = 1, OpenMP 1 thread).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "octet/octet.h"
#include "writer/model_writer.h"

namespace octet::micro {

// One graph input's data, owned.
struct Feed {
  std::string name;
  DataType dtype = DataType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  TensorView view() const { return {dtype, shape, bytes.data()}; }
};

// Work per run, for the counters: items_per_second, bytes_per_second and GOPS (all rates).
struct Work {
  double items = 0;   // elements, rows or time steps
  double bytes = 0;   // bytes read + written (weights included)
  double ops = 0;     // 2 x multiply-adds
};

// A one-node model: graph inputs (with their data), constants and the node. Shapes are fixed.
class OneNode {
 public:
  void input(const std::string& name, DataType dt, std::vector<int64_t> shape, std::vector<uint8_t> data, QuantInfo q = {});
  void constant(const std::string& name, DataType dt, std::vector<int64_t> shape, std::vector<uint8_t> data, QuantInfo q = {});
  void output(const std::string& name, DataType dt, std::vector<int64_t> shape, QuantInfo q = {});
  // After output(): the node writes every output declared so far.
  void node(const std::string& op, std::vector<std::string> inputs, nlohmann::json attrs = nlohmann::json::object(),
            const std::string& precision = "float");
  std::shared_ptr<const Model> build();
  const std::vector<Feed>& feeds() const { return feeds_; }

 private:
  ModelWriter w_;
  std::vector<std::string> inputs_, outputs_;
  std::vector<Feed> feeds_;
};

// Registers BM_<family>/<backend>/<shape> for the reference and each other backend that runs the
// node of `g` itself.
void register_session(const std::string& family, const std::string& shape, OneNode& g, Work w);
// The same for any model (several nodes: every one must run on the backend itself).
void register_model(const std::string& family, const std::string& shape, std::shared_ptr<const Model> model,
                    std::vector<Feed> feeds, Work w);

// One line on stderr: how many backend/benchmark pairs were left out (all of them, with the
// reason, when OCTET_MICRO_VERBOSE=1).
void report_left_out();

void set_counters(benchmark::State& st, const Work& w);

// "1x512x2048" from {1, 512, 2048}.
std::string dims(const std::vector<int64_t>& d);

// Deterministic random data as bytes.
std::vector<uint8_t> random_f32(size_t n, float lo, float hi, uint32_t seed);
std::vector<uint8_t> random_s8(size_t n, int lo, int hi, uint32_t seed);
std::vector<uint8_t> random_u8(size_t n, uint32_t seed);
std::vector<uint8_t> random_s32(size_t n, int lo, int hi, uint32_t seed);
template <class T> std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}
QuantInfo per_tensor(float scale, int32_t zp);
QuantInfo per_channel(std::vector<float> scales);

// Registration, one function per file (explicit, no static initializers).
void register_quant_benchmarks();
void register_gemm_benchmarks();
void register_rnn_benchmarks();
void register_norm_benchmarks();
void register_conv_benchmarks();

}  // namespace octet::micro
