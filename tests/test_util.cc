#include "test_util.h"

#if defined(OCTET_WITH_CONVERTER)
#include "export.h"
#endif

#include <unistd.h>

#if defined(OCTET_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <atomic>
#include <cmath>
#include <cstring>
#include <sstream>

namespace octet::test {

QuantInfo per_tensor(float scale, int32_t zp) { return QuantInfo{{scale}, {zp}, -1}; }
QuantInfo per_channel(std::vector<float> scales, int axis) {
  std::vector<int32_t> zps(scales.size(), 0);
  return QuantInfo{std::move(scales), std::move(zps), axis};
}

std::string GraphBuilder::input(const std::string& name, DataType dt, Dims shape, QuantInfo q) {
  w_.add_tensor({name, dt, std::move(shape), std::move(q), {}, false});
  inputs_.push_back(name);
  return name;
}

std::string GraphBuilder::tensor(const std::string& name, DataType dt, Dims shape, QuantInfo q) {
  w_.add_tensor({name, dt, std::move(shape), std::move(q), {}, false});
  return name;
}

std::string GraphBuilder::constant(const std::string& name, const NdArray& value, QuantInfo q) {
  Dims dims(value.shape.begin(), value.shape.end());
  w_.add_tensor({name, value.dtype, dims, std::move(q), value.bytes, true});
  return name;
}

void GraphBuilder::node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                        nlohmann::json attrs, const std::string& precision, nlohmann::json activation,
                        const std::string& name) {
  w_.add_node({name.empty() ? op + "_" + std::to_string(count_++) : name, op, std::move(inputs), std::move(outputs),
               std::move(attrs), std::move(activation), precision});
}

void GraphBuilder::serialize(std::string* json, std::vector<uint8_t>* bin) {
  w_.set_inputs(inputs_);
  w_.set_outputs(outputs_);
  w_.serialize("test.bin", json, bin);
}

std::shared_ptr<const Model> GraphBuilder::build() {
  std::string json;
  std::vector<uint8_t> bin;
  serialize(&json, &bin);
  return Model::from_memory(json, std::move(bin), "test");
}

RunResult run_on(const std::shared_ptr<const Model>& model, const std::string& backend,
                 const std::map<std::string, NdArray>& inputs, int threads, bool allow_fallback) {
  SessionOptions o;
  o.backend = backend;
  o.threads = threads;
  o.allow_fallback = allow_fallback;
  Session s(model, o);
  for (const auto& [name, buf] : inputs) s.set_input(name, buf.view());
  s.run();
  RunResult r;
  for (const auto& info : model->outputs()) r.out[info.name] = NdArray::copy_of(s.output(info.name));
  r.dispatch = s.dispatch();
  r.profile = s.profile();
  return r;
}

std::map<std::string, NdArray> run(const std::shared_ptr<const Model>& model, const std::string& backend,
                                  const std::map<std::string, NdArray>& inputs, int threads) {
  return run_on(model, backend, inputs, threads, true).out;
}

std::map<std::string, NdArray> run_strict(const std::shared_ptr<const Model>& model, const std::string& backend,
                                         const std::map<std::string, NdArray>& inputs, int threads) {
  return run_on(model, backend, inputs, threads, false).out;
}

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

NdArray random_q8(DataType dt, std::vector<int64_t> shape, uint32_t seed) {
  NdArray b{dt, std::move(shape), {}};
  b.bytes.resize(b.elements());
  std::mt19937 rng(seed);
  for (auto& x : b.bytes) x = static_cast<uint8_t>(rng() & 0xff);
  return b;
}

NdArray random_f32(std::vector<int64_t> shape, float lo, float hi, uint32_t seed) {
  NdArray b{DataType::f32, std::move(shape), {}};
  auto v = random_floats(b.elements(), lo, hi, seed);
  b.bytes.resize(v.size() * 4);
  std::memcpy(b.bytes.data(), v.data(), b.bytes.size());
  return b;
}

int64_t max_code_diff(const NdArray& a, const NdArray& b) {
  if (a.dtype != b.dtype || a.shape != b.shape) return -1;
  int64_t worst = 0;
  for (int64_t i = 0; i < a.elements(); ++i) {
    int64_t x, y;
    switch (a.dtype) {
      case DataType::u8: x = a.as<uint8_t>()[i], y = b.as<uint8_t>()[i]; break;
      case DataType::s8: x = a.as<int8_t>()[i], y = b.as<int8_t>()[i]; break;
      case DataType::s32: x = a.as<int32_t>()[i], y = b.as<int32_t>()[i]; break;
      case DataType::i64: x = a.as<int64_t>()[i], y = b.as<int64_t>()[i]; break;
      default: return -1;
    }
    worst = std::max<int64_t>(worst, std::llabs(x - y));
  }
  return worst;
}

double max_rel_diff(const NdArray& a, const NdArray& b, double atol) {
  if (a.dtype != DataType::f32 || b.dtype != DataType::f32 || a.shape != b.shape) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < a.elements(); ++i) {
    double x = a.as<float>()[i], y = b.as<float>()[i];
    if (std::isnan(x) != std::isnan(y)) return INFINITY;
    if (std::isnan(x)) continue;
    worst = std::max(worst, std::fabs(x - y) / (std::fabs(y) + atol));
  }
  return worst;
}

double cosine(const NdArray& a, const NdArray& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < std::min(a.elements(), b.elements()); ++i) {
    double x = a.as<float>()[i], y = b.as<float>()[i];
    ab += x * y, aa += x * x, bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

std::vector<std::string> optimized_backends() {
  std::vector<std::string> out;
  for (const auto& b : available_backends())
    if (b != "reference") out.push_back(b);
  return out;
}

#if defined(OCTET_WITH_ONEDNN)
bool onednn_has_vnni() {
  using isa = dnnl::cpu_isa;
  const isa i = dnnl::get_effective_cpu_isa();
  return i == isa::avx512_core_vnni || i == isa::avx512_core_bf16 || i == isa::avx512_core_amx || i == isa::avx2_vnni;
}
#endif

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path = std::filesystem::temp_directory_path() /
         ("octet_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::vector<std::string> TempDir::files() const {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path))
    if (e.is_regular_file()) out.push_back(e.path().string());
  return out;
}

#if defined(OCTET_WITH_CONVERTER)
converter::ConvertOptions convert_options(const std::string& onnx, const std::string& output, const std::string& precision,
                                     const std::string& calib_dir) {
  converter::ConvertOptions o;
  o.input = onnx;
  o.output = output;
  o.precision = precision;
  o.calib_dir = calib_dir;
  o.quiet = true;
  o.calib.progress = false;
  return o;
}

std::shared_ptr<const Model> convert_and_load(const converter::ConvertOptions& o) {
  std::ostringstream log;
  converter::convert(o, log);
  return Model::load(o.output);
}

std::shared_ptr<const Model> lower_and_load(converter::Graph& g, converter::PassStats& stats) {
  converter::run_passes(g, stats);
  ModelWriter w = converter::build_writer(g, converter::ExportMeta{"test", nlohmann::json::object(), nlohmann::json::object()});
  std::string text;
  std::vector<uint8_t> bin;
  w.serialize("m.bin", &text, &bin);
  return Model::from_memory(text, std::move(bin), "passes");
}
#endif

}  // namespace octet::test
