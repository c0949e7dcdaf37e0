// Helpers for tests: build small models in memory, run them on a backend, compare results.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/ndarray.h"
#include "octet/octet.h"
#include "writer/model_writer.h"
#if defined(OCTET_WITH_CONVERTER)
#include "convert.h"
#include "ir.h"
#include "passes/passes.h"
#endif

namespace octet::test {

// Owned tensors (dtype + shape + bytes) are io::NdArray, as the readers in io/ return them.
using io::NdArray;

QuantInfo per_tensor(float scale, int32_t zp);
QuantInfo per_channel(std::vector<float> scales, int axis = 0);

// Builds a model with ModelWriter and loads it from memory.
class GraphBuilder {
 public:
  using Dims = std::vector<ModelWriter::Dim>;
  // A graph input.
  std::string input(const std::string& name, DataType dt, Dims shape, QuantInfo q = {});
  // An activation (node output) declaration; mark as graph output with output().
  std::string tensor(const std::string& name, DataType dt, Dims shape, QuantInfo q = {});
  std::string constant(const std::string& name, const NdArray& value, QuantInfo q = {});
  void output(const std::string& name) { outputs_.push_back(name); }
  void node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
            nlohmann::json attrs = nlohmann::json::object(), const std::string& precision = "float",
            nlohmann::json activation = nullptr, const std::string& name = "");
  std::shared_ptr<const Model> build();
  void serialize(std::string* json, std::vector<uint8_t>* bin);
  ModelWriter& writer() { return w_; }

 private:
  ModelWriter w_;
  std::vector<std::string> inputs_, outputs_;
  int count_ = 0;
};

// One run of `model` on `backend`: every graph output by name, and where each node ran.
struct RunResult {
  std::map<std::string, NdArray> out;
  std::vector<DispatchEntry> dispatch;
  std::vector<NodeProfile> profile;
};
RunResult run_on(const std::shared_ptr<const Model>& model, const std::string& backend,
                 const std::map<std::string, NdArray>& inputs, int threads = 1, bool allow_fallback = false);

// Runs `model` once on `backend` with the given inputs; returns every graph output by name.
std::map<std::string, NdArray> run(const std::shared_ptr<const Model>& model, const std::string& backend,
                                  const std::map<std::string, NdArray>& inputs, int threads = 1);
// The same, but every node must run on `backend` itself (no fallback to the reference kernel):
// for tests comparing an optimized kernel with the reference, which would otherwise pass
// trivially if the node silently fell back.
std::map<std::string, NdArray> run_strict(const std::shared_ptr<const Model>& model, const std::string& backend,
                                         const std::map<std::string, NdArray>& inputs, int threads = 1);

// Deterministic random data.
std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed);
NdArray random_q8(DataType dt, std::vector<int64_t> shape, uint32_t seed);
NdArray random_f32(std::vector<int64_t> shape, float lo, float hi, uint32_t seed);

// Largest absolute difference in codes between two 8-bit (or s32) buffers; -1 on shape/dtype mismatch.
int64_t max_code_diff(const NdArray& a, const NdArray& b);
// Largest |a - b| / (|b| + atol) over two float buffers.
double max_rel_diff(const NdArray& a, const NdArray& b, double atol);
double cosine(const NdArray& a, const NdArray& b);

// A fresh, uniquely named directory under the system temp dir, removed with its files on
// destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> files() const;   // every regular file below it (recursively)
};

// Backends compiled into this build that are worth comparing against the reference.
std::vector<std::string> optimized_backends();

#if defined(OCTET_WITH_ONEDNN)
// Whether oneDNN's effective ISA has VNNI (exact u8 x s8 accumulation), asked of oneDNN itself
// rather than of the backend's own check. CTest runs the suite a second time with
// ONEDNN_MAX_CPU_ISA=AVX2, so both answers are tested on any x86 machine with VNNI.
bool onednn_has_vnni();
#endif

#if defined(OCTET_WITH_CONVERTER)
// Options for a quiet conversion (no summary, no progress bar); int8 with `calib_dir`.
converter::ConvertOptions convert_options(const std::string& onnx, const std::string& output, const std::string& precision,
                                     const std::string& calib_dir = "");
// Runs the converter on `o`, discarding its log; returns the loaded model.
std::shared_ptr<const Model> convert_and_load(const converter::ConvertOptions& o);
// The converter's passes (converter::run_passes) on an IR graph, then export and load from memory.
std::shared_ptr<const Model> lower_and_load(converter::Graph& g, converter::PassStats& stats);
#endif

}  // namespace octet::test
