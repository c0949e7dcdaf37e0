// octet: int8 inference runtime. The public C++ API.
//
//   auto model = octet::Model::load("resnet50.json");        // .bin next to it, mmapped + verified
//   octet::Session session(model, {.threads = 2});
//   session.set_input("input", octet::TensorView::of(pixels.data(), {1, 3, 224, 224}));
//   session.run();
//   octet::TensorView logits = session.output("logits");      // valid until the next run()
//
// Every failure (bad file, bad argument, unsupported op) throws octet::Error with a one-line
// message that names the file, tensor or node. Nothing here aborts the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace octet {

// Version of this library (not of the file format; see format.h).
const char* version();

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DataType : uint8_t { f32, u8, s8, s32, i64, boolean };
const char* dtype_name(DataType t);   // "f32", "u8", ...
size_t dtype_size(DataType t);

// A non-owning view of a dense, row-major tensor.
struct TensorView {
  DataType dtype = DataType::f32;
  std::vector<int64_t> shape;
  const void* data = nullptr;

  int64_t elements() const;
  size_t bytes() const { return static_cast<size_t>(elements()) * dtype_size(dtype); }

  static TensorView of(const float* p, std::vector<int64_t> shape) { return {DataType::f32, std::move(shape), p}; }
  static TensorView of(const uint8_t* p, std::vector<int64_t> shape) { return {DataType::u8, std::move(shape), p}; }
  static TensorView of(const int8_t* p, std::vector<int64_t> shape) { return {DataType::s8, std::move(shape), p}; }
  static TensorView of(const int32_t* p, std::vector<int64_t> shape) { return {DataType::s32, std::move(shape), p}; }
  static TensorView of(const int64_t* p, std::vector<int64_t> shape) { return {DataType::i64, std::move(shape), p}; }
  template <class T> const T* as() const { return static_cast<const T*>(data); }
};

// Quantization parameters of a tensor: real = scale * (q - zero_point).
// Per tensor: one scale and one zero point. Per channel: one of each per index along `axis`.
struct QuantInfo {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int axis = -1;   // -1: per tensor
  bool empty() const { return scale.empty(); }
};

// Description of a graph input or output. Symbolic dimensions (e.g. the batch) are -1 in
// `shape` and carry their name in `dim_names` (empty string for fixed dimensions).
struct TensorInfo {
  std::string name;
  DataType dtype = DataType::f32;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  QuantInfo quant;
};

struct NodeSummary {
  std::string name;
  std::string op;
  std::string precision;   // "int8_static", "int8_dynamic" or "float"
  std::string activation;  // fused activation, "" if none
  std::vector<std::string> inputs, outputs;
  bool input_per_row = false;   // int8_dynamic with its input quantized per row (input_quant)
};

namespace detail { struct ModelData; struct SessionImpl; }

// A loaded, validated model: graph + memory-mapped weights. Immutable; one Model can back
// several Sessions (in several threads).
class Model {
 public:
  struct LoadOptions {
    bool verify_checksum = true;   // hash the whole .bin at load (XXH3, a few ms per 100 MB)
  };
  static std::shared_ptr<const Model> load(const std::string& json_path);
  static std::shared_ptr<const Model> load(const std::string& json_path, const LoadOptions& opts);
  // From memory: `json` text and the bytes of the .bin (copied). Used by the converter.
  static std::shared_ptr<const Model> from_memory(const std::string& json, std::vector<uint8_t> weights,
                                                  const std::string& label = "<memory>");
  ~Model();

  const std::string& path() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  std::vector<NodeSummary> nodes() const;
  TensorInfo tensor(const std::string& name) const;   // any tensor of the graph
  std::string producer() const;
  size_t weights_bytes() const;

  const detail::ModelData& data() const { return *data_; }

 private:
  Model();
  std::unique_ptr<detail::ModelData> data_;
};

struct SessionOptions {
  int threads = 1;
  // "auto" (oneDNN on x86, XNNPACK on ARM), "onednn", "xnnpack", "reference".
  std::string backend = "auto";
  // When the chosen backend cannot run a node, run it on the reference kernel (and say so in
  // the dispatch log). With false, Session construction fails instead, naming the node and why
  // (and so does a run whose new input shapes only the reference kernel takes).
  bool allow_fallback = true;
  // Collect per-node timings on every run (see Session::profile()).
  bool profile = false;
};

// Where each node runs; one entry per node, in execution order.
//   backend  the session's backend, or "reference" where the node runs on a reference kernel
//   impl     the implementation, named <dtype>_<op>[_<variant>]__<library> (docs/backends.md),
//            e.g. "qs8_conv__onednn"
//   detail   what runs inside it, when the library says (oneDNN's "brg:avx512_core_vnni", ...)
//   note     why the implementations before it were not taken ("" when it is the first)
// For the shapes of the latest run (a kernel may decline some shapes; see backend.h).
struct DispatchEntry {
  std::string node, op, backend, precision, impl, detail, note;
};

struct NodeProfile {
  std::string node, op, backend, precision, impl, detail;   // as DispatchEntry
  double ms = 0;        // accumulated over runs since the last reset_profile()
  double gops = 0;      // multiply-adds x2 per run of this node, 0 when not a GEMM/conv
  int64_t runs = 0;
};

// Called after every node with each of its outputs (used by calibration and debugging).
using NodeObserver = std::function<void(const std::string& node, const std::string& tensor, const TensorView& value)>;

class Session {
 public:
  Session(std::shared_ptr<const Model> model, const SessionOptions& opts = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Copies the data. Shapes may differ from the previous run in their symbolic dimensions.
  void set_input(const std::string& name, const TensorView& value);
  void run();
  // Valid until the next run(). Throws for an unknown name.
  TensorView output(const std::string& name) const;

  const std::vector<DispatchEntry>& dispatch() const;
  std::vector<NodeProfile> profile() const;
  void reset_profile();
  void set_observer(NodeObserver observer);   // empty function to remove
  const Model& model() const;
  std::string backend() const;                // resolved backend name
  size_t arena_bytes() const;                 // activation memory after planning

 private:
  std::unique_ptr<detail::SessionImpl> impl_;
};

// Names of the backends compiled into this build, preferred first.
std::vector<std::string> available_backends();

}  // namespace octet
