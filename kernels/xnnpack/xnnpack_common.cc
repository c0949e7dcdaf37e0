#include "xnnpack/xnnpack_common.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "ops/op_spec.h"
#include "quant/quant.h"

namespace octet::xnn {

namespace {
xnn_status g_init_status = xnn_status_uninitialized;
std::once_flag g_init_once;
void init_once() {
  std::call_once(g_init_once, [] { g_init_status = xnn_initialize(nullptr); });
}
}  // namespace

Support initialize() {
  init_once();
  if (g_init_status == xnn_status_success) return Support::yes();
  return Support::no(std::string("xnn_initialize failed: ") + status_name(g_init_status));
}

const char* status_name(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

void check(xnn_status s, const NodeDef& node, const char* what) {
  if (s != xnn_status_success) node_error(node, std::string("XNNPACK ") + what + " failed: " + status_name(s));
}

Pool make_threadpool(int threads) {
  if (threads <= 1) return nullptr;
  pthreadpool_t p = pthreadpool_create(static_cast<size_t>(threads));
  if (!p) throw Error("cannot create a pthreadpool of " + std::to_string(threads) + " threads");
  return Pool(p, pthreadpool_destroy);
}

ParallelFor pool_parallel_for(Pool pool) {
  return [pool](size_t tasks, const std::function<void(size_t)>& fn) {
    using Fn = std::function<void(size_t)>;
    auto task = [](void* f, size_t t) { (*static_cast<const Fn*>(f))(t); };
    pthreadpool_parallelize_1d(pool.get(), task, const_cast<Fn*>(&fn), tasks, 0);
  };
}

void flip_sign(const void* src, void* dst, size_t n) {
  // Plain loop: compilers vectorize it; it is memory bound anyway.
  const uint8_t* s = static_cast<const uint8_t*>(src);
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>(s[i] ^ 0x80u);
}

Support clamp_supported(const Activation& a) {
  switch (a.kind) {
    case ActKind::None: case ActKind::Relu: case ActKind::Clip: return Support::yes();
    default:
      return Support::no(std::string("fused ") + a.name() +
                         " is not an output clamp (XNNPACK fuses only Relu/Clip as min/max)");
  }
}

void float_clamp(const Activation& a, float* lo, float* hi) {
  *lo = -INFINITY, *hi = INFINITY;
  if (a.kind == ActKind::Relu) *lo = 0.f;
  if (a.kind == ActKind::Clip) *lo = a.alpha, *hi = a.beta;
}

bool code_clamp(const Activation& a, float s, int32_t zp, int32_t qlo, int32_t qhi, int32_t* lo, int32_t* hi) {
  float flo, fhi;
  float_clamp(a, &flo, &fhi);
  const float inv = 1.f / s;
  // The bound in output units, rounded, then the zero point (quant/requant.h's order), limited
  // to the code range: clamping codes so equals clamping v before rounding.
  auto code = [&](float real) -> int32_t {
    if (std::isinf(real)) return real < 0 ? qlo : qhi;
    const float v = real * inv;
    if (!(v >= static_cast<float>(qlo - zp))) return qlo;
    if (v > static_cast<float>(qhi - zp)) return qhi;
    return static_cast<int32_t>(std::nearbyint(v)) + zp;
  };
  *lo = code(flo), *hi = code(fhi);
  return *lo < *hi;
}

}  // namespace octet::xnn
