// Constant folding, driven here; what is folded is worked out in two files:
//  - constants: any supported op whose inputs are all constant is evaluated
//    (evaluate_constants.{h,cc}) and replaced by its result (weights transposed or scaled by the
//    exporter, index math);
//  - shape expressions (shape_expressions.{h,cc}): Shape(x) of a tensor with symbolic dims and
//    the arithmetic on it, until a Reshape whose target is such a vector gets a constant target
//    using 0 (copy that input dim) and -1 (infer), which the runtime resolves for any batch;
//  - fills of a run-time shape: ConstantOfShape of a shape expression (and Slice, Reshape,
//    Squeeze, Unsqueeze, Expand of it) is a tensor of one value whose shape is only known at run
//    time. torch exports the zero initial state of LSTM/GRU/RNN this way when the batch is
//    symbolic; a zero fill given as initial_h/initial_c is dropped (ONNX: omitted = zeros).
// Shape expressions and fills stay in the graph until their consumers fold; what does not fold
// is lowered as it is and computed by the runtime (runtime/src/ops/operands.h).
#include <algorithm>
#include <map>

#include "octet_ops.h"
#include "passes/evaluate_constants.h"
#include "passes/passes.h"
#include "passes/shape_expressions.h"

namespace octet::converter {

namespace {

// A tensor whose elements are all `value` and whose shape depends on run-time sizes.
struct Fill {
  float value = 0.f;
};

class Folder {
 public:
  Folder(Graph& g, PassStats& st) : g_(g), stats_(st) {}

  void run() {
    std::vector<Node> kept;
    for (Node& n : g_.nodes) {
      if (try_fold(n)) {
        stats_.add("constant nodes folded");
        continue;
      }
      kept.push_back(std::move(n));
    }
    g_.nodes = std::move(kept);
    g_.remove_dead();
  }

 private:
  Graph& g_;
  PassStats& stats_;
  std::map<std::string, SymVec> sym_;
  std::map<std::string, Fill> fill_;

  Operand value(const std::string& name) {
    Operand v;
    if (name.empty()) return v;
    if (const Constant* c = g_.constant(name)) v.c = c;
    auto it = sym_.find(name);
    if (it != sym_.end()) v.s = &it->second;
    return v;
  }

  void set_constant(const std::string& name, Constant c) {
    IrTensor& t = g_.tensor(name);
    t.dtype = c.dtype;
    t.shape.clear();
    for (int64_t d : c.shape) t.shape.push_back(Dim::fixed(d));
    t.shape_known = true;
    t.value = std::move(c);
  }

  // Returns true if the node was replaced by constants / recorded as a shape expression.
  bool try_fold(Node& n) {
    if (n.outputs.size() != 1 || n.outputs[0].empty()) return false;
    const std::string& out = n.outputs[0];
    if (g_.is_graph_output(out)) return false;
    if (n.op == "Shape") return fold_shape(n);
    if (std::optional<Fill> f = eval_fill(n)) {
      fill_[out] = *f;
      return false;   // kept: dead once an LSTM/GRU/RNN initial state drops it, else it runs
    }
    std::vector<Operand> in;
    bool all_const = true, any_sym = false;
    for (const auto& name : n.inputs) {
      Operand v = value(name);
      if (!name.empty() && !v.present()) return false;
      if (!name.empty() && !v.c) all_const = false;
      if (v.s && !v.c) any_sym = true;
      in.push_back(v);
    }
    if (n.inputs.empty()) {
      if (n.op != "ConstantOfShape" && n.op != "Range") return false;
    }
    if (all_const) {
      std::vector<const Constant*> constants;
      for (const Operand& v : in) constants.push_back(v.c);
      std::optional<Constant> r = evaluate_constant(n, constants);
      if (!r) return false;
      set_constant(out, std::move(*r));
      return true;
    }
    if (any_sym) {
      std::optional<SymVec> r = evaluate_shape_expression(n, in);
      if (!r) return false;
      if (all_known(*r)) {
        std::vector<int64_t> v = known_values(*r);
        const IrTensor& t = g_.tensor(out);
        std::vector<int64_t> shape;   // a scalar where ONNX's inference says so, else a vector
        if (!(t.shape_known && t.shape.empty())) shape = {static_cast<int64_t>(v.size())};
        set_constant(out, Constant::of_ints(shape, v));
        return true;
      }
      sym_[out] = std::move(*r);
      return false;   // kept: dead once its consumers fold, else it runs at run time
    }
    return false;
  }

  // ConstantOfShape of a shape expression, or an op that only moves or repeats the elements of
  // such a fill (data input 0; its other inputs are shapes, axes or slice bounds).
  std::optional<Fill> eval_fill(const Node& n) {
    if (n.inputs.empty()) return std::nullopt;
    if (n.op == "ConstantOfShape") {
      if (!sym_.count(n.inputs[0]) || g_.constant(n.inputs[0])) return std::nullopt;
      return Fill{n.attr_float("value", 0.f)};
    }
    static const char* kMove[] = {"Slice", "Reshape", "Squeeze", "Unsqueeze", "Expand", "Identity", "Transpose", "Flatten"};
    if (std::find(std::begin(kMove), std::end(kMove), n.op) == std::end(kMove)) return std::nullopt;
    auto it = fill_.find(n.inputs[0]);
    if (it == fill_.end()) return std::nullopt;
    return it->second;
  }

  bool fold_shape(Node& n) {
    std::optional<SymVec> v = shape_of(n, g_.tensor(n.inputs[0]));
    if (!v) return false;
    if (all_known(*v)) {
      std::vector<int64_t> iv = known_values(*v);
      set_constant(n.outputs[0], Constant::of_ints({static_cast<int64_t>(iv.size())}, iv));
      return true;
    }
    sym_[n.outputs[0]] = std::move(*v);
    return false;   // kept: dead once its consumers fold, else the runtime computes it
  }

 public:
  // Reshape targets given as shape expressions become constants with 0 / -1. A target that names
  // two run-time sizes can only say 0 (copy) for them once the Reshape's input shape is known,
  // which may need the reshapes before it: resolve what can be, infer shapes again, repeat.
  void resolve_reshapes() {
    for (;;) {
      const Node* pending = nullptr;
      bool progress = false;
      for (Node& n : g_.nodes) {
        if ((n.op != "Reshape" && n.op != "Expand") || n.inputs.size() < 2) continue;
        auto it = sym_.find(n.inputs[1]);
        if (it == sym_.end() || g_.constant(n.inputs[1])) continue;
        const SymVec& v = it->second;
        if (n.op == "Expand") {
          // Expand to a shape made of the input's own dims (or 1) is a no-op broadcast: use 1s.
          std::vector<int64_t> shape;
          for (const SymInt& s : v) shape.push_back(s.known ? s.value : 1);
          n.inputs[1] = g_.add_constant(n.name + "_shape", Constant::of_ints({static_cast<int64_t>(shape.size())}, shape));
          progress = true;
          continue;
        }
        int unknown = 0;
        std::vector<int64_t> target = reshape_target(g_, n.inputs[0], v, &unknown);
        if (unknown > 1) {
          if (!pending) pending = &n;
          continue;
        }
        n.inputs[1] = g_.add_constant(n.name + "_shape", Constant::of_ints({static_cast<int64_t>(target.size())}, target));
        stats_.add("shape computations folded into Reshape");
        progress = true;
      }
      if (!pending || !progress) return;   // what cannot be expressed with 0 / -1 is computed at run time
      infer_shapes(g_);
    }
  }

  // Zero fills given as the initial state of a recurrent node become omitted inputs.
  void drop_zero_initial_states() {
    for (Node& n : g_.nodes) {
      if (!has_family(n.op, OpFamily::Recurrent)) continue;
      for (size_t i : {size_t(5), size_t(6)}) {
        if (i >= n.inputs.size() || (i == 6 && n.op != "LSTM")) continue;
        auto it = fill_.find(n.inputs[i]);
        if (it == fill_.end() || it->second.value != 0.f) continue;
        n.inputs[i].clear();
        stats_.add("run-time-shaped zero initial states dropped (" + n.op + ")");
      }
    }
  }
};

}  // namespace

void fold_constants(Graph& g, PassStats& stats) {
  Folder f(g, stats);
  f.run();
  f.resolve_reshapes();
  f.drop_zero_initial_states();
  // What did not fold (a shape computation a Reshape with two run-time sizes needs, a fill used
  // elsewhere than as an initial state) stays in the graph and runs at run time.
  g.remove_dead();
}

}  // namespace octet::converter
