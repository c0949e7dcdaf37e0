#include "op_tester.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "model/model_data.h"
#include "ops/shape_inference.h"

namespace octet::test {

using nlohmann::json;

Q8 u8(int32_t zero_point, float scale) { return {DataType::u8, zero_point, scale}; }
Q8 s8(int32_t zero_point, float scale) { return {DataType::s8, zero_point, scale}; }

namespace {

bool is_8bit(DataType t) { return t == DataType::u8 || t == DataType::s8; }
bool is_integer(DataType t) { return t != DataType::f32; }

json activation_json(const std::string& act) {
  if (act.empty()) return nullptr;
  if (act == "Relu6") return {{"op", "Clip"}, {"min", 0}, {"max", 6}};
  if (act == "LeakyRelu") return {{"op", "LeakyRelu"}, {"alpha", 0.1}};
  if (act == "HardSigmoid") return {{"op", "HardSigmoid"}, {"alpha", 0.2}, {"beta", 0.5}};
  return {{"op", act}};
}

// Quantization covering [lo, hi] and 0 (a zero point is a code: real 0 is always representable,
// as calibrators make it), plus 5% of the range on each side.
QuantInfo covering(DataType t, double lo, double hi) {
  lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  const double m = 0.05 * (hi - lo);
  lo -= m, hi += m;
  const float scale = static_cast<float>((hi - lo) / 255.0);
  const int32_t zp = std::clamp(static_cast<int32_t>(std::lround(qmin(t) - lo / scale)), qmin(t), qmax(t));
  return per_tensor(scale, zp);
}


std::string precision_tag(Precision p) { return p == Precision::Float ? "float" : p == Precision::Int8Static ? "int8" : "dynamic"; }
}  // namespace

const BackendRun* OpResult::on(const std::string& backend) const {
  for (const auto& r : runs)
    if (r.backend == backend) return &r;
  return nullptr;
}

bool OpResult::ran_on(const std::string& backend) const {
  const BackendRun* r = on(backend);
  return r && r->ran;
}

// ---- the description ----------------------------------------------------------------------

struct OpTester::Slot {
  enum class Kind { None, Codes, Floats, Data, Weights, Bias, Constant } kind = Kind::None;
  std::vector<int64_t> shape;
  Q8 q;
  bool scaled = false;   // Codes whose scale is derived (scaled_input)
  float lo = 0, hi = 0;
  NdArray value;         // Data, Constant
  QuantInfo quant;
  WeightSpec w;
  bool graph_input() const { return kind == Kind::Codes || kind == Kind::Floats || kind == Kind::Data; }
};

OpTester::OpTester(OpKind op) : op_(op) {}

OpTester& OpTester::precision(Precision p) { return precision_ = p, *this; }
OpTester& OpTester::label(std::string text) { return label_ = std::move(text), *this; }
OpTester& OpTester::seed(uint32_t s) {
  cache_.reset();
  seed_ = s;
  return *this;
}

OpTester& OpTester::input(std::vector<int64_t> shape, Q8 q) {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Codes, s->shape = std::move(shape), s->q = q;
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::input(std::vector<int64_t> shape, float lo, float hi) {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Floats, s->shape = std::move(shape), s->lo = lo, s->hi = hi;
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::input(NdArray value, QuantInfo q) {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Data, s->shape = value.shape, s->value = std::move(value), s->quant = std::move(q);
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::scaled_input(std::vector<int64_t> shape, Q8 q) {
  input(std::move(shape), q);
  slots_.back()->scaled = true;
  cache_.reset();
  return *this;
}
OpTester& OpTester::weights(std::vector<int64_t> shape, WeightSpec w) {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Weights, s->shape = std::move(shape), s->w = w;
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::bias() {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Bias;
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::constant(NdArray value, QuantInfo q) {
  auto s = std::make_shared<Slot>();
  s->kind = Slot::Kind::Constant, s->shape = value.shape, s->value = std::move(value), s->quant = std::move(q);
  slots_.push_back(s);
  cache_.reset();
  return *this;
}
OpTester& OpTester::none() {
  slots_.push_back(std::make_shared<Slot>());
  cache_.reset();
  return *this;
}
OpTester& OpTester::attrs(json a) {
  cache_.reset();
  attrs_ = std::move(a);
  return *this;
}
OpTester& OpTester::activation(const std::string& act) {
  cache_.reset();
  activation_ = act;
  return *this;
}
OpTester& OpTester::output(DataType dt) {
  outputs_.push_back(Out{dt, false, false, {}});
  cache_.reset();
  return *this;
}
OpTester& OpTester::output(DataType dt, QuantInfo q) {
  outputs_.push_back(Out{dt, true, false, std::move(q)});
  cache_.reset();
  return *this;
}
OpTester& OpTester::no_output() {
  outputs_.push_back(Out{DataType::f32, false, true, {}});
  cache_.reset();
  return *this;
}
OpTester& OpTester::symbolic_batch(bool on) { return symbolic_batch_ = on, *this; }
OpTester& OpTester::threads(int n) { return threads_ = n, *this; }
OpTester& OpTester::require(const std::string& backend, const std::string& impl, const std::string& except_when) {
  for (auto& r : required_)
    if (r.backend == backend) return r = {backend, impl, except_when}, *this;
  required_.push_back({backend, impl, except_when});
  return *this;
}
OpTester& OpTester::no_requirements() {
  required_.clear();
  return *this;
}
OpTester& OpTester::narrow_output_ok() { return narrow_ok_ = true, *this; }

// ---- derivation of the data ------------------------------------------------------------------

// Every slot as a static int8 node holds it (codes and quantization) and as its real values, and
// every output's quantization, after deriving the scales.
struct OpTester::Prepared {
  std::vector<NdArray> codes, real;
  std::vector<QuantInfo> quant;
  std::vector<QuantInfo> out_quant;
  bool outputs_derived = false;
  // The float node's outputs on the real values, per node output, once computed (output
  // quantization, or the reference of a Float check): a description checked at several
  // precisions runs that reference once.
  std::vector<NdArray> float_outputs;
};

namespace {
// A one-node model from per-slot tensors (empty NdArray: omitted input).
struct ModelParts {
  std::vector<NdArray> tensors;
  std::vector<QuantInfo> quant;
  std::vector<bool> graph_input, omitted;
  std::vector<DataType> out_dtype;   // f32 etc; omitted outputs: out_omitted
  std::vector<QuantInfo> out_quant;
  std::vector<bool> out_omitted;
};

// Declared output shapes, as a converter writes them: inferred from the inputs, with dimensions
// that follow the symbolic batch (they change when the batch does) symbolic too: "batch" where
// they are the batch, "?" otherwise. `other` holds the input shapes with another batch.
std::vector<GraphBuilder::Dims> output_dims(const detail::ModelData& md, const std::vector<Shape>& real, const std::vector<Shape>& other,
                                            int64_t batch, int64_t other_batch) {
  const std::vector<Shape> a = detail::infer_shapes(md, real);
  std::vector<Shape> b = a;
  if (batch >= 0) {
    try {
      b = detail::infer_shapes(md, other);
    } catch (const Error&) {
      // The op's attributes fix the batch (a Reshape to a constant shape, say): no output
      // dimension follows it.
    }
  }
  std::vector<GraphBuilder::Dims> out;
  for (int t : md.outputs) {
    GraphBuilder::Dims d;
    for (size_t k = 0; k < a[t].size(); ++k) {
      if (k >= b[t].size() || a[t][k] == b[t][k]) d.push_back(a[t][k]);
      else d.push_back(a[t][k] == batch && b[t][k] == other_batch ? "batch" : "?");
    }
    out.push_back(d);
  }
  return out;
}

BuiltCase make_model(OpKind op, Precision p, const ModelParts& m, const json& attrs, const std::string& act, bool symbolic_batch) {
  // The leading size that becomes "batch": input 0's, if it is a graph input of rank >= 2 and
  // every graph input of rank >= 2 has it (with different leading sizes, say broadcasting
  // [1,H,W,C] with [2,H,W,C], a backend could not tell a symbol's value at load).
  int64_t batch = -1;
  if (symbolic_batch && !m.tensors.empty() && m.graph_input[0] && m.tensors[0].shape.size() >= 2) batch = m.tensors[0].shape[0];
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (m.graph_input[i] && !m.omitted[i] && m.tensors[i].shape.size() >= 2 && m.tensors[i].shape[0] != batch) batch = -1;
  // Built twice: first with the outputs' shapes left to inference, then declared.
  auto build = [&](const std::vector<GraphBuilder::Dims>* declared) {
    GraphBuilder g;
    BuiltCase b;
    std::vector<std::string> ins, outs;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const NdArray& t = m.tensors[i];
      if (m.omitted[i]) {
        ins.emplace_back();
        continue;
      }
      if (m.graph_input[i]) {
        const std::string name = "x" + std::to_string(i);
        GraphBuilder::Dims dims(t.shape.begin(), t.shape.end());
        if (batch >= 0 && t.shape.size() >= 2 && t.shape[0] == batch) dims[0] = "batch";
        g.input(name, t.dtype, dims, m.quant[i]);
        b.inputs[name] = t;
        ins.push_back(name);
      } else {
        ins.push_back(g.constant("c" + std::to_string(i), t, m.quant[i]));
      }
    }
    while (!ins.empty() && ins.back().empty()) ins.pop_back();
    for (size_t j = 0, k = 0; j < m.out_dtype.size(); ++j) {
      if (m.out_omitted[j]) {
        outs.emplace_back();
        continue;
      }
      const std::string name = "y" + std::to_string(j);
      g.writer().add_tensor({name, m.out_dtype[j], declared ? (*declared)[k++] : GraphBuilder::Dims{}, m.out_quant[j], {}, false,
                             declared != nullptr});
      g.output(name);
      outs.push_back(name);
    }
    g.node(op_name(op), ins, outs, attrs, precision_name(p), activation_json(act), "node");
    b.model = g.build();
    return b;
  };
  const BuiltCase first = build(nullptr);
  const detail::ModelData& md = first.model->data();
  const int64_t other_batch = batch == 1 ? 2 : 1;
  std::vector<Shape> real, other;
  for (int t : md.inputs) {
    real.push_back(first.inputs.at(md.tensor(t).name).shape);
    other.push_back(real.back());
    if (!md.tensor(t).shape.empty() && md.tensor(t).shape[0] < 0) other.back()[0] = other_batch;
  }
  // Outputs whose shapes only a run knows (operands computed at run time) stay undeclared.
  for (int t : md.outputs)
    if (md.tensor(t).shape_at_run_time) return first;
  const std::vector<GraphBuilder::Dims> declared = output_dims(md, real, other, batch, other_batch);
  return build(&declared);
}

// The outputs of `b` on the reference backend, in node output order (omitted ones: empty).
std::vector<NdArray> reference_outputs(const BuiltCase& b, size_t outputs, const std::vector<bool>& omitted) {
  auto r = run(b.model, "reference", b.inputs);
  std::vector<NdArray> out(outputs);
  for (size_t j = 0; j < outputs; ++j)
    if (!omitted[j]) out[j] = r.at("y" + std::to_string(j));
  return out;
}
}  // namespace

const OpTester::Prepared& OpTester::prepare() const {
  // The data does not depend on the precision: one description checked at several precisions
  // derives it once. Output quantization is derived when a static int8 node needs it.
  if (!cache_) cache_ = std::make_shared<Prepared>(derive_data());
  const bool needs = precision_ == Precision::Int8Static || op_traits(op_).quant == QuantRole::Boundary;
  if (needs && !cache_->outputs_derived) derive_output_quant(*cache_);
  return *cache_;
}

// The node on real values (8-bit outputs as f32), on slots [0, count), with activation `act`;
// with `finite`, NaN and Inf inputs read as 0 (for statistics of the finite data). Attributes of
// int8_dynamic nodes only (input_quant) are left out.
BuiltCase OpTester::float_twin(const Prepared& p, size_t count, const std::string& act, bool finite) const {
  const bool boundary = op_traits(op_).quant == QuantRole::Boundary;
  ModelParts m;
  for (size_t i = 0; i < count; ++i) {
    m.tensors.push_back(boundary ? p.codes[i] : p.real[i]);
    if (finite && m.tensors.back().dtype == DataType::f32)
      for (int64_t k = 0; k < m.tensors.back().elements(); ++k)
        if (!std::isfinite(m.tensors.back().as<float>()[k])) m.tensors.back().as<float>()[k] = 0.f;
    m.quant.push_back(boundary ? p.quant[i] : QuantInfo{});
    m.graph_input.push_back(slots_[i]->graph_input());
    m.omitted.push_back(slots_[i]->kind == Slot::Kind::None);
  }
  for (const Out& o : outputs_) {
    m.out_dtype.push_back(is_8bit(o.dtype) ? DataType::f32 : o.dtype);
    m.out_quant.emplace_back();
    m.out_omitted.push_back(o.omitted);
  }
  json attrs = attrs_;
  attrs.erase("input_quant");
  return make_model(op_, Precision::Float, m, attrs, act, false);
}

OpTester::Prepared OpTester::derive_data() const {
  using Kind = Slot::Kind;
  const size_t n = slots_.size();
  Prepared p;
  p.codes.resize(n), p.real.resize(n), p.quant.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Slot& s = *slots_[i];
    const uint32_t seed = seed_ * 7919u + static_cast<uint32_t>(i) * 104729u;
    switch (s.kind) {
      case Kind::Codes:
        p.codes[i] = random_q8(s.q.dtype, s.shape, seed);
        p.quant[i] = per_tensor(s.q.scale, s.q.zero_point);
        break;
      case Kind::Floats: p.codes[i] = random_f32(s.shape, s.lo, s.hi, seed); break;
      case Kind::Data:
      case Kind::Constant:
        p.codes[i] = s.value;
        p.quant[i] = s.quant;
        break;
      case Kind::Weights: {
        NdArray w = random_q8(DataType::s8, s.shape, seed);
        for (auto& c : w.bytes) c = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(c) % (2 * s.w.max + 1) - s.w.max));
        if (s.w.poke) w.bytes[w.bytes.size() / 2] = static_cast<uint8_t>(static_cast<int8_t>(-s.w.poke));
        p.codes[i] = w;
        p.quant[i] = s.w.per_channel ? per_channel(random_floats(static_cast<size_t>(s.shape.at(0)), 0.5f, 1.5f, seed + 1), 0)
                                     : per_tensor(1.f, 0);
        break;
      }
      case Kind::Bias:
      case Kind::None: break;
    }
    p.real[i] = dequantized(p.codes[i], p.quant[i]);
  }

  // Weight scales: the node's linear part (inputs up to the weights, no activation) gets real
  // values of standard deviation 3 about each output channel's mean (channels: the last axis).
  // A bias then cancels that mean, as trained networks' biases (and folded batch norms) centre
  // their outputs: with X's zero point at an extreme the mean alone would otherwise saturate a
  // bounded activation.
  size_t tuned = n;
  for (size_t i = 0; i < n; ++i)
    if (slots_[i]->kind == Kind::Weights || slots_[i]->scaled) tuned = i;
  std::vector<double> channel_mean;   // of the linear part, after scaling
  if (tuned < n) {
    std::vector<bool> omitted(outputs_.size(), true);
    omitted[0] = false;
    const NdArray y = reference_outputs(float_twin(p, tuned + 1, "", /*finite=*/true), outputs_.size(), omitted)[0];
    const int64_t channels = y.shape.empty() ? 1 : std::max<int64_t>(1, y.shape.back());
    // Over the finite values (a NaN in X makes its row NaN).
    channel_mean.assign(static_cast<size_t>(channels), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(channels), 0);
    for (int64_t k = 0; k < y.elements(); ++k)
      if (std::isfinite(y.as<float>()[k])) channel_mean[k % channels] += y.as<float>()[k], ++count[k % channels];
    // Means from fewer than 4 rows (one-row products) are the values themselves: there the
    // spread about 0 is what gets scaled, and the bias is not centred.
    const bool centre = *std::min_element(count.begin(), count.end()) >= 4;
    for (int64_t c = 0; c < channels; ++c) channel_mean[c] = centre ? channel_mean[c] / count[c] : 0.0;
    double ss = 0;
    int64_t finite = 0;
    for (int64_t k = 0; k < y.elements(); ++k) {
      if (!std::isfinite(y.as<float>()[k])) continue;
      const double d = y.as<float>()[k] - channel_mean[k % channels];
      ss += d * d, ++finite;
    }
    const double sd = std::sqrt(ss / std::max<int64_t>(1, finite));
    if (!(sd > 0) || !std::isfinite(sd))
      throw Error("OpTester(" + std::string(op_name(op_)) + "): the node's linear part is constant; cannot derive the weight scales");
    for (float& s : p.quant[tuned].scale) s = static_cast<float>(s * 3.0 / sd);
    for (double& m : channel_mean) m *= 3.0 / sd;
    p.real[tuned] = dequantized(p.codes[tuned], p.quant[tuned]);
  }
  // Biases: minus the channel's mean plus U(-1.5, 1.5), in units of s_x * s_w[c] of the weights
  // before them.
  for (size_t i = 0; i < n; ++i) {
    if (slots_[i]->kind != Kind::Bias) continue;
    size_t w = i;
    while (w-- > 0 && slots_[w]->kind != Kind::Weights) {}
    if (w >= i) throw Error("OpTester: bias() needs weights() before it");
    const int64_t channels = slots_[w]->shape.at(0);
    const float sx = p.quant[0].empty() ? 1.f : p.quant[0].scale[0];
    const auto offset = random_floats(static_cast<size_t>(channels), -1.5f, 1.5f, seed_ * 31u + static_cast<uint32_t>(i));
    std::vector<int32_t> codes(static_cast<size_t>(channels));
    std::vector<float> real(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      const double want = offset[c] - (channel_mean.size() == static_cast<size_t>(channels) ? channel_mean[c] : 0.0);
      const double unit = double(sx) * p.quant[w].scale[p.quant[w].scale.size() > 1 ? static_cast<size_t>(c) : 0];
      codes[c] = static_cast<int32_t>(std::lround(want / unit));
      // Without a static int8 X the bias is plain float.
      real[c] = static_cast<float>(p.quant[0].empty() ? want : codes[c] * unit);
    }
    p.codes[i] = NdArray::of(DataType::s32, {channels}, codes);
    p.real[i] = NdArray::of(DataType::f32, {channels}, real);
  }

  return p;
}

// An 8-bit output's quantization: given, its input's (ops that move codes), or covering the
// float twin's result.
void OpTester::derive_output_quant(Prepared& p) const {
  const bool boundary = op_traits(op_).quant == QuantRole::Boundary;
  p.out_quant.resize(outputs_.size());
  std::vector<NdArray>& twin_out = p.float_outputs;
  for (size_t j = 0; j < outputs_.size(); ++j) {
    const Out& o = outputs_[j];
    if (o.omitted || !is_8bit(o.dtype)) continue;
    if (o.has_quant) {
      p.out_quant[j] = o.quant;
    } else if (op_traits(op_).quant == QuantRole::Keep) {
      if (p.quant.empty() || p.quant[0].empty()) throw Error("OpTester: an op that keeps its input's quantization needs an 8-bit input 0");
      p.out_quant[j] = p.quant[0];
    } else if (boundary) {
      throw Error("OpTester: give " + std::string(op_name(op_)) + "'s 8-bit output its quantization");
    } else {
      if (twin_out.empty()) {
        std::vector<bool> omitted;
        for (const Out& oo : outputs_) omitted.push_back(oo.omitted);
        twin_out = reference_outputs(float_twin(p, slots_.size(), activation_, /*finite=*/false), outputs_.size(), omitted);
      }
      double lo = INFINITY, hi = -INFINITY;
      for (int64_t k = 0; k < twin_out[j].elements(); ++k) {
        const double v = twin_out[j].as<float>()[k];
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      }
      if (!(hi > lo)) lo = std::min(lo, -1.0), hi = std::max(hi, 1.0);   // constant or empty: any range will do
      p.out_quant[j] = covering(o.dtype, lo, hi);
    }
  }
  p.outputs_derived = true;
}

BuiltCase OpTester::build() const {
  using Kind = Slot::Kind;
  if (outputs_.empty()) throw Error("OpTester(" + std::string(op_name(op_)) + "): no output()");
  const Prepared& p = prepare();
  const bool boundary = op_traits(op_).quant == QuantRole::Boundary;
  ModelParts m;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = *slots_[i];
    // Which form the node holds: static int8 everything as codes; float the real values;
    // dynamic int8 weights as codes, activations and bias as real values. Data, constants and
    // the quantize/dequantize ops keep exactly what was given.
    bool as_codes = precision_ == Precision::Int8Static || boundary || s.kind == Kind::Data || s.kind == Kind::Constant ||
                    (precision_ == Precision::Int8Dynamic && s.kind == Kind::Weights);
    m.tensors.push_back(as_codes ? p.codes[i] : p.real[i]);
    m.quant.push_back(as_codes && s.kind != Kind::Bias ? p.quant[i] : QuantInfo{});
    m.graph_input.push_back(s.graph_input());
    m.omitted.push_back(s.kind == Kind::None);
  }
  for (size_t j = 0; j < outputs_.size(); ++j) {
    const Out& o = outputs_[j];
    const bool keep8 = precision_ == Precision::Int8Static || boundary;
    m.out_dtype.push_back(is_8bit(o.dtype) && !keep8 ? DataType::f32 : o.dtype);
    m.out_quant.push_back(is_8bit(o.dtype) && keep8 ? p.out_quant[j] : (o.has_quant && !is_8bit(o.dtype) ? o.quant : QuantInfo{}));
    m.out_omitted.push_back(o.omitted);
  }
  return make_model(op_, precision_, m, attrs_, activation_, symbolic_batch_);
}

// ---- running and comparing -------------------------------------------------------------------

namespace {
std::vector<NdArray> session_outputs(const Session& s, const std::shared_ptr<const Model>& model) {
  std::vector<NdArray> out;
  for (const auto& info : model->outputs()) out.push_back(NdArray::copy_of(s.output(info.name)));
  return out;
}
}  // namespace

OpResult OpTester::check() const {
  INFO(std::string(op_name(op_)) << " " << precision_tag(precision_) << " " << label_);
  OpResult res;
  BuiltCase b;
  try {
    b = build();
  } catch (const Error& e) {
    FAIL_CHECK("building the case failed: " << std::string(e.what()));
    return res;
  }
  res.model = b.model, res.inputs = b.inputs;
  const std::string act = b.model->data().nodes.at(0).activation.name();
  // A Float node is its own float twin (prepare()) unless it holds 8-bit data as given.
  bool twin = precision_ == Precision::Float && op_traits(op_).quant != QuantRole::Boundary;
  for (const auto& slot : slots_)
    twin = twin && !((slot->kind == Slot::Kind::Data || slot->kind == Slot::Kind::Constant) && is_8bit(slot->value.dtype));
  if (twin && !cache_->float_outputs.empty()) {
    for (size_t j = 0; j < outputs_.size(); ++j)
      if (!outputs_[j].omitted) res.reference.push_back(cache_->float_outputs[j]);
  } else {
    Session ref(b.model, {1, "reference"});
    for (const auto& [name, v] : b.inputs) ref.set_input(name, v.view());
    ref.run();
    res.reference = session_outputs(ref, b.model);
    if (twin) {
      cache_->float_outputs.assign(outputs_.size(), NdArray{});
      for (size_t j = 0, k = 0; j < outputs_.size(); ++j)
        if (!outputs_[j].omitted) cache_->float_outputs[j] = res.reference[k++];
    }
  }
  if (!narrow_ok_)
    for (size_t j = 0; j < res.reference.size(); ++j) check_not_trivial(res.reference[j], "output " + std::to_string(j));

  for (const std::string& backend : optimized_backends()) {
    BackendRun r;
    r.backend = backend;
    const Requirement* req = nullptr;
    for (const auto& q : required_)
      if (q.backend == backend) req = &q;
    SessionOptions o;
    o.backend = backend;
    Session s(b.model, o);
    for (const auto& [name, v] : b.inputs) s.set_input(name, v.view());
    s.run();
    r.outputs = session_outputs(s, b.model);
    s.run();   // the same inputs again: kernels must not depend on state left by the first run
    const std::vector<NdArray> again = session_outputs(s, b.model);
    const DispatchEntry& d = s.dispatch().at(0);
    r.impl = d.impl, r.detail = d.detail, r.note = d.note;
    r.ran = d.backend != "reference";
    if (!r.ran) {
      bool excused = false;
      if (req)
        for (size_t from = 0; !req->except_when.empty() && from <= req->except_when.size();) {
          const size_t bar = std::min(req->except_when.find('|', from), req->except_when.size());
          const std::string alt = req->except_when.substr(from, bar - from);
          excused = excused || (!alt.empty() && d.note.find(alt) != std::string::npos);
          from = bar + 1;
        }
      if (req && !excused)
        FAIL_CHECK(backend << " must run this case itself but took " << d.impl << ": " << d.note);
      else
        MESSAGE("SKIPPED " << backend << " (" << std::string(op_name(op_)) << " " << precision_tag(precision_) << " " << label_
                           << "): " << d.note);
      res.runs.push_back(std::move(r));
      continue;
    }
    if (req && !req->impl.empty())
      CHECK_MESSAGE(d.impl.find(req->impl) != std::string::npos, backend << " ran " << d.impl << ", expected " << req->impl);
    for (size_t j = 0; j < r.outputs.size(); ++j) {
      const std::string what = "output " + std::to_string(j) + " on " + backend;
      CHECK_MESSAGE(r.outputs[j].bytes == again[j].bytes,
                    what << ": a second run of the same session gave other results (" << d.impl << ")");
      const double diff = check_within_tolerance(op_, d.impl, act, r.outputs[j], res.reference[j], what);
      if (is_integer(r.outputs[j].dtype)) r.max_lsb = std::max(r.max_lsb, static_cast<int64_t>(diff));
      else r.max_rel = std::max(r.max_rel, diff);
    }
    if (threads_ > 1) {
      o.threads = threads_;
      Session t(b.model, o);
      for (const auto& [name, v] : b.inputs) t.set_input(name, v.view());
      t.run();
      const std::vector<NdArray> many = session_outputs(t, b.model);
      const std::string impl_n = t.dispatch().at(0).impl;
      for (size_t j = 0; j < many.size(); ++j) {
        const std::string what = "output " + std::to_string(j) + " on " + backend + " with " + std::to_string(threads_) + " threads";
        if (impl_n == d.impl && is_integer(many[j].dtype))
          CHECK_MESSAGE(many[j].bytes == r.outputs[j].bytes, what << " differs from 1 thread (" << d.impl << ")");
        else
          check_within_tolerance(op_, impl_n, act, many[j], res.reference[j], what);
      }
    }
    res.runs.push_back(std::move(r));
  }
  return res;
}

}  // namespace octet::test
