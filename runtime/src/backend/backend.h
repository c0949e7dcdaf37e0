// The interface between the session and the kernels. A Backend answers, per node, whether it
// can run it (and why not); if so it creates a Kernel once per session (weights packed,
// primitives/operators created), which is told about new shapes in reshape() and run many times.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model_data.h"

namespace octet {

// A tensor at run time: metadata from the model plus this run's shape and memory.
struct Tensor {
  const TensorDef* def = nullptr;
  DataType dtype = DataType::f32;
  Shape shape;
  void* data = nullptr;

  int64_t elements() const;
  size_t bytes() const { return static_cast<size_t>(elements()) * dtype_size(dtype); }
  template <class T> T* as() const { return static_cast<T*>(data); }
  const QuantInfo& quant() const { return def->quant; }
  float scale() const { return def->quant.scale[0]; }
  int32_t zero_point() const { return def->quant.zero_point[0]; }
  const std::string& name() const { return def->name; }
};

struct KernelArgs {
  std::vector<const Tensor*> in;   // nullptr for an omitted optional input
  std::vector<Tensor*> out;        // nullptr for an omitted optional output
  // Inputs and outputs may share memory when the planner runs a node in place: elementwise
  // ops (input 0 or 1 with output 0) and Conv's residual (input 3 with output 0).
};

struct KernelContext {
  const detail::ModelData& model;
  const NodeDef& node;
  int threads = 1;
  const TensorDef& input(size_t i) const { return model.tensor(node.inputs[i]); }
  bool has_input(size_t i) const { return i < node.inputs.size() && node.inputs[i] >= 0; }
  const TensorDef& output(size_t i) const { return model.tensor(node.outputs[i]); }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Before the first run and whenever input shapes changed; args carry the new shapes (outputs
  // included) but the memory may move before run(), so keep shapes, not pointers.
  virtual void reshape(const KernelArgs& args) { (void)args; }
  virtual void run(const KernelArgs& args) = 0;
  // What actually runs, for the dispatch log and the profile (e.g. oneDNN's implementation).
  virtual std::string impl() const { return ""; }
};

struct Support {
  bool ok = true;
  std::string reason;   // why not, when !ok
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual Support supports(const KernelContext& ctx) const = 0;
  virtual std::unique_ptr<Kernel> create(const KernelContext& ctx) = 0;
  // Whether the session's OpenMP regions (reference and OpenMP kernels) may use its threads.
  // A backend with its own thread pool says no: OpenMP workers spinning at their barriers would
  // compete with that pool's workers for the same cores.
  virtual bool shares_openmp_threads() const { return true; }
};

// Ordered list of backends for a SessionOptions::backend value ("auto", "onednn", ...); the
// reference backend is always last. Throws for a backend not compiled in.
std::vector<std::unique_ptr<Backend>> make_backends(const std::string& choice, std::string* resolved);

std::unique_ptr<Backend> make_reference_backend();
#ifdef OCTET_WITH_ONEDNN
std::unique_ptr<Backend> make_onednn_backend();
#endif
#ifdef OCTET_WITH_XNNPACK
std::unique_ptr<Backend> make_xnnpack_backend();
#endif

}  // namespace octet
