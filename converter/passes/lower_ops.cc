// ONNX ops -> octet ops (docs/format.md). Operands that octet takes as attributes (Reshape's
// shape, Slice's bounds, Clip's limits, Pad's pads, Resize's scales...) must be constants and
// move into attributes; the attribute forms of older opsets are read as well. Gemm and MatMul
// with constant weights become FullyConnected with weights [N, K]. Ops whose layout matters
// (Conv, ConvTranspose, pooling) are left for to_channels_last. Anything octet cannot run is
// refused here, naming the node and the op.
#include <cmath>
#include <limits>

#include "octet_ops.h"
#include "passes/passes.h"
#include "reference/unary_value.h"

namespace octet::converter {

namespace {

const Constant& need_const(const Graph& g, const Node& n, size_t i, const char* what) {
  if (!n.has_input(i)) fail(n, std::string(what) + " is missing");
  const Constant* c = g.constant(n.inputs[i]);
  if (!c) fail(n, std::string(what) + " must be a constant (computed at run time in this model)");
  return *c;
}

std::vector<float> transpose2d(const std::vector<float>& v, int64_t rows, int64_t cols) {
  std::vector<float> t(v.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = v[r * cols + c];
  return t;
}

std::string dtype_from_onnx(const Node& n, int64_t to) {
  if (auto t = cast_target_dtype(to)) return dtype_name(*t);
  fail(n, "Cast to ONNX type " + std::to_string(to) + " is not supported");
}

class Lowerer {
 public:
  Lowerer(Graph& g, PassStats& s) : g_(g), stats_(s) {}

  void run() {
    std::vector<Node> out;
    for (Node& n : g_.nodes) {
      if (n.lowered) {
        out.push_back(std::move(n));
        continue;
      }
      lower(n, out);
    }
    g_.nodes = std::move(out);
    g_.remove_dead();
  }

 private:
  Graph& g_;
  PassStats& stats_;

  std::string new_tensor(const std::string& base, const IrTensor* like = nullptr) {
    IrTensor t;
    t.name = g_.unique_name(base);
    if (like) t.dtype = like->dtype, t.shape = like->shape, t.shape_known = like->shape_known;
    std::string n = t.name;
    g_.add_tensor(std::move(t));
    return n;
  }

  Node make(const Node& from, const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
            nlohmann::json attrs = nlohmann::json::object()) {
    Node n;
    n.name = g_.unique_name(from.name + (op == from.op ? "" : "_" + op));
    n.op = op;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.attrs = std::move(attrs);
    n.origin = from.origin;
    n.lowered = true;
    return n;
  }

  // ONNX input `i` of n computed at run time (not a constant): it stays an input of the octet
  // node, an operand the runtime reads into the attribute (runtime/src/ops/operands.h).
  bool at_run_time(const Node& n, size_t i) const { return n.has_input(i) && !g_.constant(n.inputs[i]); }
  // Octet inputs: x, then the run-time operands at their positions (`ops` by octet position).
  static std::vector<std::string> with_operands(const Node& n, const std::vector<std::pair<size_t, std::string>>& ops) {
    std::vector<std::string> in = {n.inputs[0]};
    for (const auto& [at, t] : ops) {
      if (in.size() <= at) in.resize(at + 1);
      in[at] = t;
    }
    return in;
  }

  // An op whose one operand is input 1 in ONNX and in octet (Reshape's shape, Split's sizes,
  // Squeeze's axes...): computed at run time, it stays an input and the node is kept with
  // `attrs`; true then. A constant one the caller reads into the attribute.
  bool keep_run_time_operand(Node& n, std::vector<Node>& out, nlohmann::json attrs) {
    if (!at_run_time(n, 1)) return false;
    n.inputs.resize(2);
    keep(n, out, std::move(attrs));
    return true;
  }

  // PyTorch's old exports (opset < 7) give PRelu a per-channel slope [C] for X [N, C, ...], which
  // numpy broadcasting does not line up with dim 1; ONNX Runtime reads it per channel, and so do
  // we: the constant becomes [C, 1, ...].
  void fix_channel_slope(Node& n) {
    const IrTensor& x = g_.tensor(n.inputs[0]);
    const Constant* s = g_.constant(n.inputs[1]);
    if (!s || s->shape.size() != 1 || !x.shape_known || x.rank() < 3 || !x.shape[1].is_fixed()) return;
    if (s->shape[0] != x.shape[1].value || (x.shape.back().is_fixed() && x.shape.back().value == s->shape[0])) return;
    std::vector<int64_t> shape(static_cast<size_t>(x.rank() - 1), 1);
    shape[0] = s->shape[0];
    n.inputs[1] = g_.add_constant(n.inputs[1] + "_per_channel", Constant::of_floats(shape, s->floats()));
    stats_.add("PRelu slope [C] read per channel");
  }

  // Input 1 of an op whose operand octet takes as attribute `name`: kept as a run-time operand, or
  // (a constant) moved into the attribute, its one value when `scalar`; absent, the attribute is too.
  void keep_operand_attr(Node& n, std::vector<Node>& out, nlohmann::json attrs, const char* name, bool scalar) {
    if (keep_run_time_operand(n, out, attrs)) return;
    if (n.has_input(1)) {
      const std::vector<int64_t> v = need_const(g_, n, 1, name).ints();
      if (scalar && v.size() != 1) fail(n, std::string(name) + " must have one value, has " + std::to_string(v.size()));
      attrs[name] = scalar ? nlohmann::json(v[0]) : nlohmann::json(v);
    }
    n.inputs.resize(1);
    keep(n, out, std::move(attrs));
  }

  void keep(Node& n, std::vector<Node>& out, nlohmann::json attrs) {
    n.attrs = std::move(attrs);
    n.lowered = true;
    out.push_back(std::move(n));
  }

  // B = [Wb, Rb] per direction; every gate adds Wb + Rb (except GRU's hidden gate under
  // linear_before_reset), and the kernels add that sum once, so the file stores it: [D, G*H]
  // instead of [D, 2*G*H], the same floats the kernels computed, at half the bytes.
  void sum_rnn_bias(Node& n) {
    if (n.op == "GRU" && n.attr_int("linear_before_reset", 0) != 0) return;
    const Constant& b = *g_.constant(n.inputs[3]);
    if (b.shape.size() != 2 || b.shape[1] % 2 != 0) return;   // left to the shape check
    const int64_t D = b.shape[0], GH = b.shape[1] / 2;
    const std::vector<float> v = b.floats();
    std::vector<float> sum(static_cast<size_t>(D * GH));
    for (int64_t d = 0; d < D; ++d)
      for (int64_t i = 0; i < GH; ++i) sum[d * GH + i] = v[d * 2 * GH + i] + v[d * 2 * GH + GH + i];
    n.inputs[3] = g_.add_constant(n.inputs[3] + "_summed", Constant::of_floats({D, GH}, sum));
    stats_.add(n.op + " bias Wb + Rb summed");
  }

  // ONNX LSTM/GRU/RNN map one to one (docs/format.md, "Recurrent ops"): weights keep their
  // layout; octet always has Y, so an omitted one gets a name nobody reads.
  void lower_rnn(Node& n, std::vector<Node>& out) {
    using J = nlohmann::json;
    if (n.has_input(7)) fail(n, "peephole weights (input P) are not supported");
    for (size_t i : {1, 2, 3})
      if (n.has_input(i) && !g_.is_constant(n.inputs[i])) fail(n, "W, R and B must be constants");
    J a = J::object();
    for (const char* k : {"direction", "hidden_size", "layout", "linear_before_reset", "clip", "activations",
                          "activation_alpha", "activation_beta", "input_forget"})
      if (n.attrs.contains(k)) a[k] = n.attrs.at(k);
    if (n.outputs.empty() || n.outputs[0].empty()) {
      IrTensor y;
      y.name = g_.unique_name(n.name + "_Y_unused");
      if (n.outputs.empty()) n.outputs.push_back(y.name);
      else n.outputs[0] = y.name;
      g_.add_tensor(std::move(y));
    }
    while (n.inputs.size() > 3 && n.inputs.back().empty()) n.inputs.pop_back();
    while (n.outputs.size() > 1 && n.outputs.back().empty()) n.outputs.pop_back();
    if (n.has_input(3)) sum_rnn_bias(n);
    stats_.add(n.op + " kept (ONNX semantics)");
    keep(n, out, a);
  }

  void lower(Node& n, std::vector<Node>& out) {
    const std::string& op = n.op;
    const int opset = g_.opset;
    using J = nlohmann::json;

    // Layout-sensitive: lowered by to_channels_last.
    if (is_spatial_op(op)) {
      if (op == "MaxPool" && n.outputs.size() > 1 && !n.outputs[1].empty() && !g_.consumers(n.outputs[1]).empty())
        fail(n, "the Indices output of MaxPool is not supported");
      if (op == "MaxPool" && n.outputs.size() > 1) n.outputs.resize(1);
      out.push_back(std::move(n));
      return;
    }
    if (op == "PRelu") fix_channel_slope(n);
    // ONNX form Same in the op table: the ONNX op of this name, without attributes, is the octet op.
    if (const OpTraits* t = octet_op(op); t && t->onnx == OnnxForm::Same) return keep(n, out, J::object());
    if (OpKind k; op_from_name(op, &k) && !ref::unary_float_attrs(k).empty()) {   // LeakyRelu, Elu, Selu, ...
      J a = J::object();
      for (const ref::UnaryAttr& fa : ref::unary_float_attrs(k)) a[fa.name] = n.attr_float(fa.name, fa.default_value);
      return keep(n, out, a);
    }
    if (op == "Mod") return keep(n, out, {{"fmod", n.attr_int("fmod", 0)}});
    if (op == "Gelu") return keep(n, out, {{"approximate", n.attr_string("approximate", "none")}});
    if (op == "Clip") {
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (opset < 11) {
        lo = n.attr_float("min", lo), hi = n.attr_float("max", hi);
        n.inputs.resize(1);
      } else {
        std::vector<std::pair<size_t, std::string>> ops;
        for (size_t i : {1, 2}) {
          if (at_run_time(n, i)) ops.push_back({i, n.inputs[i]});
          else if (n.has_input(i)) (i == 1 ? lo : hi) = need_const(g_, n, i, i == 1 ? "min" : "max").floats().at(0);
        }
        n.inputs = with_operands(n, ops);
      }
      J a = J::object();   // an absent bound is no bound (infinite; JSON has no infinity)
      if (!at_run_time(n, 1) && std::isfinite(lo)) a["min"] = lo;
      if (!at_run_time(n, 2) && std::isfinite(hi)) a["max"] = hi;
      return keep(n, out, a);
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Max" || op == "Min" ||
        op == "Sum" || op == "Mean") {
      std::string base = op == "Sum" || op == "Mean" ? "Add" : op;
      if (n.inputs.size() == 1) {   // a one-input Sum/Max/Min is its input
        if (!g_.is_graph_output(n.outputs[0])) {
          g_.replace_uses(n.outputs[0], n.inputs[0]);
          return;
        }
        n.op = "Identity";   // a graph output: a copy (lowered below)
        return lower(n, out);
      }
      if (op == "Pow" && g_.tensor(n.inputs[0]).dtype != g_.tensor(n.inputs[1]).dtype) {
        // ONNX lets the exponent's type differ; octet's Pow computes in the base's type.
        // The Cast folds when the exponent is a constant.
        const DataType base_type = g_.tensor(n.inputs[0]).dtype;
        std::string cast = new_tensor(n.inputs[1] + "_as_base", &g_.tensor(n.inputs[1]));
        g_.tensor(cast).dtype = base_type;
        out.push_back(make(n, "Cast", {n.inputs[1]}, {cast}, {{"to", dtype_name(base_type)}}));
        n.inputs[1] = cast;
      }
      if (op == "Pow" && g_.is_constant(n.inputs[1])) {
        auto e = g_.constant(n.inputs[1])->floats();
        if (e.size() == 1 && e[0] == 2.f) {   // x^2 -> x*x (exact and int8-able)
          n.inputs[1] = n.inputs[0];
          n.op = "Mul";
          return keep(n, out, J::object());
        }
      }
      // Chain variadic forms into binary nodes.
      std::string acc = n.inputs[0];
      const bool mean = op == "Mean";
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        const bool last = i + 1 == n.inputs.size() && !mean;
        std::string dst = last ? n.outputs[0] : new_tensor(n.name + "_acc", &g_.tensor(n.outputs[0]));
        out.push_back(make(n, base, {acc, n.inputs[i]}, {dst}));
        acc = dst;
      }
      if (mean) {
        std::string k = g_.add_constant(n.name + "_inv", Constant::of_floats({}, {1.f / static_cast<float>(n.inputs.size())}));
        out.push_back(make(n, "Mul", {acc, k}, {n.outputs[0]}));
      }
      return;
    }
    if (op == "Gemm") return lower_gemm(n, out);
    if (op == "MatMul") {
      const Constant* b = g_.constant(n.inputs[1]);
      if (b && b->shape.size() == 2 && b->dtype == DataType::f32) {
        const int64_t K = b->shape[0], N = b->shape[1];
        std::string w = g_.add_constant(n.name + "_weight", Constant::of_floats({N, K}, transpose2d(b->floats(), K, N)));
        n.op = "FullyConnected";
        n.inputs = {n.inputs[0], w};
        stats_.add("MatMul with constant weights -> FullyConnected");
        return keep(n, out, J::object());
      }
      return keep(n, out, J::object());
    }
    if (op == "Concat") return keep(n, out, {{"axis", n.attr_int("axis", 0)}});
    if (op == "Split") {
      std::vector<int64_t> split = n.attr_ints("split", {});
      if (opset >= 13 && keep_run_time_operand(n, out, {{"axis", n.attr_int("axis", 0)}})) return;
      if (opset >= 13 && n.has_input(1)) split = need_const(g_, n, 1, "split").ints();
      n.inputs.resize(1);
      J a = {{"axis", n.attr_int("axis", 0)}};
      if (!split.empty()) a["split"] = split;
      return keep(n, out, a);
    }
    if (op == "Slice") {
      std::vector<int64_t> starts, ends, axes, steps;
      if (opset < 10) {
        starts = n.attr_ints("starts", {}), ends = n.attr_ints("ends", {}), axes = n.attr_ints("axes", {});
      } else {
        std::vector<std::pair<size_t, std::string>> ops;
        J a = J::object();
        const char* names[] = {"", "starts", "ends", "axes", "steps"};
        for (size_t i = 1; i <= 4; ++i) {
          if (at_run_time(n, i)) ops.push_back({i, n.inputs[i]});
          else if (n.has_input(i)) a[names[i]] = need_const(g_, n, i, names[i]).ints();
          else if (i <= 2) fail(n, std::string(names[i]) + " is missing");
        }
        n.inputs = with_operands(n, ops);
        return keep(n, out, a);
      }
      n.inputs.resize(1);
      J a = {{"starts", starts}, {"ends", ends}};
      if (!axes.empty()) a["axes"] = axes;
      if (!steps.empty()) a["steps"] = steps;
      return keep(n, out, a);
    }
    if (op == "Reshape") {
      J a = J::object();
      if (n.attr_int("allowzero", 0)) a["allowzero"] = 1;
      if (keep_run_time_operand(n, out, a)) {
        stats_.add("shapes computed at run time (Reshape)");
        return;
      }
      a["shape"] = need_const(g_, n, 1, "shape").ints();
      n.inputs.resize(1);
      return keep(n, out, a);
    }
    if (op == "Flatten") return keep(n, out, {{"axis", n.attr_int("axis", 1)}});
    if (op == "Transpose") {
      J a = J::object();
      if (n.attrs.contains("perm")) a["perm"] = n.attr_ints("perm", {});
      return keep(n, out, a);
    }
    if (op == "Squeeze" || op == "Unsqueeze") {
      std::vector<int64_t> axes = n.attr_ints("axes", {});
      if (opset >= 13 && keep_run_time_operand(n, out, J::object())) return;
      if (opset >= 13 && n.has_input(1)) axes = need_const(g_, n, 1, "axes").ints();
      if (op == "Unsqueeze" && axes.empty()) fail(n, "needs axes");
      n.inputs.resize(1);
      J a = J::object();
      if (!axes.empty()) a["axes"] = axes;
      return keep(n, out, a);
    }
    if (op == "Pad") {
      std::vector<int64_t> pads;
      float value = 0.f;
      if (opset < 11) {
        pads = n.attr_ints("pads", {});
        value = n.attr_float("value", 0.f);
      } else {
        if (n.has_input(3)) fail(n, "the axes input of Pad is not supported");
        if (at_run_time(n, 1) || at_run_time(n, 2)) {
          std::vector<std::pair<size_t, std::string>> ops;
          J a = {{"mode", n.attr_string("mode", "constant")}};
          if (at_run_time(n, 1)) ops.push_back({1, n.inputs[1]});
          else a["pads"] = need_const(g_, n, 1, "pads").ints();
          if (at_run_time(n, 2)) ops.push_back({2, n.inputs[2]});
          else a["value"] = n.has_input(2) ? need_const(g_, n, 2, "constant_value").floats().at(0) : 0.f;
          n.inputs = with_operands(n, ops);
          return keep(n, out, a);
        }
        pads = need_const(g_, n, 1, "pads").ints();
        if (n.has_input(2)) value = need_const(g_, n, 2, "constant_value").floats().at(0);
      }
      n.inputs.resize(1);
      return keep(n, out, {{"pads", pads}, {"mode", n.attr_string("mode", "constant")}, {"value", value}});
    }
    if (op == "Resize" || op == "Upsample") return lower_resize(n, out);
    if (op == "Gather") return keep(n, out, {{"axis", n.attr_int("axis", 0)}});
    if (op == "Expand" || op == "Tile") return keep_operand_attr(n, out, J::object(), op == "Expand" ? "shape" : "repeats", false);
    if (op == "Cast") return keep(n, out, {{"to", dtype_from_onnx(n, n.attr_int("to", 1))}});
    if (op == "CastLike") {   // Cast to input 1's type
      const DataType to = g_.tensor(n.inputs[1]).dtype;
      n.op = "Cast";
      n.inputs.resize(1);
      return keep(n, out, {{"to", dtype_name(to)}});
    }
    if (op == "ArgMax" || op == "ArgMin")
      return keep(n, out, {{"axis", n.attr_int("axis", 0)}, {"keepdims", n.attr_int("keepdims", 1)},
                           {"select_last_index", n.attr_int("select_last_index", 0)}});
    if (const OpTraits* t = octet_op(op); t && t->family == OpFamily::Reduce) {   // ReduceMean ... ReduceLogSumExp
      std::vector<int64_t> axes = n.attr_ints("axes", {});
      J run_time = {{"keepdims", n.attr_int("keepdims", 1)}};
      if (n.attr_int("noop_with_empty_axes", 0)) run_time["noop_with_empty_axes"] = 1;   // decided per run
      if (keep_run_time_operand(n, out, run_time)) return;
      if (n.has_input(1)) axes = need_const(g_, n, 1, "axes").ints();
      if (n.attr_int("noop_with_empty_axes", 0) && axes.empty()) {
        g_.replace_uses(n.outputs[0], n.inputs[0]);
        return;
      }
      n.inputs.resize(1);
      J a = {{"keepdims", n.attr_int("keepdims", 1)}};
      if (!axes.empty()) a["axes"] = axes;
      return keep(n, out, a);
    }
    if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") return lower_softmax(n, out);
    if (op == "GatherElements") return keep(n, out, {{"axis", n.attr_int("axis", 0)}});
    if (op == "DepthToSpace" || op == "SpaceToDepth") {
      J a = {{"blocksize", n.attr_int("blocksize", 0)}};
      if (op == "DepthToSpace") a["mode"] = n.attr_string("mode", "DCR");
      return keep(n, out, a);
    }
    if (op == "NegativeLogLikelihoodLoss" || op == "SoftmaxCrossEntropyLoss") {
      J a = {{"reduction", n.attr_string("reduction", "mean")}};
      if (n.attrs.contains("ignore_index")) a["ignore_index"] = n.attr_int("ignore_index", 0);
      while (n.outputs.size() > 1 && (n.outputs.back().empty() || (g_.consumers(n.outputs.back()).empty() && !g_.is_graph_output(n.outputs.back()))))
        n.outputs.pop_back();
      return keep(n, out, a);
    }
    if (op == "GatherND") return keep(n, out, {{"batch_dims", n.attr_int("batch_dims", 0)}});
    if (op == "ScatterND") return keep(n, out, {{"reduction", n.attr_string("reduction", "none")}});
    if (op == "ScatterElements" || op == "Scatter") {   // Scatter (opset 9-10) is ScatterElements
      n.op = "ScatterElements";
      return keep(n, out, {{"axis", n.attr_int("axis", 0)}, {"reduction", n.attr_string("reduction", "none")}});
    }
    if (op == "IsInf") return keep(n, out, {{"detect_negative", n.attr_int("detect_negative", 1)}, {"detect_positive", n.attr_int("detect_positive", 1)}});
    if (op == "Compress") return keep(n, out, n.attrs.contains("axis") ? J{{"axis", n.attr_int("axis", 0)}} : J::object());
    if (op == "NonMaxSuppression") return keep(n, out, {{"center_point_box", n.attr_int("center_point_box", 0)}});
    if (op == "EyeLike") return keep(n, out, {{"k", n.attr_int("k", 0)}});   // the output's dtype is ONNX's `dtype`
    if (op == "Einsum") return keep(n, out, {{"equation", n.attr_string("equation", "")}});
    if (op == "MeanVarianceNormalization") {   // ONNX's function body: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)
      const IrTensor* like = &g_.tensor(n.outputs[0]);
      const J mean_attrs = {{"axes", n.attr_ints("axes", {0, 2, 3})}, {"keepdims", 1}};
      auto full = [&](const char* what) { return new_tensor(n.name + what, like); };   // X's shape
      auto reduced = [&](const char* what) { return new_tensor(n.name + what); };       // shape inferred later
      const std::string x = n.inputs[0], mean = reduced("_mean"), sq = full("_sq"), mean_sq = reduced("_mean_sq"),
                        sq_mean = reduced("_sq_mean"), var = reduced("_var"), std = reduced("_std"), centred = full("_centred"),
                        denom = reduced("_denom");
      out.push_back(make(n, "ReduceMean", {x}, {mean}, mean_attrs));
      out.push_back(make(n, "Mul", {x, x}, {sq}));
      out.push_back(make(n, "ReduceMean", {sq}, {mean_sq}, mean_attrs));
      out.push_back(make(n, "Mul", {mean, mean}, {sq_mean}));
      out.push_back(make(n, "Sub", {mean_sq, sq_mean}, {var}));
      out.push_back(make(n, "Sqrt", {var}, {std}));
      out.push_back(make(n, "Sub", {x, mean}, {centred}));
      out.push_back(make(n, "Add", {std, g_.add_constant(n.name + "_eps", Constant::of_floats({}, {1e-9f}))}, {denom}));
      out.push_back(make(n, "Div", {centred, denom}, {n.outputs[0]}));
      return;
    }
    if (op == "InstanceNormalization") return keep(n, out, {{"epsilon", n.attr_float("epsilon", 1e-5f)}});
    if (op == "TopK") {
      // Always sorted: with sorted=0 the order is unspecified, and sorted is a valid answer.
      J a = {{"axis", n.attr_int("axis", -1)}, {"largest", n.attr_int("largest", 1)}};
      if (opset < 10) a["k"] = n.attr_int("k", 0);   // k was an attribute
      return keep_operand_attr(n, out, a, "k", true);
    }
    if (op == "OneHot") {
      J a = {{"axis", n.attr_int("axis", -1)}};
      if (g_.is_constant(n.inputs[1])) {
        a["depth"] = static_cast<int64_t>(need_const(g_, n, 1, "depth").floats().at(0));
        n.inputs[1].clear();
      } else if (g_.tensor(n.inputs[1]).dtype == DataType::f32) {   // a float depth: cast for the operand
        std::string d = new_tensor(n.inputs[1] + "_i64", &g_.tensor(n.inputs[1]));
        g_.tensor(d).dtype = DataType::i64;
        out.push_back(make(n, "Cast", {n.inputs[1]}, {d}, {{"to", "i64"}}));
        n.inputs[1] = d;
      }
      return keep(n, out, a);
    }
    if (op == "Trilu") return keep_operand_attr(n, out, {{"upper", n.attr_int("upper", 1)}}, "k", true);
    if (op == "CumSum")
      return keep_operand_attr(n, out, {{"exclusive", n.attr_int("exclusive", 0)}, {"reverse", n.attr_int("reverse", 0)}}, "axis", true);
    if (op == "LayerNormalization") {
      // Mean and InvStdDev (training outputs) are kept only when something reads them.
      for (size_t o = 1; o < n.outputs.size(); ++o)
        if (!n.outputs[o].empty() && g_.consumers(n.outputs[o]).empty() && !g_.is_graph_output(n.outputs[o])) n.outputs[o].clear();
      while (n.outputs.size() > 1 && n.outputs.back().empty()) n.outputs.pop_back();
      if (n.attr_int("stash_type", 1) != 1) fail(n, "stash_type other than float is not supported");
      return keep(n, out, {{"axis", n.attr_int("axis", -1)}, {"epsilon", n.attr_float("epsilon", 1e-5f)}});
    }
    if (op == "Identity") {
      // Survives remove_identities only as a graph output copying another graph value.
      const IrTensor& x = g_.tensor(n.inputs[0]);
      if (!x.shape_known) fail(n, "copies a tensor of unknown rank");
      n.op = "Reshape";
      return keep(n, out, {{"shape", std::vector<int64_t>(x.shape.size(), 0)}});
    }
    if (op == "QuantizeLinear" || op == "DequantizeLinear") {
      // A QDQ model: Q -> DQ pairs on activations are dropped (octet calibrates its own scales).
      if (op == "DequantizeLinear") {
        int p = -1;
        for (size_t k = 0; k < out.size(); ++k)
          for (const auto& o : out[k].outputs)
            if (o == n.inputs[0] && out[k].op == "QuantizeLinear") p = static_cast<int>(k);
        if (p >= 0) {
          g_.replace_uses(n.outputs[0], out[p].inputs[0]);
          stats_.add("QuantizeLinear/DequantizeLinear pair dropped");
          return;
        }
        fail(n, "a DequantizeLinear of a run-time tensor not produced by QuantizeLinear is not supported");
      }
      n.op = "QuantizeLinear";   // kept provisionally; must be consumed by a DequantizeLinear
      n.lowered = true;
      out.push_back(std::move(n));
      return;
    }
    if (has_family(op, OpFamily::Recurrent)) return lower_rnn(n, out);
    // Shape computations fold_constants could not fold run at run time (ops/operands.h).
    if (op == "Shape" || op == "Size") g_.tensor(n.outputs[0]).dtype = DataType::i64;   // ONNX: always int64
    if (op == "Shape") {
      J a = J::object();
      if (n.attrs.contains("start")) a["start"] = n.attr_int("start", 0);
      if (n.attrs.contains("end")) a["end"] = n.attr_int("end", 0);
      stats_.add("shapes computed at run time (Shape)");
      return keep(n, out, a);
    }
    if (op == "Size") return keep(n, out, J::object());
    if (op == "ConstantOfShape") return keep(n, out, {{"value", n.attr_float("value", 0.f)}});
    if (op == "Range") return keep(n, out, J::object());
    fail(n, "op '" + op + "' is not supported by octet (the supported ops are listed in docs/format.md)");
  }

  // Gemm: Y = alpha * A' B' + beta * C. With a constant B: FullyConnected (alpha folded into the
  // weights, beta * C into the bias when C varies along N only, else added after). With a run-time
  // B: MatMul, then Mul by alpha and Add of beta * C as needed.
  void lower_gemm(Node& n, std::vector<Node>& out) {
    const float alpha = n.attr_float("alpha", 1.f), beta = n.attr_float("beta", 1.f);
    std::string a = n.inputs[0];
    if (n.attr_int("transA", 0)) {
      std::string t = new_tensor(n.name + "_at");
      out.push_back(make(n, "Transpose", {a}, {t}, {{"perm", {1, 0}}}));
      a = t;
    }
    const Constant* b = g_.constant(n.inputs[1]);
    const bool tb = n.attr_int("transB", 0) != 0;
    const Constant* c = n.has_input(2) ? g_.constant(n.inputs[2]) : nullptr;
    const IrTensor& y = g_.tensor(n.outputs[0]);
    bool c_done = !n.has_input(2);
    std::string product;
    if (b && b->shape.size() == 2 && b->dtype == DataType::f32) {
      const int64_t N = tb ? b->shape[0] : b->shape[1], K = tb ? b->shape[1] : b->shape[0];
      std::vector<float> w = tb ? b->floats() : transpose2d(b->floats(), K, N);
      if (alpha != 1.f) for (auto& v : w) v *= alpha;
      std::vector<std::string> ins = {a, g_.add_constant(n.name + "_weight", Constant::of_floats({N, K}, w))};
      if (c && (c->elements() == 1 || (c->elements() == N && c->shape.back() == N))) {
        auto cv = c->floats();
        if (cv.size() == 1) cv.assign(N, cv[0]);
        for (auto& v : cv) v *= beta;
        ins.push_back(g_.add_constant(n.name + "_bias", Constant::of_floats({N}, cv)));
        c_done = true;
      }
      product = c_done ? n.outputs[0] : new_tensor(n.name + "_fc", &y);
      Node fc = make(n, "FullyConnected", ins, {product});
      fc.name = n.name;
      out.push_back(std::move(fc));
      stats_.add("Gemm -> FullyConnected");
    } else {
      std::string bt = n.inputs[1];
      if (tb) {
        bt = new_tensor(n.name + "_bt");
        out.push_back(make(n, "Transpose", {n.inputs[1]}, {bt}, {{"perm", {1, 0}}}));
      }
      const bool scaled = alpha != 1.f;
      product = c_done && !scaled ? n.outputs[0] : new_tensor(n.name + "_mm", &y);
      out.push_back(make(n, "MatMul", {a, bt}, {product}));
      if (scaled) {
        std::string k = g_.add_constant(n.name + "_alpha", Constant::of_floats({}, {alpha}));
        std::string p2 = c_done ? n.outputs[0] : new_tensor(n.name + "_scaled", &y);
        out.push_back(make(n, "Mul", {product, k}, {p2}));
        product = p2;
      }
      stats_.add("Gemm with a run-time B -> MatMul");
    }
    if (c_done) return;
    std::string cc = n.inputs[2];
    if (c) {
      std::vector<float> cv = c->floats();
      for (auto& v : cv) v *= beta;
      cc = g_.add_constant(n.name + "_c", Constant::of_floats(c->shape, cv));
    } else if (beta != 1.f) {
      cc = new_tensor(n.name + "_betac", &g_.tensor(n.inputs[2]));
      out.push_back(make(n, "Mul", {n.inputs[2], g_.add_constant(n.name + "_beta", Constant::of_floats({}, {beta}))}, {cc}));
    }
    out.push_back(make(n, "Add", {product, cc}, {n.outputs[0]}));
  }

  void lower_resize(Node& n, std::vector<Node>& out) {
    const IrTensor& x = g_.tensor(n.inputs[0]);
    std::string mode = n.attr_string("mode", "nearest");
    if (mode == "bilinear") mode = "linear";
    if (mode != "nearest" && mode != "linear" && mode != "cubic") fail(n, "mode '" + mode + "' is not supported (nearest, linear and cubic are)");
    std::string coord = n.attr_string("coordinate_transformation_mode", "half_pixel");
    std::vector<float> scales;
    std::vector<int64_t> sizes;
    if (n.op == "Upsample" || g_.opset < 11) {
      coord = "asymmetric";
      if (!n.attrs.contains("scales") && at_run_time(n, 1)) {   // (x, scales): scales read at run time
        n.inputs = with_operands(n, {{1, n.inputs[1]}});
        n.op = "Resize";
        stats_.add("shapes computed at run time (Resize)");
        return keep(n, out, {{"mode", mode}, {"coordinate_transformation_mode", coord}, {"nearest_mode", "floor"}});
      }
      if (n.attrs.contains("scales")) scales = n.attrs["scales"].get<std::vector<float>>();
      else scales = need_const(g_, n, 1, "scales").floats();
    } else {
      if (coord == "tf_crop_and_resize") fail(n, "tf_crop_and_resize is not supported");
      if (n.has_input(2) && g_.constant(n.inputs[2]) && g_.constant(n.inputs[2])->elements() > 0)
        scales = need_const(g_, n, 2, "scales").floats();
      if (n.has_input(3) && g_.constant(n.inputs[3]) && g_.constant(n.inputs[3])->elements() > 0)
        sizes = need_const(g_, n, 3, "sizes").ints();
      if (scales.empty() && sizes.empty() && (at_run_time(n, 2) || at_run_time(n, 3))) {
        // ONNX (x, roi, scales, sizes) -> octet (x, scales, sizes), read at run time.
        std::vector<std::pair<size_t, std::string>> ops;
        if (at_run_time(n, 3)) ops.push_back({2, n.inputs[3]});
        else ops.push_back({1, n.inputs[2]});
        n.inputs = with_operands(n, ops);
        n.op = "Resize";
        stats_.add("shapes computed at run time (Resize)");
        nlohmann::json a = {{"mode", mode}, {"coordinate_transformation_mode", coord},
               {"nearest_mode", n.attr_string("nearest_mode", "round_prefer_floor")}};
        if (mode == "cubic") a["cubic_coeff_a"] = n.attr_float("cubic_coeff_a", -0.75f), a["exclude_outside"] = n.attr_int("exclude_outside", 0);
        if (n.attr_int("antialias", 0)) a["antialias"] = 1;
        return keep(n, out, a);
      }
      if (scales.empty() && sizes.empty()) fail(n, "needs constant scales or sizes");
    }
    if (x.shape_known && !scales.empty() && static_cast<int64_t>(scales.size()) != x.rank()) fail(n, "scales must have one value per dimension");
    // Sizes along a symbolic batch would bake it in: turn them into scales where the input is static.
    if (!sizes.empty() && x.shape_known) {
      bool symbolic = false;
      for (size_t i = 0; i < sizes.size() && i < x.shape.size(); ++i) symbolic = symbolic || !x.shape[i].is_fixed();
      if (symbolic) {
        for (size_t i = 0; i < sizes.size(); ++i) {
          if (!x.shape[i].is_fixed()) scales.push_back(1.f);
          else scales.push_back(static_cast<float>(sizes[i]) / static_cast<float>(x.shape[i].value));
        }
        sizes.clear();
      }
    }
    n.inputs.resize(1);
    n.op = "Resize";
    nlohmann::json a = {{"mode", mode}, {"coordinate_transformation_mode", coord},
                        {"nearest_mode", n.attr_string("nearest_mode", g_.opset < 11 ? "floor" : "round_prefer_floor")}};
    if (mode == "cubic") a["cubic_coeff_a"] = n.attr_float("cubic_coeff_a", -0.75f), a["exclude_outside"] = n.attr_int("exclude_outside", 0);
    if (n.attr_int("antialias", 0)) a["antialias"] = 1;
    if (!sizes.empty()) a["sizes"] = sizes;
    else a["scales"] = scales;
    keep(n, out, a);
  }

  void lower_softmax(Node& n, std::vector<Node>& out) {
    const IrTensor& x = g_.tensor(n.inputs[0]);
    const bool log = n.op == "LogSoftmax";
    const std::string kind = n.op == "Hardmax" ? "Hardmax" : "Softmax";   // LogSoftmax: Log(Softmax)
    int64_t axis = n.attr_int("axis", g_.opset < 13 ? 1 : -1);
    if (x.shape_known && axis < 0) axis += x.rank();
    std::string y = n.outputs[0];
    std::string sm_out = log ? new_tensor(n.name + "_softmax", &g_.tensor(y)) : y;
    const bool coerce = g_.opset < 13 && x.shape_known && axis != x.rank() - 1;
    if (g_.opset < 13 && !x.shape_known) fail(n, "input rank unknown; cannot apply opset < 13 Softmax semantics");
    if (coerce) {
      // Old semantics: softmax over the flattened dims [axis, rank).
      std::string flat = new_tensor(n.name + "_flat");
      std::string sm = new_tensor(n.name + "_sm2d");
      out.push_back(make(n, "Flatten", {n.inputs[0]}, {flat}, {{"axis", axis}}));
      out.push_back(make(n, kind, {flat}, {sm}, {{"axis", -1}}));
      std::vector<int64_t> back;
      for (const Dim& d : x.shape) back.push_back(d.is_fixed() ? d.value : 0);
      for (size_t i = 0; i < back.size(); ++i)
        if (back[i] == 0) {
          if (i >= static_cast<size_t>(axis)) back[i] = -1;
        }
      out.push_back(make(n, "Reshape", {sm}, {sm_out}, {{"shape", back}}));
    } else {
      out.push_back(make(n, kind, {n.inputs[0]}, {sm_out}, {{"axis", axis}}));
      out.back().name = n.name;
    }
    if (log) out.push_back(make(n, "Log", {sm_out}, {y}));
  }
};
}  // namespace

void lower_ops(Graph& g, PassStats& stats) {
  Lowerer(g, stats).run();
  for (const Node& n : g.nodes)
    if (n.op == "QuantizeLinear" && !n.origin.empty())
      fail(n, "QuantizeLinear without a matching DequantizeLinear is not supported in an input model");
}

}  // namespace octet::converter
