// Reference kernels of the ops that pick or accumulate elements by position: GatherElements,
// Trilu, CumSum, and Hardmax (a one-hot of the first largest element along `axis`).
//  - GatherElements: y[i...] = x[i... with i_axis replaced by indices[i...]]; negative indices
//    count from the end, one outside [-dim, dim) is an error naming the node (never a stray read).
//  - Trilu: keeps x[..., i, j] where j - i >= k (upper) or j - i <= k (lower), else 0 (int8:
//    the zero point's code, the real 0).
//  - CumSum: running sums along `axis` in the input's type, `exclusive` (each sum leaves its own
//    element out) and `reverse` (from the end).
//  - DepthToSpace (DCR: depth blocks outermost; CRD: channels outermost) and SpaceToDepth, NCHW.
//  - TopK: the k largest (or smallest) along `axis`, sorted, ties by the lower index (ONNX);
//    indices i64.
//  - OneHot: values[1] where the index (negative counts from depth) equals the position along
//    `axis`, values[0] elsewhere; an index outside [-depth, depth) gives a row of values[0].
//  - GatherND / ScatterND: index tuples of the indices' last dim address slices of data (after
//    batch_dims for GatherND); ScatterElements: as GatherElements, written. Negative indices
//    count from the end; out of range is an error naming the node. Scatter reductions add/mul
//    apply in index order (duplicates accumulate; with none the last write wins, as in ORT).
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "ops/op_spec.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

namespace {

// outer x len x inner: the dims before, at and after `axis`.
struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
  AxisSplit(const Shape& s, int64_t axis) {
    for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
      (d < axis ? outer : d == axis ? len : inner) *= s[d];
  }
};

class IndexRef final : public Kernel {
 public:
  explicit IndexRef(const KernelContext& ctx) : node_(ctx.node) {}

  void run(const KernelArgs& a) override {
    switch (node_.op) {
      case OpKind::GatherElements: return gather_elements(*a.in[0], *a.in[1], *a.out[0]);
      case OpKind::Trilu: return trilu(*a.in[0], *a.out[0]);
      case OpKind::CumSum:
        switch (a.in[0]->dtype) {
          case DataType::f32: return cumsum(a.in[0]->as<float>(), a.in[0]->shape, a.out[0]->as<float>());
          case DataType::s32: return cumsum(a.in[0]->as<int32_t>(), a.in[0]->shape, a.out[0]->as<int32_t>());
          case DataType::i64: return cumsum(a.in[0]->as<int64_t>(), a.in[0]->shape, a.out[0]->as<int64_t>());
          default: node_error(node_, "unsupported dtype");
        }
      case OpKind::Hardmax: return hardmax(*a.in[0], *a.out[0]);
      case OpKind::DepthToSpace: case OpKind::SpaceToDepth: return depth_space(*a.in[0], *a.out[0]);
      case OpKind::TopK:
        switch (a.in[0]->dtype) {
          case DataType::f32: return topk(a.in[0]->as<float>(), a.in[0]->shape, a);
          case DataType::s32: return topk(a.in[0]->as<int32_t>(), a.in[0]->shape, a);
          case DataType::i64: return topk(a.in[0]->as<int64_t>(), a.in[0]->shape, a);
          default: node_error(node_, "unsupported dtype");
        }
      case OpKind::OneHot: return onehot(*a.in[0], *a.in[2], *a.out[0]);
      case OpKind::EyeLike: return eyelike(*a.out[0]);
      case OpKind::GatherND: return gather_nd(*a.in[0], *a.in[1], *a.out[0]);
      case OpKind::ScatterND: case OpKind::ScatterElements: return scatter(*a.in[0], *a.in[1], *a.in[2], *a.out[0]);
      default: node_error(node_, "is not an indexing op");
    }
  }

 private:
  int64_t axis(const Shape& s, const char* name, int64_t fallback) const {
    return normalize_axis(node_.attrs.get_int(name, fallback), static_cast<int64_t>(s.size()), node_);
  }

  void gather_elements(const Tensor& x, const Tensor& idx, Tensor& y) {
    const int64_t r = static_cast<int64_t>(x.shape.size()), ax = axis(x.shape, "axis", 0);
    const size_t es = dtype_size(x.dtype);
    std::vector<int64_t> xs(static_cast<size_t>(r), 1);   // strides of x
    for (int64_t d = r - 1; d > 0; --d) xs[d - 1] = xs[d] * x.shape[d];
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);  // multi-index into y (= into indices)
    const int64_t n = y.elements(), dim = x.shape[ax];
    for (int64_t i = 0; i < n; ++i) {
      int64_t k = idx.dtype == DataType::i64 ? idx.as<int64_t>()[i] : idx.as<int32_t>()[i];
      if (k < -dim || k >= dim)
        node_error(node_, "index " + std::to_string(k) + " is outside [-" + std::to_string(dim) + ", " + std::to_string(dim) + ")");
      if (k < 0) k += dim;
      int64_t src = 0;
      for (int64_t d = 0; d < r; ++d) src += (d == ax ? k : pos[d]) * xs[d];
      std::memcpy(static_cast<uint8_t*>(y.data) + i * es, static_cast<const uint8_t*>(x.data) + src * es, es);
      for (int64_t d = r; d-- > 0;) {
        if (++pos[d] < y.shape[d]) break;
        pos[d] = 0;
      }
    }
  }

  void trilu(const Tensor& x, Tensor& y) {
    const size_t r = x.shape.size(), es = dtype_size(x.dtype);
    const int64_t M = x.shape[r - 2], N = x.shape[r - 1], k = node_.attrs.get_int("k", 0);
    const bool upper = node_.attrs.get_int("upper", 1) != 0;
    uint8_t zero[8] = {};
    if (x.dtype == DataType::u8 || x.dtype == DataType::s8) zero[0] = static_cast<uint8_t>(x.zero_point());
    const int64_t mats = M * N == 0 ? 0 : x.elements() / (M * N);
    const uint8_t* in = static_cast<const uint8_t*>(x.data);
    uint8_t* out = static_cast<uint8_t*>(y.data);
    for (int64_t b = 0; b < mats; ++b)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          const int64_t e = (b * M + i) * N + j;
          const bool keep = upper ? j - i >= k : j - i <= k;
          std::memcpy(out + e * es, keep ? in + e * es : zero, es);
        }
  }

  template <class T>
  void cumsum(const T* x, const Shape& s, T* y) {
    const AxisSplit p(s, axis(s, "axis", 0));
    const bool exclusive = node_.attrs.get_int("exclusive", 0) != 0, reverse = node_.attrs.get_int("reverse", 0) != 0;
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        T acc = 0;
        for (int64_t t = 0; t < p.len; ++t) {
          const int64_t j = reverse ? p.len - 1 - t : t;
          const int64_t e = (o * p.len + j) * p.inner + i;
          if (exclusive) y[e] = acc, acc += x[e];
          else acc += x[e], y[e] = acc;
        }
      }
  }

  void hardmax(const Tensor& x, Tensor& y) {
    const AxisSplit p(x.shape, axis(x.shape, "axis", -1));
    const float* in = x.as<float>();
    float* out = y.as<float>();
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        int64_t best = 0;
        for (int64_t j = 0; j < p.len; ++j) {
          const int64_t e = (o * p.len + j) * p.inner + i;
          if (in[e] > in[(o * p.len + best) * p.inner + i]) best = j;
          out[e] = 0.f;
        }
        if (p.len > 0) out[(o * p.len + best) * p.inner + i] = 1.f;
      }
  }

  void depth_space(const Tensor& x, Tensor& y) {
    const int64_t b = node_.attrs.get_int("blocksize");
    const bool to_space = node_.op == OpKind::DepthToSpace;
    const bool crd = node_.attrs.get_string("mode", "DCR") == "CRD";
    // Iterate the space side [N, C, H*b, W*b] (y for DepthToSpace, x for SpaceToDepth).
    const Tensor& sp = to_space ? y : x;
    const int64_t N = sp.shape[0], C = sp.shape[1], H = sp.shape[2] / b, W = sp.shape[3] / b;
    const size_t es = dtype_size(x.dtype);
    const uint8_t* in = static_cast<const uint8_t*>(x.data);
    uint8_t* out = static_cast<uint8_t*>(y.data);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H * b; ++h)
          for (int64_t w = 0; w < W * b; ++w) {
            const int64_t i = h % b, j = w % b;
            const int64_t dc = crd ? c * b * b + i * b + j : (i * b + j) * C + c;   // channel on the depth side
            const int64_t space = ((n * C + c) * H * b + h) * W * b + w;
            const int64_t depth = ((n * C * b * b + dc) * H + h / b) * W + w / b;
            std::memcpy(out + (to_space ? space : depth) * es, in + (to_space ? depth : space) * es, es);
          }
  }

  template <class T>
  void topk(const T* x, const Shape& s, const KernelArgs& a) {
    const AxisSplit p(s, axis(s, "axis", -1));
    const int64_t k = node_.attrs.get_int("k");
    const bool largest = node_.attrs.get_int("largest", 1) != 0;
    T* values = a.out[0]->as<T>();
    int64_t* indices = a.out.size() > 1 && a.out[1] ? a.out[1]->as<int64_t>() : nullptr;
    std::vector<int64_t> order(static_cast<size_t>(p.len));
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        const T* row = x + o * p.len * p.inner + i;
        std::iota(order.begin(), order.end(), int64_t{0});
        auto before = [&](int64_t u, int64_t v) {
          const T a = row[u * p.inner], b = row[v * p.inner];
          if (a != b) return largest ? a > b : a < b;
          return u < v;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t t = 0; t < k; ++t) {
          const int64_t e = (o * k + t) * p.inner + i;
          values[e] = row[order[t] * p.inner];
          if (indices) indices[e] = order[t];
        }
      }
  }

  int64_t index_at(const Tensor& idx, int64_t i, int64_t dim) const {
    int64_t k = idx.dtype == DataType::i64 ? idx.as<int64_t>()[i] : idx.as<int32_t>()[i];
    if (k < -dim || k >= dim)
      node_error(node_, "index " + std::to_string(k) + " is outside [-" + std::to_string(dim) + ", " + std::to_string(dim) + ")");
    return k < 0 ? k + dim : k;
  }

  static std::vector<int64_t> strides(const Shape& s) {
    std::vector<int64_t> st(s.size(), 1);
    for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
    return st;
  }

  void gather_nd(const Tensor& x, const Tensor& idx, Tensor& y) {
    const int64_t b = node_.attrs.get_int("batch_dims", 0), k = idx.shape.back();
    const std::vector<int64_t> xs = strides(x.shape);
    int64_t batches = 1, slice = 1;
    for (int64_t d = 0; d < b; ++d) batches *= x.shape[d];
    for (size_t d = static_cast<size_t>(b + k); d < x.shape.size(); ++d) slice *= x.shape[d];
    const int64_t tuples = k == 0 ? idx.elements() : idx.elements() / k;   // index tuples in all
    const int64_t per_batch = tuples / std::max<int64_t>(batches, 1);
    const int64_t batch_stride = b > 0 ? xs[b - 1] : 0;
    const size_t es = dtype_size(x.dtype);
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = (t / std::max<int64_t>(per_batch, 1)) * batch_stride;
      for (int64_t j = 0; j < k; ++j) off += index_at(idx, t * k + j, x.shape[b + j]) * xs[b + j];
      std::memcpy(static_cast<uint8_t*>(y.data) + t * slice * es, static_cast<const uint8_t*>(x.data) + off * es, slice * es);
    }
  }

  void scatter(const Tensor& x, const Tensor& idx, const Tensor& u, Tensor& y) {
    const size_t es = dtype_size(x.dtype);
    if (y.data != x.data) std::memcpy(y.data, x.data, x.bytes());
    const std::string red = node_.attrs.get_string("reduction", "none");
    const std::vector<int64_t> xs = strides(x.shape);
    auto put = [&](int64_t dst, int64_t src) {
      uint8_t* d = static_cast<uint8_t*>(y.data) + dst * es;
      const uint8_t* s = static_cast<const uint8_t*>(u.data) + src * es;
      if (red == "none") return (void)std::memcpy(d, s, es);
      const bool add = red == "add";
      switch (x.dtype) {
        case DataType::f32: { float& v = reinterpret_cast<float*>(d)[0]; float w; std::memcpy(&w, s, 4); v = add ? v + w : v * w; break; }
        case DataType::s32: { int32_t& v = reinterpret_cast<int32_t*>(d)[0]; int32_t w; std::memcpy(&w, s, 4); v = add ? v + w : v * w; break; }
        case DataType::i64: { int64_t& v = reinterpret_cast<int64_t*>(d)[0]; int64_t w; std::memcpy(&w, s, 8); v = add ? v + w : v * w; break; }
        default: { uint8_t w = *s; *d = add ? (*d || w) : (*d && w); }
      }
    };
    if (node_.op == OpKind::ScatterND) {
      const int64_t k = idx.shape.back();
      int64_t slice = 1;
      for (size_t d = static_cast<size_t>(k); d < x.shape.size(); ++d) slice *= x.shape[d];
      const int64_t tuples = k == 0 ? 1 : idx.elements() / k;
      for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (int64_t j = 0; j < k; ++j) off += index_at(idx, t * k + j, x.shape[j]) * xs[j];
        for (int64_t e = 0; e < slice; ++e) put(off + e, t * slice + e);
      }
      return;
    }
    const int64_t r = static_cast<int64_t>(x.shape.size()), ax = axis(x.shape, "axis", 0);
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < idx.elements(); ++i) {
      int64_t dst = 0;
      for (int64_t d = 0; d < r; ++d) dst += (d == ax ? index_at(idx, i, x.shape[ax]) : pos[d]) * xs[d];
      put(dst, i);
      for (int64_t d = r; d-- > 0;) {
        if (++pos[d] < idx.shape[d]) break;
        pos[d] = 0;
      }
    }
  }

  void eyelike(Tensor& y) const {   // ones on the diagonal j - i == k, zeros elsewhere
    const int64_t k = node_.attrs.get_int("k", 0), M = y.shape[0], N = y.shape[1];
    const size_t es = dtype_size(y.dtype);
    std::memset(y.data, 0, y.bytes());
    uint8_t one[8] = {};
    switch (y.dtype) {
      case DataType::f32: { const float v = 1; std::memcpy(one, &v, 4); break; }
      case DataType::s32: { const int32_t v = 1; std::memcpy(one, &v, 4); break; }
      case DataType::i64: { const int64_t v = 1; std::memcpy(one, &v, 8); break; }
      default: one[0] = 1;
    }
    for (int64_t i = 0; i < M; ++i)
      if (i + k >= 0 && i + k < N) std::memcpy(static_cast<uint8_t*>(y.data) + (i * N + i + k) * es, one, es);
  }

  void onehot(const Tensor& idx, const Tensor& vals, Tensor& y) {
    const int64_t depth = node_.attrs.get_int("depth");
    const AxisSplit p(y.shape, axis(y.shape, "axis", -1));   // p.len == depth
    const size_t es = dtype_size(y.dtype);
    const uint8_t* off = static_cast<const uint8_t*>(vals.data);
    const uint8_t* on = off + es;
    uint8_t* out = static_cast<uint8_t*>(y.data);
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        const int64_t at = o * p.inner + i;   // the index's position in `idx`
        double v = idx.dtype == DataType::f32 ? idx.as<float>()[at] : idx.dtype == DataType::s32 ? idx.as<int32_t>()[at]
                                                                                                 : static_cast<double>(idx.as<int64_t>()[at]);
        int64_t hot = static_cast<int64_t>(v);
        if (hot < 0) hot += depth;
        for (int64_t d = 0; d < depth; ++d) std::memcpy(out + ((o * depth + d) * p.inner + i) * es, d == hot ? on : off, es);
      }
  }

  const NodeDef& node_;
};
}  // namespace

std::unique_ptr<Kernel> make_index_op(const KernelContext& ctx) { return std::make_unique<IndexRef>(ctx); }

}  // namespace octet::ref
