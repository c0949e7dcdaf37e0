// octet::Session: picks each node's implementation from its backend's ordered list once
// (creating the kernel; backend/backend.h), and per run re-infers shapes, re-plans memory and
// lets kernels accept or decline the new shapes only when input shapes changed, then runs them.
//
// Shapes computed at run time (ops/operands.h): a node whose attribute comes from a tensor (a
// Reshape's target from Shape/Gather/Concat) gets a copy of itself with the value written in
// ("resolved"), and from there it is an ordinary node. The nodes those values need are "early":
// they run while shapes are inferred, node by node, into buffers of their own (outside the
// arena, which is planned after). When the values depend only on input shapes (the usual
// Shape -> ... -> Reshape), this happens once per new input shape; when they depend on input
// values (a graph input used as a Reshape's shape), on every run, and memory is re-planned only
// when some shape actually changed. Ops whose outputs are sized by values (NonZero,
// NonMaxSuppression: OpSpec::value_shaped) are early nodes too, and so is everything they read:
// they run in a buffer of the largest size the spec allows and set the shape they filled.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "aligned_buffer.h"
#include "backend/backend.h"
#include "memory_plan.h"
#include "octet/format.h"
#include "ops/op_spec.h"
#include "ops/operands.h"
#include "ops/shape_inference.h"

namespace octet {

int64_t Tensor::elements() const { return shape_elements(shape); }

namespace detail {

namespace {
bool verbose(const char* what) {
  const char* v = std::getenv("OCTET_VERBOSE");
  return v && (std::strstr(v, what) || std::strstr(v, "all"));
}

// Multiply-adds x2 of one run of a node, for GOPS in the profile (the op's spec knows); 0 for
// ops that are not GEMM-like.
double node_ops(const NodeDef& n, const std::vector<Tensor>& t) {
  const OpSpec& spec = op_spec(n.op);
  if (!spec.ops) return 0;
  std::vector<Shape> in, out;
  for (int i : n.inputs) in.push_back(i >= 0 ? t[static_cast<size_t>(i)].shape : Shape{});
  for (int o : n.outputs) out.push_back(o >= 0 ? t[static_cast<size_t>(o)].shape : Shape{});
  return spec.ops(n, in, out);
}
}  // namespace

// One node's implementations, asked in list order (backend.h): which were asked and what they
// said, the kernels created so far, and which one runs the current shapes.
struct NodeExec {
  const std::vector<const Impl*>* impls = nullptr;
  std::vector<Support> answers;                  // per implementation, once asked
  std::vector<bool> asked;
  std::vector<std::unique_ptr<Kernel>> kernels;  // per implementation, once created
  std::vector<std::string> declined;             // per implementation: why it declined the current shapes
  size_t current = 0;
  KernelArgs args;
  double ms = 0;
  int64_t runs = 0;
  double ops = 0;
  std::vector<Shape> seen;   // input and output shapes at the last reshape (empty: reshape needed)
  Kernel& kernel() { return *kernels[current]; }
  const Impl& impl() const { return *(*impls)[current]; }
};

struct SessionImpl {
  std::shared_ptr<const Model> model;
  const ModelData& m;
  SessionOptions opts;
  std::string backend_name;
  std::unique_ptr<Backend> backend;
  Support backend_available;
  std::vector<NodeExec> execs;
  std::vector<DispatchEntry> dispatch;
  std::vector<Tensor> tensors;                 // one per model tensor
  std::vector<AlignedBuffer> input_buffers;    // one per graph input
  std::vector<bool> input_set;
  std::vector<Shape> planned_input_shapes;     // shapes the current plan was made for
  AlignedBuffer arena{"activations"};
  size_t arena_bytes = 0;
  NodeObserver observer;
  const bool log = verbose("dispatch");
  // Run-time operands (see the top of this file).
  std::vector<std::unique_ptr<NodeDef>> resolved;   // per node with run-time operands, once read
  std::vector<bool> early;                          // per node: runs while shapes are inferred
  std::vector<bool> own_memory;                     // per tensor: an early node's output
  std::map<int, AlignedBuffer> own_buffers;         // their buffers, by tensor
  bool early_every_run = false;                     // some operand depends on graph input values

  const NodeDef& node(size_t k) const { return resolved[k] ? *resolved[k] : m.nodes[k]; }

  SessionImpl(std::shared_ptr<const Model> mdl, const SessionOptions& o)
      : model(std::move(mdl)), m(model->data()), opts(o) {
    if (opts.threads < 1) throw Error("threads must be >= 1 (got " + std::to_string(opts.threads) + ")");
    backend = make_backend(opts.backend, opts.threads, &backend_name);
    backend_available = backend->available();
    tensors.resize(m.tensors.size());
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const TensorDef& d = m.tensors[i];
      tensors[i].def = &d;
      tensors[i].dtype = d.dtype;
      tensors[i].shape = d.shape;
      if (d.is_constant()) tensors[i].data = const_cast<uint8_t*>(d.data);
    }
    for (size_t i = 0; i < m.inputs.size(); ++i) input_buffers.emplace_back("graph inputs");
    input_set.assign(m.inputs.size(), false);
    find_early_nodes();
    create_kernels();
  }

  KernelContext context(const NodeDef& n) const { return KernelContext{m, n, opts.threads, backend.get()}; }

  // Early nodes: those whose outputs an operand needs, transitively; Shape and Size need only
  // their input's shape, which inference provides, so the walk stops there.
  void find_early_nodes() {
    resolved.resize(m.nodes.size());
    early.assign(m.nodes.size(), false);
    own_memory.assign(m.tensors.size(), false);
    std::vector<bool> needed(m.tensors.size(), false);
    for (const NodeDef& n : m.nodes) {
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] >= 0 && is_operand_input(n.op, i)) needed[n.inputs[i]] = true;
      // A node whose outputs are sized by values runs to know its output shapes.
      if (op_spec(n.op).value_shaped)
        for (int t : n.outputs) if (t >= 0) needed[t] = true;
    }
    for (size_t k = m.nodes.size(); k-- > 0;) {
      const NodeDef& n = m.nodes[k];
      bool e = false;
      for (int t : n.outputs) e = e || (t >= 0 && needed[t]);
      if (!e) continue;
      early[k] = true;
      for (int t : n.outputs) if (t >= 0) own_memory[t] = true;
      if (reads_only_shape(n.op)) continue;
      for (int t : n.inputs) if (t >= 0 && !m.tensor(t).is_constant()) needed[t] = true;
    }
    for (int t : m.inputs) early_every_run = early_every_run || needed[t];
  }

  // A node whose kernel waits for the first run: its attributes or its tensors' ranks are only
  // known then.
  bool deferred(size_t k) const {
    const NodeDef& n = m.nodes[k];
    if (n.has_runtime_operands) return true;
    for (int t : n.inputs) if (t >= 0 && m.tensor(t).shape_at_run_time) return true;
    for (int t : n.outputs) if (t >= 0 && m.tensor(t).shape_at_run_time) return true;
    return false;
  }

  // Node k's operands read from their tensors into a resolved copy of the node. True when the
  // values differ from the last ones: the node is validated again and its kernels are made anew.
  bool resolve(size_t k) {
    const NodeDef& orig = m.nodes[k];
    std::vector<TensorView> in;
    for (int t : orig.inputs) in.push_back(t >= 0 ? TensorView{tensors[t].dtype, tensors[t].shape, tensors[t].data} : TensorView{});
    auto n = std::make_unique<NodeDef>(with_operands(orig, m, in));
    if (resolved[k] && resolved[k]->attrs.json() == n->attrs.json()) return false;
    forget_implementations(k);   // the kernels refer to the old node
    resolved[k] = std::move(n);
    bind_args(k);
    return true;
  }

  // Node k's implementations as not yet asked: no answers, no kernels.
  void forget_implementations(size_t k) {
    NodeExec& e = execs[k];
    const size_t count = e.impls->size();
    e.kernels.clear();
    e.answers.assign(count, Support{}), e.asked.assign(count, false), e.kernels.resize(count), e.declined.assign(count, "");
    e.seen.clear();
  }

  void bind_args(size_t k) {
    NodeExec& e = execs[k];
    e.args.in.clear(), e.args.out.clear();
    for (int t : node(k).inputs) e.args.in.push_back(t >= 0 ? &tensors[t] : nullptr);
    for (int t : node(k).outputs) e.args.out.push_back(t >= 0 ? &tensors[t] : nullptr);
  }

  // The first implementation at or after `from` that supports node k, its kernel created.
  size_t next_supported(size_t k, size_t from) {
    NodeExec& e = execs[k];
    const NodeDef& n = node(k);
    const KernelContext ctx = context(n);
    for (size_t i = from; i < e.impls->size(); ++i) {
      const Impl& impl = *(*e.impls)[i];
      if (!impl.precisions.has(n.precision)) continue;   // not for this precision: not worth a note
      if (!e.asked[i]) {
        e.asked[i] = true;
        e.answers[i] = !is_reference(impl) && !backend_available.ok ? backend_available : impl.supports(ctx);
      }
      if (!e.answers[i].ok) continue;
      if (!e.kernels[i]) {
        try {
          e.kernels[i] = impl.make(ctx);
        } catch (const Error& err) {
          const std::string msg = err.what();
          if (msg.rfind("node '", 0) == 0) throw;
          node_error(n, impl_name(impl, n.precision) + ": " + msg);
        }
      }
      return i;
    }
    node_error(n, "no implementation runs it");   // unreachable: the reference one always does
  }

  // Why the implementations before the current one of node k were not taken.
  std::string note(size_t k) const {
    const NodeExec& e = execs[k];
    const NodeDef& n = node(k);
    std::string s;
    for (size_t i = 0; i < e.current; ++i) {
      if (!e.asked[i]) continue;
      const std::string& why = !e.answers[i].ok ? e.answers[i].reason : e.declined[i];
      if (why.empty()) continue;
      s += (s.empty() ? "" : "; ") + impl_name(*(*e.impls)[i], n.precision) + ": " + why;
    }
    // A view (Reshape...) computes nothing on any backend: its reference kernel is no fallback.
    if (s.empty() && is_reference(e.impl()) && backend_name != "reference" && op_traits(n.op).memory != MemoryUse::View)
      s = backend_name + " has no " + precision_name(n.precision) + " implementation of " + op_name(n.op);
    return s;
  }

  void record_dispatch(size_t k) {
    NodeExec& e = execs[k];
    const NodeDef& n = node(k);
    DispatchEntry d{n.name, op_name(n.op), is_reference(e.impl()) ? "reference" : backend_name, precision_name(n.precision),
                    impl_name(e.impl(), n.precision), e.kernel().detail(), note(k)};
    if (log && (dispatch[k].impl != d.impl || dispatch[k].detail != d.detail))
      std::fprintf(stderr, "octet: node %s (%s, %s) -> %s%s%s%s%s\n", n.name.c_str(), d.op.c_str(), d.precision.c_str(),
                   d.impl.c_str(), d.detail.empty() ? "" : " [", d.detail.c_str(), d.detail.empty() ? "" : "]",
                   d.note.empty() ? "" : (" (not: " + d.note + ")").c_str());
    dispatch[k] = std::move(d);
  }

  // Whether node k now runs on the reference kernel of another backend while the options forbid
  // that (a view computes nothing on any backend, so it is never a fallback).
  bool fallback_refused(size_t k) const {
    return !opts.allow_fallback && backend_name != "reference" && is_reference(execs[k].impl()) &&
           op_traits(m.nodes[k].op).memory != MemoryUse::View;
  }

  void create_kernels() {
    execs.resize(m.nodes.size());
    dispatch.resize(m.nodes.size());
    for (size_t k = 0; k < m.nodes.size(); ++k) {
      const NodeDef& n = m.nodes[k];
      NodeExec& e = execs[k];
      e.impls = &backend->implementations(n.op);
      forget_implementations(k);
      bind_args(k);
      if (deferred(k)) {
        dispatch[k] = DispatchEntry{n.name, op_name(n.op), "", precision_name(n.precision), "(chosen at the first run)", "",
                                    "its shapes are computed at run time"};
        continue;
      }
      e.current = next_supported(k, 0);
      if (fallback_refused(k))
        throw Error("node '" + n.name + "' (" + op_name(n.op) + ") cannot run on backend '" + backend_name + "': " + note(k));
      record_dispatch(k);
    }
  }

  // For the current shapes: the first supporting implementation of node k that accepts them.
  void reshape_node(size_t k) {
    NodeExec& e = execs[k];
    for (size_t i = next_supported(k, 0);; i = next_supported(k, i + 1)) {
      e.current = i;
      Support s;
      try {
        s = e.kernel().reshape(e.args);
      } catch (const Error& err) {
        std::string msg = err.what();
        if (msg.rfind("node '", 0) == 0) throw;
        node_error(m.nodes[k], msg);
      }
      e.declined[i] = s.ok ? "" : s.reason;
      if (s.ok) break;
      if (is_reference(e.impl())) node_error(m.nodes[k], "the reference kernel declined: " + s.reason);
    }
    if (fallback_refused(k))
      throw Error("node '" + m.nodes[k].name + "' (" + op_name(m.nodes[k].op) + ") cannot run these shapes on backend '" +
                  backend_name + "': " + note(k));
    record_dispatch(k);
  }

  // Reshapes node k's kernel when its tensors' shapes differ from the ones it last accepted.
  void reshape_if_changed(size_t k) {
    NodeExec& e = execs[k];
    std::vector<Shape> sig;
    for (const Tensor* t : e.args.in) sig.push_back(t ? t->shape : Shape{-1});
    for (const Tensor* t : e.args.out) sig.push_back(t ? t->shape : Shape{-1});
    if (!e.seen.empty() && sig == e.seen && e.kernels[e.current]) return;
    reshape_node(k);
    e.seen = std::move(sig);
  }

  int input_index(const std::string& name) const {
    for (size_t i = 0; i < m.inputs.size(); ++i)
      if (m.tensor(m.inputs[i]).name == name) return static_cast<int>(i);
    std::string names;
    for (int t : m.inputs) names += (names.empty() ? "" : ", ") + m.tensor(t).name;
    throw Error("model has no input named '" + name + "' (inputs: " + names + ")");
  }

  void set_input(const std::string& name, const TensorView& v) {
    const int i = input_index(name);
    const TensorDef& d = m.tensor(m.inputs[i]);
    if (v.dtype != d.dtype)
      throw Error("input '" + name + "': got dtype " + dtype_name(v.dtype) + ", model expects " + dtype_name(d.dtype));
    if (v.shape.size() != d.shape.size())
      throw Error("input '" + name + "': got shape " + shape_str(v.shape) + ", model expects rank " + std::to_string(d.shape.size()));
    for (size_t k = 0; k < d.shape.size(); ++k) {
      if (v.shape[k] < 0) throw Error("input '" + name + "': negative dimension in " + shape_str(v.shape));
      if (d.shape[k] >= 0 && v.shape[k] != d.shape[k])
        throw Error("input '" + name + "': dimension " + std::to_string(k) + " is " + std::to_string(v.shape[k]) +
                    ", model expects " + std::to_string(d.shape[k]) + " (got " + shape_str(v.shape) + ")");
    }
    if (v.elements() > 0 && !v.data) throw Error("input '" + name + "': data pointer is null");
    void* copy = input_buffers[i].reserve(v.bytes());
    if (v.bytes()) std::memcpy(copy, v.data, v.bytes());
    Tensor& t = tensors[m.inputs[i]];
    t.shape = v.shape;
    t.data = input_buffers[i].data();
    input_set[i] = true;
  }

  void check_symbols() {
    std::map<std::string, std::pair<int64_t, std::string>> seen;
    for (int idx : m.inputs) {
      const TensorDef& d = m.tensor(idx);
      for (size_t k = 0; k < d.shape.size(); ++k) {
        if (d.shape[k] >= 0 || d.dim_names[k] == "?") continue;
        int64_t v = tensors[idx].shape[k];
        auto [it, fresh] = seen.emplace(d.dim_names[k], std::make_pair(v, d.name));
        if (!fresh && it->second.first != v)
          throw Error("inputs '" + it->second.second + "' and '" + d.name + "' disagree on dimension '" + d.dim_names[k] +
                      "' (" + std::to_string(it->second.first) + " vs " + std::to_string(v) + ")");
      }
    }
  }

  // Declared fixed dims of a tensor whose shape only a run knows must hold.
  void check_declared(const NodeDef& n, int t, const Shape& got) const {
    const TensorDef& d = m.tensor(t);
    if (!d.shape_at_run_time || !d.shape_declared) return;
    bool ok = got.size() == d.shape.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = d.shape[i] < 0 || d.shape[i] == got[i];
    if (!ok) node_error(n, "output '" + d.name + "' has shape " + shape_str(got) + " in this run, but the model declares " + shape_str(d.shape) + " (-1: any)");
  }

  // Every tensor's shape for the current inputs, node by node, running early nodes on the way;
  // then memory and kernel reshapes where anything changed.
  void prepare_shapes() {
    check_symbols();
    bool changed = planned_input_shapes.size() != m.inputs.size();
    for (size_t i = 0; !changed && i < m.inputs.size(); ++i) changed = planned_input_shapes[i] != tensors[m.inputs[i]].shape;
    for (size_t k = 0; k < m.nodes.size(); ++k) {
      if (m.nodes[k].has_runtime_operands && resolve(k)) changed = true;
      const NodeDef& n = node(k);
      std::vector<const Shape*> in;
      for (int t : n.inputs) in.push_back(t >= 0 ? &tensors[t].shape : nullptr);
      std::vector<Shape> out = infer_node(n, m, in);
      // Value-sized outputs: `out` is a bound to run the node in; the shape it sets counts.
      const bool value_shaped = op_spec(n.op).value_shaped;
      std::vector<Shape> last;
      for (size_t o = 0; o < n.outputs.size(); ++o) {
        const int t = n.outputs[o];
        if (t < 0) continue;
        if (shape_elements(out[o]) > format::kMaxElements)
          node_error(n, "output '" + tensors[t].name() + "' is too large: " + shape_str(out[o]));
        check_declared(n, t, out[o]);
        if (value_shaped) last.push_back(tensors[t].shape), tensors[t].shape = std::move(out[o]);
        else if (tensors[t].shape != out[o]) tensors[t].shape = std::move(out[o]), changed = true;
      }
      if (early[k]) run_early(k);
      if (value_shaped)
        for (size_t o = 0, j = 0; o < n.outputs.size(); ++o)
          if (n.outputs[o] >= 0 && tensors[n.outputs[o]].shape != last[j++]) changed = true;
    }
    if (changed) plan();
    planned_input_shapes.clear();
    for (int idx : m.inputs) planned_input_shapes.push_back(tensors[idx].shape);
  }

  // An early node: outputs in their own buffers (a view shares its input's), run now.
  void run_early(size_t k) {
    const NodeDef& n = node(k);
    for (int t : n.outputs) {
      if (t < 0) continue;
      if (op_traits(n.op).memory == MemoryUse::View) tensors[t].data = tensors[n.inputs[0]].data;
      else tensors[t].data = own_buffers.try_emplace(t, "run-time operands").first->second.reserve(tensors[t].bytes());
    }
    reshape_if_changed(k);
    execs[k].kernel().run(execs[k].args);
    observe(k);
  }

  void plan() {
    std::vector<size_t> bytes(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) bytes[i] = own_memory[i] ? 0 : tensors[i].bytes();
    MemoryPlan plan = plan_memory(m, bytes, own_memory);
    arena.reserve(plan.arena_bytes);
    arena_bytes = plan.arena_bytes;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (own_memory[i]) continue;
      int r = plan.root[i];
      if (plan.offset[r] >= 0) tensors[i].data = static_cast<uint8_t*>(arena.data()) + plan.offset[r];
      else if (r != static_cast<int>(i)) tensors[i].data = tensors[r].data;
    }
    for (size_t k = 0; k < execs.size(); ++k) {
      if (!early[k]) reshape_if_changed(k);
      execs[k].ops = node_ops(node(k), tensors);
    }
  }

  void run() {
    for (size_t i = 0; i < m.inputs.size(); ++i)
      if (!input_set[i]) throw Error("input '" + m.tensor(m.inputs[i]).name + "' was not set");
    bool same = planned_input_shapes.size() == m.inputs.size();
    for (size_t i = 0; same && i < m.inputs.size(); ++i) same = planned_input_shapes[i] == tensors[m.inputs[i]].shape;
#ifdef _OPENMP
    // A backend with its own thread pool keeps OpenMP regions on the calling thread.
    const int saved_threads = omp_get_max_threads();
    omp_set_num_threads(backend->shares_openmp_threads() ? opts.threads : 1);
#endif
    try {
      if (!same || early_every_run) prepare_shapes();
      run_nodes();
    } catch (...) {
#ifdef _OPENMP
      omp_set_num_threads(saved_threads);
#endif
      throw;
    }
#ifdef _OPENMP
    omp_set_num_threads(saved_threads);
#endif
  }

  void refresh_input_views() {
    // A view (Reshape...) of a graph input shares the input's buffer, which set_input may have
    // reallocated: re-point views whose root is a graph input.
    for (const NodeDef& n : m.nodes)
      if (op_traits(n.op).memory == MemoryUse::View && n.outputs[0] >= 0) tensors[n.outputs[0]].data = tensors[n.inputs[0]].data;
  }

  void run_nodes() {
    refresh_input_views();
    using clock = std::chrono::steady_clock;
    for (size_t k = 0; k < execs.size(); ++k) {
      if (early[k]) continue;   // ran in prepare_shapes
      NodeExec& e = execs[k];
      if (opts.profile) {
        auto t0 = clock::now();
        e.kernel().run(e.args);
        e.ms += std::chrono::duration<double, std::milli>(clock::now() - t0).count();
        ++e.runs;
      } else {
        e.kernel().run(e.args);
      }
      observe(k);
    }
  }

  void observe(size_t k) {
    if (!observer) return;
    const NodeDef& n = m.nodes[k];
    for (int t : n.outputs) {
      if (t < 0) continue;
      const Tensor& x = tensors[t];
      observer(n.name, x.name(), TensorView{x.dtype, x.shape, x.data});
    }
  }
};

}  // namespace detail

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& opts) {
  if (!model) throw Error("Session: model is null");
  impl_ = std::make_unique<detail::SessionImpl>(std::move(model), opts);
}
Session::~Session() = default;

void Session::set_input(const std::string& name, const TensorView& value) { impl_->set_input(name, value); }
void Session::run() { impl_->run(); }

TensorView Session::output(const std::string& name) const {
  const auto& m = impl_->m;
  for (int t : m.outputs) {
    if (m.tensor(t).name != name) continue;
    if (impl_->planned_input_shapes.empty()) throw Error("output '" + name + "' requested before the first run()");
    const Tensor& x = impl_->tensors[t];
    return TensorView{x.dtype, x.shape, x.data};
  }
  std::string names;
  for (int t : m.outputs) names += (names.empty() ? "" : ", ") + m.tensor(t).name;
  throw Error("model has no output named '" + name + "' (outputs: " + names + ")");
}

const std::vector<DispatchEntry>& Session::dispatch() const { return impl_->dispatch; }

std::vector<NodeProfile> Session::profile() const {
  std::vector<NodeProfile> out;
  for (size_t k = 0; k < impl_->execs.size(); ++k) {
    const auto& e = impl_->execs[k];
    const DispatchEntry& d = impl_->dispatch[k];
    NodeProfile p{d.node, d.op, d.backend, d.precision, d.impl, d.detail, e.ms, 0, e.runs};
    if (e.runs > 0 && e.ms > 0) p.gops = e.ops * e.runs / (e.ms * 1e6);
    out.push_back(std::move(p));
  }
  return out;
}

void Session::reset_profile() {
  for (auto& e : impl_->execs) e.ms = 0, e.runs = 0;
}

void Session::set_observer(NodeObserver observer) { impl_->observer = std::move(observer); }
const Model& Session::model() const { return *impl_->model; }
std::string Session::backend() const { return impl_->backend_name; }
size_t Session::arena_bytes() const { return impl_->arena_bytes; }

}  // namespace octet
