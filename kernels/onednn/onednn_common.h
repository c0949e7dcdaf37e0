// Shared pieces of the oneDNN backend: the process-wide engine, dims/memory helpers, the
// post-op chains that reproduce octet's static int8 arithmetic, and a base kernel that caches
// one set of primitives per input shape (created once, reused whenever that shape returns).
//
// The int8 mapping (docs/format.md):  acc  = sum((x - zp_x) w) + bias_s32
//                                     real = acc s_x s_w[c] (+ s_r (r - zp_r))
//                                     y    = sat(round_half_even(act(real) / s_y + zp_y))
// oneDNN 2.x adds an s32 bias to the accumulator before the output scales (checked by the tests),
// so output scales s_x s_w[c] give `real`; the residual is a sum post-op (scale s_r, zero point
// zp_r); the activation is an eltwise post-op; `/ s_y + zp_y` is a final linear post-op. When the
// activation commutes with a positive scale (none, ReLU, LeakyReLU, Clip), 1/s_y is folded into
// the output scales, the sum scale and the clip bounds instead.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "aligned_buffer.h"
#include "backend/backend.h"

namespace octet::onednn {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// One CPU engine for the process (oneDNN engines are thread-safe and cheap to share).
const dnnl::engine& engine();

bool has_dnnl_type(DataType t);       // f32, u8, s8, s32
dt to_dnnl(DataType t);               // throws for other types
dnnl::memory::dims to_dims(const Shape& s);
// Plain row-major descriptor of any rank (dims may be 0 only where oneDNN allows it).
dnnl::memory::desc plain_desc(const Shape& s, DataType t);

// Sets omp_set_num_threads(n) for the lifetime of the guard: oneDNN fixes its thread count when
// a primitive is created, so creation must see the session's thread count.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_ = 0;
};

// --- activations and the quantization tail -------------------------------------------------

// Whether oneDNN can express `a` as eltwise post-ops (everything octet fuses today can).
bool activation_supported(const Activation& a, std::string* why);

// Float post-ops: the residual (sum, scale 1) and the activation.
dnnl::post_ops float_chain(const Activation& act, bool residual);

// A residual accumulated by a sum post-op: real += scale * (r - zero_point), r read as `type`.
struct SumSpec {
  float scale;
  int32_t zero_point;
  dt type;
};

// Post-ops bringing a primitive's output v to the output codes
//     y = sat(round_half_even(act(real) / s_y + zp_y)),   real = v / factor + offset (+ residual)
// The caller multiplies its output (or source) scales by `factor`. With an activation that
// commutes with positive scaling (none, ReLU, LeakyReLU, Clip, HardSigmoid via its alpha) the
// factor folds 1/s_y in and offsets become shifted clip bounds; otherwise factor = 1 and the
// chain ends with linear(1/s_y, zp_y). Every chain uses each eltwise algorithm at most once:
// oneDNN 2.6's jit kernels key eltwise injectors by algorithm, so a second eltwise_linear in one
// chain silently runs with the first one's alpha and beta (fixed later upstream).
struct QuantChain {
  float factor = 1.f;
  dnnl::post_ops po;
  // When an offset must be added before a non-shiftable activation: a binary post-op at
  // `pre_add_index` adds the f32 scalar `pre_add`, bound by the caller.
  int pre_add_index = -1;
  float pre_add = 0.f;
  std::string unsupported;   // non-empty when the chain cannot be expressed
};
// round_first (products: Conv, FullyConnected, MatMul, quant/requant.h): with a clamp activation
// the value is rounded half to even before the zero point is added, as the reference does.
QuantChain quant_chain(const Activation& act, float s_y, int32_t zp_y, float offset, const SumSpec* sum, int dst_rank,
                       bool round_first = false);

// The output scales of a static int8 product (Conv, ConvTranspose, FullyConnected): s_x s_w[c]
// factor, one per output channel (mask 1 << 1) when the weights have one scale per channel,
// else one for all.
void set_product_output_scales(dnnl::primitive_attr& attr, float s_x, const QuantInfo& w, float factor);

// octet's convolution weights [O, KH, KW, C/group] as oneDNN's (de)convolution weights:
// {O, C/g, KH, KW} in ohwi order, or {g, O/g, C/g, KH, KW} in gohwi order for several groups.
dnnl::memory::desc conv_weights_desc(const Shape& w, int64_t group, dt type);

// --- int8 exactness without VNNI ------------------------------------------------------------

// oneDNN's int8 kernels on ISAs without VNNI (AVX2; AVX-512 before DL Boost) multiply u8 x s8 with
// vpmaddubsw, which adds two adjacent products into an int16 and saturates: with u8 codes up to
// 255, weight pairs with |a| + |b| > 128 can overflow (255 * 254 = 64770 > 32767), and results
// then differ from the reference by dozens of LSB (75 observed). Weights within [-64, 64] never
// saturate (255 * 128 = 32640), which is what the converter writes by default (--weight-bits 7).
// We check max |w| rather than oneDNN's actual pairing (which depends on its blocked layout): it
// is exact for what the converter writes and conservative for anything else.
constexpr int kSafeWeightMax = 64;

// Whether oneDNN's effective ISA has VNNI (vpdpbusd: exact 32-bit accumulation of u8 x s8).
bool isa_has_vnni();

// Empty when oneDNN computes int8 products with these s8 weights exactly on this machine;
// otherwise the reason to refuse (weights beyond [-64, 64], or not constant, without VNNI).
// Depthwise convolutions are exact with any s8 weights (measured on AVX2: 0 codes off over
// full-range sweeps; their kernel does not add u8 x s8 pairs in s16) and are not checked.
std::string int8_weights_unsafe(const TensorDef& w);

// Constant weights given by the model in `user` layout, reordered once into each layout a
// primitive asks for (the s8 compensation oneDNN needs is computed by that reorder).
class PackedWeights {
 public:
  PackedWeights(const dnnl::memory::desc& user, const void* data) : user_md_(user), data_(const_cast<void*>(data)) {}
  dnnl::memory get(const dnnl::memory::desc& md, dnnl::stream& s);
  const dnnl::memory::desc& user_desc() const { return user_md_; }

 private:
  dnnl::memory::desc user_md_;
  void* data_;
  std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> packed_;
};

// --- the cached-primitive kernel ---------------------------------------------------------

// One executable configuration: a primitive and its arguments. Memory objects for activations
// carry no data (DNNL_MEMORY_NONE) until run() points them at this run's tensors.
struct Prim {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  std::string impl;
  size_t scratchpad = 0;
  size_t src_offset = 0;   // bytes from the input's data to where the primitive reads (Slice)
  // oneDNN has no (fast) implementation for these shapes: the kernel declines them (the session
  // runs the node's next implementation, in the end the reference kernel).
  bool declined = false;
  std::string why;
};

// p's scratchpad argument as its descriptor sizes it (run() binds the kernel's buffer to it).
void add_scratchpad(Prim& p, const dnnl::memory::desc& scratchpad);

std::vector<int64_t> shape_key(const KernelArgs& a);
std::vector<int64_t> shape_key(const std::vector<Shape>& inputs);

// "ref:any", "ref_int8:any", ... : oneDNN's naive reference implementations.
bool is_ref_impl(const std::string& impl);

// Base for every oneDNN kernel. Subclasses build a Prim for a set of input shapes (build) and
// point its memories at the tensors of a run (bind). The cache holds one Prim per distinct
// input-shape set, so a batch change creates primitives once and switching back reuses them;
// shapes oneDNN has no fast implementation for are declined (and remembered as such).
class CachedKernel : public Kernel {
 public:
  explicit CachedKernel(const KernelContext& ctx);
  Support reshape(const KernelArgs& args) override;
  void run(const KernelArgs& args) override;
  std::string detail() const override;

 protected:
  // Builds the primitive for these input shapes (outputs are inferred by the caller's spec).
  // Throws dnnl::error or returns a Prim with declined = true to decline these shapes.
  virtual Prim build(const std::vector<Shape>& in, const std::vector<Shape>& out) = 0;
  // Sets the data handles of p's memories for this run (inputs, outputs). Default: none.
  virtual void bind(Prim& p, const KernelArgs& args) = 0;
  // Called before execute (e.g. copy a residual into the output).
  virtual void before(const KernelArgs& args) { (void)args; }
  // Builds the entry for the node's declared shapes (symbols taken as 1; representative_shapes)
  // at create time, so the primitive and packed weights exist before the first run and detail()
  // names it. Nothing when the shapes are not all known.
  void prepare(const KernelContext& ctx);
  // The same for given shapes; `in` empty: nothing.
  void prepare(const std::vector<Shape>& in, const std::vector<Shape>& out);
  Prim& current() { return *current_; }

  const NodeDef& node_;
  const int threads_;
  dnnl::stream stream_;

 private:
  Prim* lookup_or_build(const std::vector<Shape>& in, const std::vector<Shape>& out);
  std::vector<std::pair<std::vector<int64_t>, std::unique_ptr<Prim>>> cache_;
  Prim* current_ = nullptr;
  AlignedBuffer scratch_{"oneDNN scratchpad"};
};

// The node's declared input and output shapes with a symbolic batch (dimension 0) taken as 1, as
// the loader validated them. False when another dimension is symbolic (then nothing is built
// before the first run: guessing spatial sizes would only create primitives nobody uses).
bool representative_shapes(const KernelContext& ctx, std::vector<Shape>* in, std::vector<Shape>* out);

// Support check by building a primitive descriptor for the representative shapes: refuses when
// oneDNN cannot create it or would run its reference implementation. `make_impl` returns the
// descriptor's impl_info_str(). Yes when the shapes are not known until run time.
Support probe(const KernelContext& ctx, const char* what,
              const std::function<std::string(const std::vector<Shape>& in, const std::vector<Shape>& out)>& make_impl);

}  // namespace octet::onednn
