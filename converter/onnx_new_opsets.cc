// Opset 18-21 forms -> opset 17 forms, on the ModelProto (see onnx_new_opsets.h). Hand-written
// because Debian's onnx 1.12 has no schemas and no version adapters past 17; each rewrite follows
// the newer op's definition in ONNX's Operators.md (the function bodies for GroupNormalization,
// Mish and Gelu). The rewrite needs constant operands and, for some forms, input ranks and sizes:
// those come from ONNX's shape inference run on a copy (best effort: the new-form nodes it cannot
// infer stop it there), in rounds until every node is rewritten.
#include "onnx_new_opsets.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

namespace octet::converter {
namespace {

using Dims = std::vector<int64_t>;   // -1: unknown

bool default_domain(const onnx::NodeProto& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

std::string label(const onnx::NodeProto& n) {
  return "node '" + (n.name().empty() ? n.output_size() ? n.output(0) : std::string("?") : n.name()) + "' (" + n.op_type() + ")";
}

[[noreturn]] void refuse(const std::string& path, const onnx::NodeProto& n, const std::string& what) {
  throw Error(path + ": " + label(n) + ": " + what);
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

void remove_attr(onnx::NodeProto& n, const std::string& name) {
  auto* as = n.mutable_attribute();
  for (int i = 0; i < as->size(); ++i)
    if (as->Get(i).name() == name) return void(as->DeleteSubrange(i, 1));
}

void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  remove_attr(n, name);
  auto* a = n.add_attribute();
  a->set_name(name), a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// The model's constants and what shape inference knows, refreshed per round.
class Context {
 public:
  Context(onnx::ModelProto& m, const std::string& path) : m_(m), path_(path), dir_(std::filesystem::path(path).parent_path().string()) {}

  // A new round: the graph changed. Shapes are inferred again only if a rewrite asks for one
  // (inference runs on a copy of the whole model, weights included).
  void refresh() {
    consts_.clear(), shapes_.clear(), shapes_known_ = false;
    auto* g = m_.mutable_graph();
    for (const auto& t : g->initializer()) consts_[t.name()] = &t;
    for (const auto& n : g->node())
      if (n.op_type() == "Constant" && default_domain(n))
        if (const auto* v = attr(n, "value"); v && v->has_t() && n.output_size() == 1) consts_[n.output(0)] = &v->t();
  }

  std::optional<Constant> constant(const std::string& name) const {
    auto it = consts_.find(name);
    if (name.empty() || it == consts_.end()) return std::nullopt;
    return onnx_tensor_constant(*it->second, dir_, path_);
  }
  const Dims* shape(const std::string& name) {
    if (!shapes_known_) infer_shapes();
    auto it = shapes_.find(name);
    return it == shapes_.end() ? nullptr : &it->second;
  }

  std::string add_initializer(const std::string& base, const Constant& c) {
    std::string name = unique(base);
    onnx::TensorProto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    for (int64_t d : c.shape) t->add_dims(d);
    if (c.dtype == DataType::i64) {
      t->set_data_type(onnx::TensorProto::INT64);
      for (int64_t v : c.ints()) t->add_int64_data(v);
    } else {
      t->set_data_type(onnx::TensorProto::FLOAT);
      for (float v : c.floats()) t->add_float_data(v);
    }
    if (m_.ir_version() <= 3) {   // IR 3 lists initializers as inputs
      auto* in = m_.mutable_graph()->add_input();
      in->set_name(name);
      in->mutable_type()->mutable_tensor_type()->set_elem_type(t->data_type());
      for (int64_t d : c.shape) in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
    }
    consts_[name] = t;
    return name;
  }

  std::string unique(const std::string& base) {
    if (names_.empty()) {
      for (const auto& t : m_.graph().initializer()) names_.insert(t.name());
      for (const auto& v : m_.graph().input()) names_.insert(v.name());
      for (const auto& n : m_.graph().node())
        for (const auto& o : n.output()) names_.insert(o);
    }
    std::string s = base;
    for (int k = 1; names_.count(s); ++k) s = base + "_" + std::to_string(k);
    names_.insert(s);
    return s;
  }

  const std::string& path() const { return path_; }

 private:
  void infer_shapes() {
    shapes_known_ = true;
    onnx::ModelProto copy = m_;
    try {
      onnx::shape_inference::InferShapes(copy);
    } catch (const std::exception&) {   // what it found before giving up is still in `copy`
    }
    auto take = [&](const onnx::ValueInfoProto& v) {
      if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
      Dims d;
      for (const auto& x : v.type().tensor_type().shape().dim()) d.push_back(x.has_dim_value() ? x.dim_value() : -1);
      shapes_[v.name()] = d;
    };
    for (const auto& v : copy.graph().input()) take(v);
    for (const auto& v : copy.graph().value_info()) take(v);
    for (const auto& v : copy.graph().output()) take(v);
    for (const auto& t : m_.graph().initializer()) shapes_[t.name()] = Dims(t.dims().begin(), t.dims().end());
  }

  onnx::ModelProto& m_;
  std::string path_, dir_;
  std::map<std::string, const onnx::TensorProto*> consts_;
  std::map<std::string, Dims> shapes_;
  bool shapes_known_ = false;
  std::set<std::string> names_;
};

onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                          const std::string& name) {
  onnx::NodeProto n;
  n.set_op_type(op), n.set_name(name);
  for (const auto& i : in) n.add_input(i);
  for (const auto& o : out) n.add_output(o);
  return n;
}

enum class Result { Unchanged, Rewritten, Later };

// Rewrites node `n` (may append nodes to `body` that replace it). Later: needs a shape the
// current round does not know yet.
class Rewriter {
 public:
  Rewriter(Context& c, int opset) : c_(c), opset_(opset) {}
  // Set for the last round: a form whose input shape is still unknown takes the reading that
  // needs none (Split: equal parts, checked when it runs).
  bool last_round = false;

  Result rewrite(onnx::NodeProto& n, std::vector<onnx::NodeProto>* body) {
    const std::string& op = n.op_type();
    static const char* kReduce[] = {"ReduceMax", "ReduceMin", "ReduceMean", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                                    "ReduceLogSumExp", "ReduceSumSquare"};
    for (const char* r : kReduce)
      if (op == r) return reduce(n);
    if (op == "Pad") return pad(n);
    if (op == "Split") return split(n);
    if (op == "Resize") return resize(n);
    if (op == "GroupNormalization") return group_norm(n, body);
    if (op == "Mish") return mish(n, body);
    if (op == "Gelu") return gelu(n, body);
    if (op == "Cast" || op == "CastLike" || op == "QuantizeLinear" || op == "DequantizeLinear") return saturate(n);
    if (op == "AveragePool" && attr(n, "dilations")) {
      // Opset 19. onnx 1.12's shape inference would ignore dilations and get the output size
      // wrong, and opset 17 has no dilated average: only the default is read.
      for (int64_t d : attr(n, "dilations")->ints())
        if (d != 1) refuse_(n, "dilations other than 1 (opset 19) are not supported for AveragePool");
      remove_attr(n, "dilations");
      return Result::Rewritten;
    }
    return Result::Unchanged;
  }

 private:
  Context& c_;
  int opset_;

  [[noreturn]] void refuse_(const onnx::NodeProto& n, const std::string& what) { refuse(c_.path(), n, what); }

  std::vector<int64_t> const_ints(const onnx::NodeProto& n, int i, const char* what) {
    auto v = c_.constant(n.input(i));
    if (!v) refuse_(n, std::string(what) + " computed at run time are not supported in this opset-" + std::to_string(opset_) + " form (constant " + what + " are)");
    return v->ints();
  }

  // Reduce*-18: axes as input 1 -> attribute; noop_with_empty_axes with no axes -> Identity.
  Result reduce(onnx::NodeProto& n) {
    const bool has_axes = n.input_size() > 1 && !n.input(1).empty();
    const auto* noop = attr(n, "noop_with_empty_axes");
    const bool is_noop = noop && noop->i() != 0;
    if (!has_axes && !noop && n.input_size() <= 1) return Result::Unchanged;
    std::vector<int64_t> axes = has_axes ? const_ints(n, 1, "axes") : std::vector<int64_t>{};
    while (n.input_size() > 1) n.mutable_input()->RemoveLast();
    remove_attr(n, "noop_with_empty_axes");
    if (axes.empty() && is_noop) {
      n.set_op_type("Identity");
      n.clear_attribute();
    } else if (!axes.empty()) {
      set_ints(n, "axes", axes);
    }
    return Result::Rewritten;
  }

  // Pad-18: pads for the listed axes only -> pads for every axis.
  Result pad(onnx::NodeProto& n) {
    if (n.input_size() < 4 || n.input(3).empty()) return Result::Unchanged;
    std::vector<int64_t> axes = const_ints(n, 3, "axes");
    std::vector<int64_t> pads = const_ints(n, 1, "pads");
    const Dims* x = c_.shape(n.input(0));
    if (!x) return Result::Later;
    const int64_t r = static_cast<int64_t>(x->size());
    if (pads.size() != 2 * axes.size()) refuse_(n, "pads has " + std::to_string(pads.size()) + " values for " + std::to_string(axes.size()) + " axes");
    std::vector<int64_t> full(2 * r, 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
      if (a < 0 || a >= r) refuse_(n, "axis " + std::to_string(axes[i]) + " is out of range for rank " + std::to_string(r));
      full[a] = pads[i], full[r + a] = pads[axes.size() + i];
    }
    n.set_input(1, c_.add_initializer(n.input(1) + "_all_axes", Constant::of_ints({2 * r}, full)));
    n.mutable_input()->RemoveLast();
    return Result::Rewritten;
  }

  // Split-18: num_outputs -> equal parts, the last smaller when the length does not divide.
  Result split(onnx::NodeProto& n) {
    const auto* k = attr(n, "num_outputs");
    if (!k) return Result::Unchanged;
    const int64_t parts = k->i();
    if (parts != n.output_size()) refuse_(n, "num_outputs is " + std::to_string(parts) + " but the node has " + std::to_string(n.output_size()) + " outputs");
    const Dims* x = c_.shape(n.input(0));
    const auto* ax = attr(n, "axis");
    int64_t axis = ax ? ax->i() : 0;
    if (x) {
      if (axis < 0) axis += static_cast<int64_t>(x->size());
      const int64_t len = axis >= 0 && axis < static_cast<int64_t>(x->size()) ? (*x)[axis] : -1;
      if (len >= 0 && len % parts != 0) {
        const int64_t chunk = (len + parts - 1) / parts;
        std::vector<int64_t> sizes(parts, chunk);
        sizes.back() = len - chunk * (parts - 1);
        if (sizes.back() < 0) refuse_(n, "cannot split length " + std::to_string(len) + " into " + std::to_string(parts) + " parts");
        n.add_input(c_.add_initializer(n.output(0) + "_split", Constant::of_ints({parts}, sizes)));
      }
    } else if (!last_round) {
      return Result::Later;
    }
    // Equal parts: the opset-13 form without `split` is the same.
    remove_attr(n, "num_outputs");
    return Result::Rewritten;
  }

  // Resize-18/19: axes, keep_aspect_ratio_policy; antialias is kept for octet's kernel.
  Result resize(onnx::NodeProto& n) {
    const auto* axes_attr = attr(n, "axes");
    const auto* policy = attr(n, "keep_aspect_ratio_policy");
    const bool stretch = !policy || policy->s() == "stretch";
    Result r = rename_attr(n, "antialias", [](const onnx::AttributeProto& a) { return a.i() == 0; });
    if (!axes_attr && stretch) return r;
    const Dims* x = c_.shape(n.input(0));
    if (!x) return Result::Later;
    const int64_t rank = static_cast<int64_t>(x->size());
    std::vector<int64_t> axes;
    if (axes_attr) for (int64_t a : axes_attr->ints()) axes.push_back(a < 0 ? a + rank : a);
    else for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    for (int64_t a : axes)
      if (a < 0 || a >= rank) refuse_(n, "axis out of range for rank " + std::to_string(rank));
    const bool has_sizes = n.input_size() > 3 && !n.input(3).empty();
    const bool has_scales = n.input_size() > 2 && !n.input(2).empty();
    while (n.input_size() < 4) n.add_input("");
    if (n.input_size() > 1 && !n.input(1).empty()) {   // roi: [starts..., ends...] of the listed axes
      auto roi = c_.constant(n.input(1));
      if (!roi) refuse_(n, "roi computed at run time is not supported with axes");
      std::vector<float> v = roi->floats(), full(2 * rank, 0.f);
      for (int64_t a = 0; a < rank; ++a) full[rank + a] = 1.f;
      if (v.size() != 2 * axes.size()) refuse_(n, "roi has " + std::to_string(v.size()) + " values for " + std::to_string(axes.size()) + " axes");
      for (size_t i = 0; i < axes.size(); ++i) full[axes[i]] = v[i], full[rank + axes[i]] = v[axes.size() + i];
      n.set_input(1, c_.add_initializer(n.input(1) + "_all_axes", Constant::of_floats({2 * rank}, full)));
    }
    if (has_scales) {
      auto s = c_.constant(n.input(2));
      if (!s) refuse_(n, "scales computed at run time are not supported with axes");
      if (!stretch) refuse_(n, "keep_aspect_ratio_policy applies to sizes, not scales");
      std::vector<float> v = s->floats(), full(rank, 1.f);
      if (v.size() != axes.size()) refuse_(n, "scales has " + std::to_string(v.size()) + " values for " + std::to_string(axes.size()) + " axes");
      for (size_t i = 0; i < axes.size(); ++i) full[axes[i]] = v[i];
      n.set_input(2, c_.add_initializer(n.input(2) + "_all_axes", Constant::of_floats({rank}, full)));
    } else if (has_sizes) {
      auto s = c_.constant(n.input(3));
      if (!s) refuse_(n, "sizes computed at run time are not supported with axes or keep_aspect_ratio_policy");
      std::vector<int64_t> v = s->ints();
      if (v.size() != axes.size()) refuse_(n, "sizes has " + std::to_string(v.size()) + " values for " + std::to_string(axes.size()) + " axes");
      std::vector<int64_t> full(*x);
      for (size_t i = 0; i < axes.size(); ++i) full[axes[i]] = v[i];
      if (!stretch) {
        // One scale for every listed axis: the largest that fits (not_larger) or the smallest that
        // covers (not_smaller); sizes = round(scale * input size), halves away from zero (as ORT).
        double scale = policy->s() == "not_larger" ? INFINITY : 0;
        for (size_t i = 0; i < axes.size(); ++i) {
          if ((*x)[axes[i]] <= 0) return Result::Later;
          const double q = static_cast<double>(v[i]) / static_cast<double>((*x)[axes[i]]);
          scale = policy->s() == "not_larger" ? std::min(scale, q) : std::max(scale, q);
        }
        if (policy->s() != "not_larger" && policy->s() != "not_smaller") refuse_(n, "keep_aspect_ratio_policy '" + policy->s() + "' is not an ONNX policy");
        for (int64_t a : axes) {
          const double want = scale * static_cast<double>((*x)[a]);
          full[a] = static_cast<int64_t>(std::round(want));
          // ONNX maps coordinates with the policy's scale, not out / in: the same only when
          // scale * size is whole, which is all octet's sizes form can express.
          if (std::abs(want - static_cast<double>(full[a])) > 1e-9 * want)
            refuse_(n, "keep_aspect_ratio_policy " + policy->s() + " gives axis " + std::to_string(a) + " a fractional size " +
                           std::to_string(want) + " (octet's Resize maps coordinates by out / in, ONNX by the policy's scale)");
        }
      }
      for (int64_t a = 0; a < rank; ++a)
        if (full[a] < 0) return Result::Later;   // an axis not resized whose size is not known
      n.set_input(3, c_.add_initializer(n.input(3) + "_all_axes", Constant::of_ints({rank}, full)));
    }
    remove_attr(n, "axes");
    remove_attr(n, "keep_aspect_ratio_policy");
    return Result::Rewritten;
  }

  // GroupNormalization (18: scale and bias per group; 21: per channel), ONNX's function body:
  // Reshape to [N, G, -1], InstanceNormalization, Reshape back, per-channel scale and bias.
  Result group_norm(onnx::NodeProto& n, std::vector<onnx::NodeProto>* body) {
    const auto* g_attr = attr(n, "num_groups");
    if (!g_attr) refuse_(n, "num_groups is required");
    const int64_t groups = g_attr->i();
    const auto* eps_attr = attr(n, "epsilon");
    const float eps = eps_attr ? eps_attr->f() : 1e-5f;
    if (const auto* st = attr(n, "stash_type"); st && st->i() != 1) refuse_(n, "stash_type other than float is not supported");
    const Dims* x = c_.shape(n.input(0));
    if (!x) return Result::Later;
    if (x->size() < 3 || (*x)[1] <= 0) refuse_(n, "needs an input of rank >= 3 with a known channel count");
    const int64_t channels = (*x)[1];
    if (groups <= 0 || channels % groups != 0) refuse_(n, std::to_string(channels) + " channels do not split into " + std::to_string(groups) + " groups");
    auto scale = c_.constant(n.input(1)), bias = c_.constant(n.input(2));
    if (!scale || !bias) refuse_(n, "scale and bias computed at run time are not supported");
    // Opset 18 had one value per group; opset 21 one per channel (the 18 form was deprecated).
    const bool per_group = opset_ < 21;
    const int64_t want = per_group ? groups : channels;
    if (scale->elements() != want || bias->elements() != want)
      refuse_(n, "scale and bias need " + std::to_string(want) + " values (one per " + (per_group ? "group" : "channel") + " in opset " + std::to_string(opset_) + ")");
    std::vector<float> sc = scale->floats(), bi = bias->floats(), sc_c(channels), bi_c(channels);
    for (int64_t ch = 0; ch < channels; ++ch) {
      const int64_t k = per_group ? ch / (channels / groups) : ch;
      sc_c[ch] = sc[k], bi_c[ch] = bi[k];
    }
    std::vector<int64_t> bshape = {channels};
    for (size_t d = 2; d < x->size(); ++d) bshape.push_back(1);
    const std::string base = n.name().empty() ? n.output(0) : n.name();
    const std::string grouped_shape = c_.add_initializer(base + "_grouped_shape", Constant::of_ints({3}, {0, groups, -1}));
    const std::string ones = c_.add_initializer(base + "_ones", Constant::of_floats({groups}, std::vector<float>(groups, 1.f)));
    const std::string zeros = c_.add_initializer(base + "_zeros", Constant::of_floats({groups}, std::vector<float>(groups, 0.f)));
    const std::string sc_name = c_.add_initializer(base + "_scale", Constant::of_floats(bshape, sc_c));
    const std::string bi_name = c_.add_initializer(base + "_bias", Constant::of_floats(bshape, bi_c));
    const std::string xg = c_.unique(base + "_grouped"), xn = c_.unique(base + "_normalized"), xs = c_.unique(base + "_shape"),
                      xb = c_.unique(base + "_ungrouped"), xm = c_.unique(base + "_scaled");
    body->push_back(make_node("Reshape", {n.input(0), grouped_shape}, {xg}, base + "_group"));
    body->push_back(make_node("InstanceNormalization", {xg, ones, zeros}, {xn}, base + "_instance_norm"));
    auto* e = body->back().add_attribute();
    e->set_name("epsilon"), e->set_type(onnx::AttributeProto::FLOAT), e->set_f(eps);
    body->push_back(make_node("Shape", {n.input(0)}, {xs}, base + "_input_shape"));
    body->push_back(make_node("Reshape", {xn, xs}, {xb}, base + "_ungroup"));
    body->push_back(make_node("Mul", {xb, sc_name}, {xm}, base + "_scale_mul"));
    body->push_back(make_node("Add", {xm, bi_name}, {n.output(0)}, base + "_bias_add"));
    return Result::Rewritten;
  }

  // Mish(x) = x * tanh(softplus(x)).
  Result mish(onnx::NodeProto& n, std::vector<onnx::NodeProto>* body) {
    const std::string base = n.name().empty() ? n.output(0) : n.name();
    const std::string sp = c_.unique(base + "_softplus"), th = c_.unique(base + "_tanh");
    body->push_back(make_node("Softplus", {n.input(0)}, {sp}, base + "_softplus"));
    body->push_back(make_node("Tanh", {sp}, {th}, base + "_tanh"));
    body->push_back(make_node("Mul", {n.input(0), th}, {n.output(0)}, base + "_mul"));
    return Result::Rewritten;
  }

  // Gelu-20, written as torch's exports write it, which fuse_transformer turns into octet's Gelu:
  // none: x * (erf(x / sqrt 2) + 1) * 0.5; tanh: x * (tanh(sqrt(2/pi) (x + 0.044715 x^3)) + 1) * 0.5.
  Result gelu(onnx::NodeProto& n, std::vector<onnx::NodeProto>* body) {
    const auto* ap = attr(n, "approximate");
    const std::string mode = ap ? ap->s() : "none";
    if (mode != "none" && mode != "tanh") refuse_(n, "approximate '" + mode + "' is not an ONNX GELU form");
    const std::string base = n.name().empty() ? n.output(0) : n.name();
    const std::string x = n.input(0);
    auto k = [&](const char* name, float v) { return c_.add_initializer(base + name, Constant::of_floats({}, {v})); };
    auto t = [&](const char* name) { return c_.unique(base + name); };
    std::string inner;
    if (mode == "none") {
      const std::string d = t("_div"), e = t("_erf");
      body->push_back(make_node("Div", {x, k("_sqrt2", std::sqrt(2.f))}, {d}, d));
      body->push_back(make_node("Erf", {d}, {e}, e));
      inner = e;
    } else {
      const std::string c3 = t("_cube"), m1 = t("_cube_scaled"), a1 = t("_sum"), m2 = t("_arg"), th = t("_tanh");
      body->push_back(make_node("Pow", {x, k("_three", 3.f)}, {c3}, c3));
      body->push_back(make_node("Mul", {k("_c", 0.044715f), c3}, {m1}, m1));
      body->push_back(make_node("Add", {x, m1}, {a1}, a1));
      body->push_back(make_node("Mul", {k("_sqrt_2_pi", std::sqrt(2.f / static_cast<float>(M_PI))), a1}, {m2}, m2));
      body->push_back(make_node("Tanh", {m2}, {th}, th));
      inner = th;
    }
    const std::string a = t("_add1"), m = t("_mul_x");
    body->push_back(make_node("Add", {inner, k("_one", 1.f)}, {a}, a));
    body->push_back(make_node("Mul", {x, a}, {m}, m));
    body->push_back(make_node("Mul", {m, k("_half", 0.5f)}, {n.output(0)}, base + "_half"));
    return Result::Rewritten;
  }

  // saturate (19) only concerns float8 targets, which octet refuses by type anyway; block
  // quantization (21) and output_dtype (21) are not octet forms.
  Result saturate(onnx::NodeProto& n) {
    Result r = Result::Unchanged;
    if (attr(n, "saturate")) remove_attr(n, "saturate"), r = Result::Rewritten;
    if (const auto* b = attr(n, "block_size"); b && b->i() != 0) refuse_(n, "block quantization (block_size) is not supported");
    if (attr(n, "block_size")) remove_attr(n, "block_size"), r = Result::Rewritten;
    if (const auto* o = attr(n, "output_dtype"); o && o->i() != 0) refuse_(n, "output_dtype is not supported (give a zero point of the output type)");
    if (attr(n, "output_dtype")) remove_attr(n, "output_dtype"), r = Result::Rewritten;
    return r;
  }

  // An attribute opset 17 lacks: dropped when it has its default value, else renamed for the
  // importer to restore (octet's lowering implements it).
  template <class IsDefault>
  Result rename_attr(onnx::NodeProto& n, const std::string& name, IsDefault is_default) {
    const auto* a = attr(n, name);
    if (!a) return Result::Unchanged;
    if (is_default(*a)) {
      remove_attr(n, name);
    } else {
      onnx::AttributeProto copy = *a;
      remove_attr(n, name);
      copy.set_name("__octet_" + name);
      *n.add_attribute() = copy;
    }
    return Result::Rewritten;
  }
};

}  // namespace

void rewrite_new_opset_forms(onnx::ModelProto& model, int opset, const std::string& path) {
  Context ctx(model, path);
  Rewriter rw(ctx, opset);
  auto* g = model.mutable_graph();
  std::vector<bool> done(g->node_size(), false);
  for (int round = 0;; ++round) {
    ctx.refresh();
    bool later = false, progress = false;
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    std::vector<bool> next_done;
    for (int i = 0; i < g->node_size(); ++i) {
      onnx::NodeProto n = g->node(i);
      std::vector<onnx::NodeProto> body;
      Result r = done[i] || !default_domain(n) ? Result::Unchanged : rw.rewrite(n, &body);
      if (r == Result::Later) later = true;
      if (r == Result::Rewritten) progress = true;
      if (!body.empty()) {
        for (auto& b : body) *nodes.Add() = std::move(b), next_done.push_back(true);
      } else {
        *nodes.Add() = std::move(n), next_done.push_back(done[i] || r != Result::Later);
      }
    }
    g->mutable_node()->Swap(&nodes);
    done = std::move(next_done);
    if (!later) break;
    if (rw.last_round) {
      for (int i = 0; i < g->node_size(); ++i)
        if (!done[i]) refuse(path, g->node(i), "needs its input's shape, which ONNX's shape inference cannot work out here");
    }
    if (!progress || round > 50) rw.last_round = true;
  }
  // What is left must be an op opset 17 defines: anything newer is named here, not by the checker.
  for (const auto& n : g->node())
    if (default_domain(n) && !onnx::OpSchemaRegistry::Schema(n.op_type(), 17, ""))
      refuse(path, n, "op '" + n.op_type() + "' (opset " + std::to_string(opset) + ") is not supported by octet (the supported ops are listed in docs/format.md)");
  for (auto& o : *model.mutable_opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") o.set_version(17);
}

}  // namespace octet::converter
