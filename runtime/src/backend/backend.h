// The interface between the session and the kernels.
//
// Dispatch is one decision, made in one place (session.cc) from one list: every backend holds,
// per op, an ordered list of implementations (oneDNN's implementation-list pattern), best first
// and the reference implementation last. For each node the session asks the list once, in
// order: the first implementation whose supports() says yes is created (weights packed,
// primitives or operators created) and runs the node. A kernel may still decline a particular
// set of input shapes in reshape() (e.g. a library has only a naive loop for them); the session
// then takes the next implementation of the list for those shapes, creating it once. Every
// choice is logged under OCTET_VERBOSE=dispatch and shown by `octet inspect --backend`.
//
// Implementation names follow one grammar (docs/backends.md):
//     <dtype>_<op>[_<variant>]__<library>
// dtype: f32 (float node), qs8 (static int8: u8/s8 codes, s8 weights per channel), qd8
// (dynamic int8: float in and out, s8 weights, activations quantized at run time); op: the
// op's snake_case name; library: onednn, xnnpack, simd (octet's portable Highway kernels),
// x86 (octet's own AVX2 kernels), x86_vnni (the same with AVX-512 VNNI), reference.
// e.g. qs8_conv__onednn, qd8_fully_connected__x86_vnni, f32_lstm__reference.
#pragma once

#include <array>
#include <functional>
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
  // Inputs and outputs may share memory when the planner runs a node in place (op_table.def's
  // memory column: input 0 of elementwise ops, Conv's residual input 3, with output 0).
};

struct Support {
  bool ok = true;
  std::string reason;   // why not, when !ok
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
};

// Runs fn(t) for every t in [0, tasks), possibly in parallel on a backend's threads.
using ParallelFor = std::function<void(size_t tasks, const std::function<void(size_t)>& fn)>;

class Backend;

struct KernelContext {
  const detail::ModelData& model;
  const NodeDef& node;
  int threads = 1;
  const Backend* backend = nullptr;   // the backend whose implementation list is asked
  const TensorDef& input(size_t i) const { return model.tensor(node.inputs[i]); }
  bool has_input(size_t i) const { return i < node.inputs.size() && node.inputs[i] >= 0; }
  const TensorDef& output(size_t i) const { return model.tensor(node.outputs[i]); }
  // The backend's threads as a parallel loop (OpenMP, or XNNPACK's pthreadpool).
  ParallelFor parallel_for() const;
  // Conv / ConvTranspose in float may take weights (and bias) computed at run time (ONNX allows
  // graph inputs there); libraries pack weights when the kernel is made, so their implementations
  // decline such a node with this and the reference kernel, which reads them per run, runs it.
  Support needs_constant_weights() const {
    for (size_t i : {size_t(1), size_t(2)})
      if (has_input(i) && !input(i).is_constant()) return Support::no("weights or bias computed at run time");
    return Support::yes();
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Before the first run and whenever input shapes changed; args carry the new shapes (outputs
  // included) but the memory may move before run(), so keep shapes, not pointers. No: this
  // kernel cannot (or should not) run these shapes; the session asks the node's next
  // implementation, and asks this one again when the shapes change.
  virtual Support reshape(const KernelArgs& args) {
    (void)args;
    return Support::yes();
  }
  virtual void run(const KernelArgs& args) = 0;
  // What runs inside, beyond the implementation's name (e.g. oneDNN's implementation
  // "brg:avx512_core_vnni", the GEMM a kernel picked); "" when nothing.
  virtual std::string detail() const { return ""; }
};

// One implementation of one op: an entry of a backend's ordered list.
struct Impl {
  OpKind op;
  PrecisionSet precisions;   // the node precisions it is for (others skip it silently)
  const char* variant;       // "" or what distinguishes it from other implementations of the op
  const char* library;       // onednn, xnnpack, simd, x86, x86_vnni, reference
  // Whether it computes this node (attributes, dtypes, constant weights, CPU features), and why
  // not. Must be cheap enough to ask at session creation; a yes means make() succeeds.
  Support (*supports)(const KernelContext& ctx);
  std::unique_ptr<Kernel> (*make)(const KernelContext& ctx);
};
// "<dtype>_<op>[_<variant>]__<library>" for a node of precision p.
std::string impl_name(const Impl& impl, Precision p);
bool is_reference(const Impl& impl);

// The reference implementation of `op` (kernels/reference: complete by construction, from
// op_table.def's reference column).
const Impl& reference_impl(OpKind op);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Why this backend cannot run anything on this machine (e.g. XNNPACK failed to initialize);
  // its own implementations are then skipped with that reason.
  virtual Support available() const { return Support::yes(); }
  // Whether the session's OpenMP regions (reference and OpenMP kernels) may use its threads.
  // A backend with its own thread pool says no: OpenMP workers spinning at their barriers would
  // compete with that pool's workers for the same cores.
  virtual bool shares_openmp_threads() const { return true; }
  // The backend's threads as a parallel loop, for octet's own kernels (default: OpenMP).
  virtual ParallelFor parallel_for(int threads) const;

  // The implementations of `op`, best first: the backend's own, then the reference one.
  const std::vector<const Impl*>& implementations(OpKind op) const { return lists_[static_cast<size_t>(op)]; }

 protected:
  // `own`: the backend's implementation list, in order of preference within each op.
  explicit Backend(const std::vector<Impl>& own);

 private:
  std::vector<Impl> own_;
  std::array<std::vector<const Impl*>, kOpCount> lists_;
};

// The backend for a SessionOptions::backend value ("auto", "onednn", "xnnpack", "reference"),
// one per session (it may own a thread pool for `threads`). Throws for a backend not compiled in.
std::unique_ptr<Backend> make_backend(const std::string& choice, int threads, std::string* resolved);

std::unique_ptr<Backend> make_reference_backend();
#ifdef OCTET_WITH_ONEDNN
std::unique_ptr<Backend> make_onednn_backend();
#endif
#ifdef OCTET_WITH_XNNPACK
std::unique_ptr<Backend> make_xnnpack_backend(int threads);
#endif

}  // namespace octet
