#include "onednn/onednn_common.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ops/op_spec.h"

namespace octet::onednn {

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

bool has_dnnl_type(DataType t) {
  return t == DataType::f32 || t == DataType::u8 || t == DataType::s8 || t == DataType::s32;
}

dt to_dnnl(DataType t) {
  switch (t) {
    case DataType::f32: return dt::f32;
    case DataType::u8: return dt::u8;
    case DataType::s8: return dt::s8;
    case DataType::s32: return dt::s32;
    default: throw Error(std::string("oneDNN has no data type for ") + dtype_name(t));
  }
}

dnnl::memory::dims to_dims(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

dnnl::memory::desc plain_desc(const Shape& s, DataType t) {
  dnnl::memory::dims strides(s.size());
  int64_t stride = 1;
  for (size_t i = s.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(s[i], 1);
  }
  return dnnl::memory::desc(to_dims(s), to_dnnl(t), strides);
}

ThreadScope::ThreadScope(int threads) {
#ifdef _OPENMP
  saved_ = omp_get_max_threads();
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}
ThreadScope::~ThreadScope() {
#ifdef _OPENMP
  omp_set_num_threads(saved_);
#endif
}

void set_product_output_scales(dnnl::primitive_attr& attr, float s_x, const QuantInfo& w, float factor) {
  if (w.axis == 0 && w.scale.size() > 1) {
    std::vector<float> scales(w.scale.size());
    for (size_t c = 0; c < scales.size(); ++c) scales[c] = s_x * w.scale[c] * factor;
    attr.set_output_scales(1 << 1, scales);
  } else {
    attr.set_output_scales(0, {s_x * w.scale[0] * factor});
  }
}

dnnl::memory::desc conv_weights_desc(const Shape& w, int64_t group, dt type) {
  const int64_t O = w[0], KH = w[1], KW = w[2], Cg = w[3];
  if (group == 1) return dnnl::memory::desc({O, Cg, KH, KW}, type, tag::ohwi);
  return dnnl::memory::desc({group, O / group, Cg, KH, KW}, type, tag::gohwi);
}

// ---- int8 exactness without VNNI ------------------------------------------------------------

bool isa_has_vnni() {
  using isa = dnnl::cpu_isa;
  const isa i = dnnl::get_effective_cpu_isa();   // honours ONEDNN_MAX_CPU_ISA
  return i == isa::avx512_core_vnni || i == isa::avx512_core_bf16 || i == isa::avx512_core_amx || i == isa::avx2_vnni;
}

std::string int8_weights_unsafe(const TensorDef& w) {
  if (isa_has_vnni()) return "";
  if (!w.is_constant())
    return "int8 weights that change at run time may exceed the 7-bit range that oneDNN's AVX2 (non-VNNI) kernels "
           "compute exactly";
  const int8_t* p = reinterpret_cast<const int8_t*>(w.data);
  int amax = 0;
  for (size_t i = 0; i < w.data_bytes; ++i) amax = std::max(amax, std::abs(static_cast<int>(p[i])));
  if (amax <= kSafeWeightMax) return "";
  return "int8 weights exceed the 7-bit range that oneDNN's AVX2 (non-VNNI) kernels compute exactly (max |w| = " +
         std::to_string(amax) + " > " + std::to_string(kSafeWeightMax) + "); reconvert with --weight-bits 7";
}

// ---- activations --------------------------------------------------------------------------

bool activation_supported(const Activation& a, std::string* why) {
  switch (a.kind) {
    case ActKind::None: case ActKind::Relu: case ActKind::Clip: case ActKind::LeakyRelu: case ActKind::HardSwish:
    case ActKind::HardSigmoid: case ActKind::Sigmoid: case ActKind::Tanh: case ActKind::Gelu:
      return true;
  }
  if (why) *why = std::string("fused activation ") + a.name() + " has no oneDNN eltwise form";
  return false;
}

namespace {
// Appends eltwise post-ops, refusing a repeated algorithm (see QuantChain).
struct EltwiseAppender {
  dnnl::post_ops& po;
  std::string& unsupported;
  std::vector<dnnl::algorithm> used;
  void operator()(dnnl::algorithm alg, float alpha, float beta, float scale = 1.f) {
    for (auto a : used)
      if (a == alg) unsupported = "post-op chain would repeat an eltwise algorithm (wrong results in oneDNN 2.6)";
    used.push_back(alg);
    po.append_eltwise(scale, alg, alpha, beta);
  }
};

void append_float_activation(EltwiseAppender& elt, const Activation& a) {
  using alg = dnnl::algorithm;
  switch (a.kind) {
    case ActKind::None: break;
    case ActKind::Relu: elt(alg::eltwise_relu, 0.f, 0.f); break;
    case ActKind::LeakyRelu: elt(alg::eltwise_relu, a.alpha, 0.f); break;   // x > 0 ? x : alpha x
    case ActKind::Clip: elt(alg::eltwise_clip, a.alpha, a.beta); break;
    case ActKind::HardSwish: elt(alg::eltwise_hardswish, 0.f, 0.f); break;   // x relu6(x + 3) / 6
    case ActKind::HardSigmoid:   // no direct algorithm in oneDNN 2.6: clip(alpha x + beta, 0, 1)
      elt(alg::eltwise_linear, a.alpha, a.beta);
      elt(alg::eltwise_clip, 0.f, 1.f);
      break;
    case ActKind::Sigmoid: elt(alg::eltwise_logistic, 0.f, 0.f); break;
    case ActKind::Tanh: elt(alg::eltwise_tanh, 0.f, 0.f); break;
    case ActKind::Gelu: elt(alg::eltwise_gelu_erf, 0.f, 0.f); break;
  }
}
}  // namespace

dnnl::post_ops float_chain(const Activation& act, bool residual) {
  dnnl::post_ops po;
  std::string unsupported;
  EltwiseAppender elt{po, unsupported, {}};
  if (residual) po.append_sum(1.f);
  append_float_activation(elt, act);
  if (!unsupported.empty()) throw Error("internal: " + unsupported);
  return po;
}

QuantChain quant_chain(const Activation& act, float s_y, int32_t zp_y, float offset, const SumSpec* sum, int dst_rank,
                       bool round_first) {
  using alg = dnnl::algorithm;
  QuantChain q;
  EltwiseAppender elt{q.po, q.unsupported, {}};
  const float inv = 1.f / s_y;   // as quant.h: division by the float reciprocal
  const float zp = static_cast<float>(zp_y);
  const float inf = std::numeric_limits<float>::infinity();
  // Everything after the factor is known; the sum post-op must come first.
  auto start = [&](float factor) {
    q.factor = factor;
    if (sum) q.po.append_sum(sum->scale * factor, sum->zero_point, sum->type);
  };
  auto tail = [&](float alpha, float beta) {
    if (alpha != 1.f || beta != 0.f) elt(alg::eltwise_linear, alpha, beta);
  };
  // Products round in output units before the zero point is added (quant/requant.h).
  auto round = [&]() {
    if (round_first && offset == 0.f) elt(alg::eltwise_round, 0.f, 0.f);
  };
  auto pre_add = [&](float value) {
    if (value == 0.f) return;
    q.po.append_binary(alg::binary_add, plain_desc(Shape(static_cast<size_t>(std::max(dst_rank, 1)), 1), DataType::f32));
    q.pre_add_index = q.po.len() - 1;
    q.pre_add = value;
  };
  switch (act.kind) {
    case ActKind::None: {   // y = v + offset / s_y + zp
      start(inv);
      round();
      tail(1.f, offset * inv + zp);
      break;
    }
    case ActKind::Relu: {   // relu(v + d) = max(v, -d) + d
      start(inv);
      const float d = offset * inv;
      if (d == 0.f) elt(alg::eltwise_relu, 0.f, 0.f);
      else elt(alg::eltwise_clip, -d, inf);
      round();
      tail(1.f, d + zp);
      break;
    }
    case ActKind::Clip: {   // clip(v + d, lo k, hi k) = clip(v, lo k - d, hi k - d) + d
      start(inv);
      const float d = offset * inv;
      elt(alg::eltwise_clip, act.alpha * inv - d, act.beta * inv - d);
      round();
      tail(1.f, d + zp);
      break;
    }
    case ActKind::HardSigmoid: {
      // clip(alpha real + beta, 0, 1) / s_y with v = real alpha / s_y:
      //   = clip(v + d, 0, 1/s_y) = clip(v, -d, 1/s_y - d) + d,  d = (alpha offset + beta) / s_y
      if (!(act.alpha > 0)) {
        q.unsupported = "HardSigmoid with alpha <= 0";
        break;
      }
      start(act.alpha * inv);
      const float d = (act.alpha * offset + act.beta) * inv;
      elt(alg::eltwise_clip, -d, inv - d);
      tail(1.f, d + zp);
      break;
    }
    case ActKind::LeakyRelu: {   // leaky(v + d): the offset must be added first
      start(inv);
      pre_add(offset * inv);
      elt(alg::eltwise_relu, act.alpha, 0.f);
      tail(1.f, zp);
      break;
    }
    case ActKind::HardSwish: case ActKind::Sigmoid: case ActKind::Tanh: case ActKind::Gelu: {
      start(1.f);   // the activation needs real values
      pre_add(offset);
      append_float_activation(elt, act);
      tail(inv, zp);
      break;
    }
  }
  return q;
}

// ---- packed weights ---------------------------------------------------------------------

dnnl::memory PackedWeights::get(const dnnl::memory::desc& md, dnnl::stream& s) {
  for (auto& [d, m] : packed_)
    if (d == md) return m;
  dnnl::memory user(user_md_, engine(), data_);
  dnnl::memory packed(md, engine());
  dnnl::reorder(user, packed).execute(s, user, packed);
  s.wait();
  packed_.emplace_back(md, packed);
  return packed;
}

// ---- cached kernels -----------------------------------------------------------------------

std::vector<int64_t> shape_key(const std::vector<Shape>& inputs) {
  std::vector<int64_t> k;
  for (const Shape& s : inputs) {
    k.push_back(static_cast<int64_t>(s.size()));
    k.insert(k.end(), s.begin(), s.end());
  }
  return k;
}

std::vector<int64_t> shape_key(const KernelArgs& a) {
  std::vector<Shape> in;
  for (const Tensor* t : a.in) in.push_back(t ? t->shape : Shape{-1});
  return shape_key(in);
}

bool is_ref_impl(const std::string& impl) { return impl.rfind("ref", 0) == 0; }

bool representative_shapes(const KernelContext& ctx, std::vector<Shape>* in, std::vector<Shape>* out) {
  in->clear();
  out->clear();
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    if (!ctx.has_input(i)) {
      in->push_back({-1});
      continue;
    }
    Shape s = ctx.input(i).shape;
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] >= 0) continue;
      if (d != 0) return false;
      s[d] = 1;
    }
    in->push_back(std::move(s));
  }
  InferCtx ic{ctx.node, ctx.model, {}, {}};
  for (const Shape& s : *in) ic.in.push_back(s.size() == 1 && s[0] < 0 ? nullptr : &s);
  try {
    op_spec(ctx.node.op).infer(ic);
  } catch (const Error&) {
    return false;
  }
  *out = std::move(ic.out);
  for (const Shape& s : *out)
    if (shape_elements(s) <= 0) return false;
  return true;
}

Support probe(const KernelContext& ctx, const char* what,
              const std::function<std::string(const std::vector<Shape>& in, const std::vector<Shape>& out)>& make_impl) {
  std::vector<Shape> in, out;
  if (!representative_shapes(ctx, &in, &out)) return Support::yes();
  std::string impl;
  try {
    ThreadScope threads(ctx.threads);
    impl = make_impl(in, out);
  } catch (const dnnl::error& e) {
    return Support::no(std::string("oneDNN cannot create this ") + what + " (" + e.what() + ")");
  }
  if (is_ref_impl(impl)) return Support::no(std::string("oneDNN has only its reference implementation (") + impl + ") for this " + what);
  return Support::yes();
}

CachedKernel::CachedKernel(const KernelContext& ctx) : node_(ctx.node), threads_(ctx.threads), stream_(engine()) {}

Prim* CachedKernel::lookup_or_build(const std::vector<Shape>& in, const std::vector<Shape>& out) {
  std::vector<int64_t> key = shape_key(in);
  for (auto& [k, p] : cache_)
    if (k == key) return p.get();
  auto p = std::make_unique<Prim>();
  {
    ThreadScope threads(threads_);
    try {
      *p = build(in, out);
    } catch (const dnnl::error& e) {
      p->declined = true;
      p->why = std::string("oneDNN: ") + e.what();
    }
  }
  if (!p->declined && is_ref_impl(p->impl)) {
    // Never run oneDNN's naive reference code on the hot path: octet's reference kernel defines
    // the semantics and is no slower.
    p->declined = true;
    p->why = "oneDNN offers only " + p->impl + " for these shapes";
  }
  if (p->declined) {
    p->prim = dnnl::primitive();
    p->args.clear();
  }
  scratch_.reserve(p->scratchpad);
  cache_.emplace_back(std::move(key), std::move(p));
  return cache_.back().second.get();
}

void add_scratchpad(Prim& p, const dnnl::memory::desc& scratchpad) {
  p.scratchpad = scratchpad.get_size();
  if (p.scratchpad) p.args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(scratchpad, engine(), DNNL_MEMORY_NONE);
}

void CachedKernel::prepare(const KernelContext& ctx) {
  std::vector<Shape> in, out;
  if (representative_shapes(ctx, &in, &out)) prepare(in, out);
}

void CachedKernel::prepare(const std::vector<Shape>& in, const std::vector<Shape>& out) {
  if (in.empty()) return;
  current_ = lookup_or_build(in, out);
}

Support CachedKernel::reshape(const KernelArgs& args) {
  std::vector<Shape> in, out;
  for (const Tensor* t : args.in) in.push_back(t ? t->shape : Shape{-1});
  for (const Tensor* t : args.out) out.push_back(t ? t->shape : Shape{-1});
  current_ = lookup_or_build(in, out);
  return current_->declined ? Support::no(current_->why) : Support::yes();
}

void CachedKernel::run(const KernelArgs& args) {
  Prim& p = *current_;   // reshape() accepted these shapes
  if (!p.prim) return;   // nothing to compute (empty output)
  before(args);
  bind(p, args);
  if (p.scratchpad) p.args[DNNL_ARG_SCRATCHPAD].set_data_handle(scratch_.data());
  p.prim.execute(stream_, p.args);
  stream_.wait();
}

std::string CachedKernel::detail() const {
  if (current_ && !current_->declined) return current_->impl;
  return "";
}

}  // namespace octet::onednn
