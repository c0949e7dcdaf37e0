// Shared pieces of the XNNPACK backend (XNNPACK git 2022-02, operator API).
//
// Life cycle: an XNNPACK operator is created once per kernel (weights packed then); every run
// only calls xnn_setup_* (which takes the batch and spatial size, so a shape change needs no
// new operator: setup rebuilds the indirection buffers itself) and xnn_run_operator.
//
// Signedness. XNNPACK's per-channel int8 convolution (qc8) and most qs8 ops take s8 codes; octet
// activations may be u8 or s8 with any zero point. A u8 code c and the s8 code c ^ 0x80 = c - 128
// encode the same real value when the zero point moves by 128 too:
//     s (c - zp) = s ((c - 128) - (zp - 128)),
// so a u8 tensor is fed to an s8 operator by flipping its top bit into a scratch buffer (exact,
// one pass over the bytes), and an s8 result is turned into u8 codes by flipping in place.
#pragma once

#include <xnnpack.h>
#include <pthreadpool.h>

#include <cstdint>
#include <memory>
#include <string>

#include "aligned_buffer.h"
#include "backend/backend.h"

namespace octet::xnn {

// xnn_initialize once per process (thread-safe): whether XNNPACK can run on this CPU, and why not.
Support initialize();

const char* status_name(xnn_status s);
// Throws node_error "<what> failed: <status>" unless s is success.
void check(xnn_status s, const NodeDef& node, const char* what);

// One pthreadpool per session (the session's XnnpackBackend owns it), shared by the kernels of
// that session. nullptr when the session runs on one thread (XNNPACK then runs on the caller's
// thread, no pool needed). Shared ownership: kernels may outlive the backend object.
using Pool = std::shared_ptr<pthreadpool>;
Pool make_threadpool(int threads);
// The pool as a ParallelFor, for octet's own portable kernels (kernels/simd) that take the nodes
// XNNPACK has no operator for: they run on the same threads.
ParallelFor pool_parallel_for(Pool pool);
// The pool of the session ctx belongs to (ctx.backend is the XNNPACK backend).
Pool session_pool(const KernelContext& ctx);

struct OpDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Op = std::unique_ptr<xnn_operator, OpDeleter>;

// A scratch copy handed to XNNPACK: the one aligned buffer with XNN_EXTRA_BYTES of slack
// (XNNPACK micro-kernels may read, never write, a few bytes past their inputs).
struct Scratch : AlignedBuffer {
  Scratch() : AlignedBuffer("XNNPACK scratch", XNN_EXTRA_BYTES) {}
};

// dst[i] = src[i] ^ 0x80 (u8 <-> s8 codes of the same real value; see above). dst may be src.
void flip_sign(const void* src, void* dst, size_t n);

// Whether `a` can be expressed as XNNPACK's output clamp (None, Relu, Clip) and why not.
Support clamp_supported(const Activation& a);
// The clamp as float bounds.
void float_clamp(const Activation& a, float* lo, float* hi);
// The clamp as codes of an 8-bit output with scale s and zero point zp, in [qlo, qhi]. Rounded
// with octet's quantize(), and clamping after rounding equals rounding after clamping (rounding
// is monotonic), so the fused clamp matches the reference exactly. False when lo >= hi (XNNPACK
// refuses an empty range).
bool code_clamp(const Activation& a, float s, int32_t zp, int32_t qlo, int32_t qhi, int32_t* lo, int32_t* hi);

// Base of every XNNPACK kernel: the session's pool and the name of what runs.
class XnnKernel : public Kernel {
 public:
  explicit XnnKernel(const KernelContext& ctx) : node_(ctx.node), pool_(session_pool(ctx)) {}
  std::string detail() const override { return detail_; }

 protected:
  pthreadpool_t pool() const { return pool_.get(); }
  void run_op(xnn_operator_t op) { check(xnn_run_operator(op, pool()), node_, "xnn_run_operator"); }

  const NodeDef& node_;
  Pool pool_;
  std::string detail_;
};

}  // namespace octet::xnn
