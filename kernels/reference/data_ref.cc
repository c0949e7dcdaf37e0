// Reference data movement ops: Concat, Split, Slice, Reshape, Flatten, Transpose, Squeeze,
// Unsqueeze, Pad, Gather, Expand, Tile, ConstantOfShape, Cast, Where (Resize: resize_ref.cc).
//
// They are layout-agnostic and, except Cast, Concat and Pad's fill value, move whole elements
// as bytes, so they work for every dtype. "Same quant" ops therefore move 8-bit codes untouched.
//  - Reshape, Flatten, Squeeze, Unsqueeze are views: the planner gives output 0 the storage of
//    input 0 and the kernel does nothing; if the storage differs it copies.
//  - Concat requantizes an 8-bit input whose scale/zero point differ from the output's:
//      q_y = quantize(s_x * (q_x - zp_x), s_y, zp_y)
//  - Pad: negative pads crop first; positive pads then add `value` (constant; for 8-bit the code
//    of the real value under the tensor's params), a mirror image without the edge element
//    (reflect) or copies of the edge element (edge) around what is left.
//  - Gather: negative indices count from the end; an index outside [-dim, dim) is an error.
//  - Cast f32 -> s32/i64 truncates toward zero, saturates out-of-range values and maps NaN to 0;
//    any -> bool is (v != 0); bool -> any is 0 or 1; s32 <-> i64 convert like C (wrap).
//  - Where: y = cond ? X : Y with numpy broadcasting of the three inputs.
//  - Tile: output element (o_0, ...) is input element (o_0 mod x_0, ...).
//  - ConstantOfShape: every element is `value` in the output's dtype (as Pad's fill).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/op_spec.h"
#include "ops/params.h"
#include "quant/quant.h"
#include "reference/reference_kernels.h"

namespace octet::ref {

std::unique_ptr<Kernel> make_resize(const KernelContext& ctx);   // resize_ref.cc

namespace {

using Bytes = uint8_t;

// Row-major element strides of a shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t d = static_cast<int64_t>(s.size()) - 2; d >= 0; --d) st[d] = st[d + 1] * s[d + 1];
  return st;
}

int64_t product(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= s[d];
  return n;
}

void copy_bytes(void* dst, const void* src, size_t n) {
  if (n > 0) std::memmove(dst, src, n);
}

// The general gather-by-index copy behind Slice, Transpose, Expand and Pad. Output element
// (o_0, ..., o_{r-1}) of y is input element sum_d src[d][o_d] * stride[d] of x, or `fill` (one
// element's bytes) when some src[d][o_d] is negative.
// One output row (the last dimension) at a time: the outer offset is computed once per row, and
// the inner loop is a typed copy, so a 224x224x3 input transpose takes microseconds, not ms.
template <size_t ES>   // element size: fixed-size memcpy compiles to one move, without aliasing questions
void copy_row(Bytes* out, const Bytes* in, int64_t base, const int64_t* src, int64_t stride, int64_t n, const Bytes* fill) {
  for (int64_t j = 0; j < n; ++j) std::memcpy(out + j * ES, src[j] < 0 ? fill : in + (base + src[j] * stride) * ES, ES);
}

void copy_indexed(const Tensor& x, Tensor& y, const std::vector<std::vector<int64_t>>& src,
                  const std::vector<int64_t>& stride, const Bytes* fill = nullptr) {
  const size_t es = dtype_size(y.dtype);
  const int64_t n = y.elements();
  const size_t r = y.shape.size();
  const Bytes* in = static_cast<const Bytes*>(x.data);
  Bytes* out = static_cast<Bytes*>(y.data);
  if (n == 0) return;
  if (r == 0) {
    std::memcpy(out, in, es);
    return;
  }
  const int64_t inner = y.shape[r - 1];
  const int64_t* isrc = src[r - 1].data();
  std::vector<Bytes> zero(es, 0);
  const Bytes* f = fill ? fill : zero.data();
  std::vector<int64_t> idx(r - 1, 0);
  for (int64_t row = 0; row * inner < n; ++row) {
    int64_t base = 0;
    bool padded = false;
    for (size_t d = 0; d + 1 < r; ++d) {
      const int64_t s = src[d][idx[d]];
      if (s < 0) padded = true;
      else base += s * stride[d];
    }
    Bytes* o = out + row * inner * es;
    if (padded) {
      for (int64_t j = 0; j < inner; ++j) std::memcpy(o + j * es, f, es);
    } else {
      switch (es) {
        case 1: copy_row<1>(o, in, base, isrc, stride[r - 1], inner, f); break;
        case 4: copy_row<4>(o, in, base, isrc, stride[r - 1], inner, f); break;
        case 8: copy_row<8>(o, in, base, isrc, stride[r - 1], inner, f); break;
        default: throw Error("copy of " + std::to_string(es) + "-byte elements");
      }
    }
    for (size_t d = r - 1; d-- > 0;) {   // next row, second-to-last dimension fastest
      if (++idx[d] < y.shape[d]) break;
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> iota(int64_t n, int64_t start = 0, int64_t step = 1) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = start + i * step;
  return v;
}

// Float to integer the way ONNX/numpy Cast is expected to behave, without undefined behavior:
// truncation toward zero, NaN -> 0, saturation outside the range of T.
template <class T>
T float_to_int(double v) {
  if (std::isnan(v)) return 0;
  // Every value strictly between these bounds truncates to a representable T.
  const double lo = static_cast<double>(std::numeric_limits<T>::lowest()) - 1.0;
  const double hi = -static_cast<double>(std::numeric_limits<T>::lowest());   // 2^(bits-1)
  if (v <= lo) return std::numeric_limits<T>::lowest();
  if (v >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

// One element of dtype `to` from a value read as From (bool already read as 0/1).
template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != 0;
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    return float_to_int<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);
  }
}

template <class From>
void cast_from(const From* x, Tensor& y, int64_t n) {
  switch (y.dtype) {
    case DataType::f32: for (int64_t i = 0; i < n; ++i) y.as<float>()[i] = convert<float>(x[i]); break;
    case DataType::s32: for (int64_t i = 0; i < n; ++i) y.as<int32_t>()[i] = convert<int32_t>(x[i]); break;
    case DataType::i64: for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = convert<int64_t>(x[i]); break;
    case DataType::boolean:
      for (int64_t i = 0; i < n; ++i) y.as<uint8_t>()[i] = convert<bool>(x[i]) ? 1 : 0;
      break;
    default: break;   // 8-bit types are refused by validation
  }
}

// `value` (a real number) as one element of t's dtype, quantized for 8-bit tensors.
std::vector<Bytes> fill_element(const Tensor& t, float value) {
  std::vector<Bytes> e(dtype_size(t.dtype));
  switch (t.dtype) {
    case DataType::f32: std::memcpy(e.data(), &value, 4); break;
    case DataType::u8: e[0] = q::quantize<uint8_t>(value, 1.f / t.scale(), t.zero_point()); break;
    case DataType::s8: e[0] = static_cast<Bytes>(q::quantize<int8_t>(value, 1.f / t.scale(), t.zero_point())); break;
    case DataType::s32: { int32_t v = convert<int32_t>(value); std::memcpy(e.data(), &v, 4); break; }
    case DataType::i64: { int64_t v = convert<int64_t>(value); std::memcpy(e.data(), &v, 8); break; }
    case DataType::boolean: e[0] = value != 0 ? 1 : 0; break;
  }
  return e;
}

bool per_tensor(const TensorDef& t) { return t.quant.scale.size() == 1; }

class DataRef final : public Kernel {
 public:
  explicit DataRef(const KernelContext& ctx) : node_(ctx.node) {
    const NodeDef& n = node_;
    switch (n.op) {
      case OpKind::Slice: slice_ = parse_slice(n); break;
      case OpKind::Transpose: perm_ = n.attrs.get_ints("perm", {}); break;
      case OpKind::Concat:
        axis_ = n.attrs.get_int("axis");
        if (is_q8(ctx.output(0).dtype) && !per_tensor(ctx.output(0))) node_error(n, "output must be quantized per tensor");
        break;
      case OpKind::Split: axis_ = n.attrs.get_int("axis", 0); break;
      case OpKind::Gather: axis_ = n.attrs.get_int("axis", 0); break;
      case OpKind::Pad: {
        pads_ = n.attrs.get_ints("pads");
        const std::string mode = n.attrs.get_string("mode", "constant");
        pad_mode_ = mode == "reflect" ? PadMode::Reflect : mode == "edge" ? PadMode::Edge : PadMode::Constant;
        pad_value_ = n.attrs.get_float("value", 0.f);
        if (is_q8(ctx.input(0).dtype) && !per_tensor(ctx.input(0))) node_error(n, "8-bit input must be quantized per tensor");
        break;
      }
      default: break;
    }
  }

  void run(const KernelArgs& a) override {
    switch (node_.op) {
      case OpKind::Reshape: case OpKind::Flatten: case OpKind::Squeeze: case OpKind::Unsqueeze:
        if (a.out[0]->data != a.in[0]->data) copy_bytes(a.out[0]->data, a.in[0]->data, a.in[0]->bytes());
        return;
      case OpKind::Concat: return concat(a);
      case OpKind::Split: return split(a);
      case OpKind::Slice: return slice(*a.in[0], *a.out[0]);
      case OpKind::Transpose: return transpose(*a.in[0], *a.out[0]);
      case OpKind::Pad: return pad(*a.in[0], *a.out[0]);
      case OpKind::Gather: return gather(*a.in[0], *a.in[1], *a.out[0]);
      case OpKind::Expand: return expand(*a.in[0], *a.out[0]);
      case OpKind::Tile: return tile(*a.in[0], *a.out[0]);
      case OpKind::ConstantOfShape: return constant_of_shape(*a.out[0]);
      case OpKind::Cast: return cast(*a.in[0], *a.out[0]);
      case OpKind::Where: return where(*a.in[0], *a.in[1], *a.in[2], *a.out[0]);
      default: node_error(node_, "is not a data movement op");
    }
  }

 private:
  enum class PadMode { Constant, Reflect, Edge };
  static bool is_q8(DataType t) { return t == DataType::u8 || t == DataType::s8; }

  // Concat: each input fills a band of the output along `axis`; rows of `inner` elements.
  void concat(const KernelArgs& a) {
    Tensor& y = *a.out[0];
    const size_t r = y.shape.size();
    const int64_t ax = normalize_axis(axis_, static_cast<int64_t>(r), node_);
    const int64_t outer = product(y.shape, 0, ax), inner = product(y.shape, ax + 1, r);
    const size_t es = dtype_size(y.dtype);
    int64_t band = 0;   // where along the axis the current input starts
    for (const Tensor* xp : a.in) {
      const Tensor& x = *xp;
      const int64_t len = x.shape[ax] * inner;   // elements per outer index
      const bool requant = is_q8(y.dtype) && (x.scale() != y.scale() || x.zero_point() != y.zero_point());
      for (int64_t o = 0; o < outer; ++o) {
        const int64_t src = o * len, dst = (o * y.shape[ax] + band) * inner;
        if (!requant) {
          copy_bytes(static_cast<Bytes*>(y.data) + dst * es, static_cast<const Bytes*>(x.data) + src * es, len * es);
          continue;
        }
        const float inv = 1.f / y.scale();
        for (int64_t i = 0; i < len; ++i) {
          if (y.dtype == DataType::u8) {
            float real = q::dequantize<uint8_t>(x.as<uint8_t>()[src + i], x.scale(), x.zero_point());
            y.as<uint8_t>()[dst + i] = q::quantize<uint8_t>(real, inv, y.zero_point());
          } else {
            float real = q::dequantize<int8_t>(x.as<int8_t>()[src + i], x.scale(), x.zero_point());
            y.as<int8_t>()[dst + i] = q::quantize<int8_t>(real, inv, y.zero_point());
          }
        }
      }
      band += x.shape[ax];
    }
  }

  // Split: the mirror image of Concat (same quantization, so plain byte copies). The band sizes
  // follow shape inference's rule so that omitted outputs (nullptr) still take their share.
  void split(const KernelArgs& a) {
    const Tensor& x = *a.in[0];
    const size_t r = x.shape.size();
    const int64_t ax = normalize_axis(axis_, static_cast<int64_t>(r), node_);
    const int64_t outer = product(x.shape, 0, ax), inner = product(x.shape, ax + 1, r);
    const size_t es = dtype_size(x.dtype);
    const int64_t n = static_cast<int64_t>(a.out.size());
    std::vector<int64_t> sizes = node_.attrs.get_ints("split", {});
    if (sizes.empty()) {   // equal parts, the last one smaller (ONNX 18)
      const int64_t part = (x.shape[ax] + n - 1) / n;
      for (int64_t i = 0; i < n; ++i) sizes.push_back(std::max<int64_t>(0, std::min(part, x.shape[ax] - i * part)));
    }
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    if (static_cast<int64_t>(sizes.size()) != n || total != x.shape[ax]) node_error(node_, "split sizes do not fit the input");
    int64_t band = 0;   // where along the axis the current output starts
    for (int64_t k = 0; k < n; ++k) {
      Tensor* y = a.out[k];
      const int64_t len = sizes[k] * inner;   // elements per outer index
      if (y) {
        if (y->elements() != outer * len) node_error(node_, "output " + std::to_string(k) + " has the wrong shape");
        for (int64_t o = 0; o < outer; ++o)
          copy_bytes(static_cast<Bytes*>(y->data) + o * len * es,
                     static_cast<const Bytes*>(x.data) + (o * x.shape[ax] + band) * inner * es, len * es);
      }
      band += sizes[k];
    }
  }

  void slice(const Tensor& x, Tensor& y) {
    SliceDims d = resolve_slice(slice_, x.shape, node_);
    std::vector<std::vector<int64_t>> src(x.shape.size());
    for (size_t k = 0; k < x.shape.size(); ++k) {
      if (d.count[k] != y.shape[k]) node_error(node_, "slice extent differs from the output shape");
      src[k] = iota(d.count[k], d.start[k], d.step[k]);
    }
    copy_indexed(x, y, src, strides_of(x.shape));
  }

  void transpose(const Tensor& x, Tensor& y) {
    const size_t r = x.shape.size();
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (size_t d = r; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
    const std::vector<int64_t> xs = strides_of(x.shape);
    std::vector<std::vector<int64_t>> src(r);
    std::vector<int64_t> stride(r);
    for (size_t d = 0; d < r; ++d) {   // output dim d walks input dim perm[d]
      src[d] = iota(y.shape[d]);
      stride[d] = xs[perm[d]];
    }
    copy_indexed(x, y, src, stride);
  }

  void expand(const Tensor& x, Tensor& y) {
    const size_t r = y.shape.size(), lead = r - x.shape.size();
    const std::vector<int64_t> xs = strides_of(x.shape);
    std::vector<std::vector<int64_t>> src(r);
    std::vector<int64_t> stride(r, 0);
    for (size_t d = 0; d < r; ++d) {
      const bool broadcast = d < lead || x.shape[d - lead] == 1;
      src[d] = broadcast ? std::vector<int64_t>(static_cast<size_t>(y.shape[d]), 0) : iota(y.shape[d]);
      if (d >= lead) stride[d] = xs[d - lead];
    }
    copy_indexed(x, y, src, stride);
  }

  void tile(const Tensor& x, Tensor& y) {
    std::vector<std::vector<int64_t>> src(y.shape.size());
    for (size_t d = 0; d < y.shape.size(); ++d) {
      src[d] = iota(y.shape[d]);
      for (int64_t& i : src[d]) i %= x.shape[d];
    }
    copy_indexed(x, y, src, strides_of(x.shape));
  }

  void constant_of_shape(Tensor& y) {
    const std::vector<Bytes> e = fill_element(y, node_.attrs.get_float("value", 0.f));
    for (int64_t i = 0; i < y.elements(); ++i) std::memcpy(static_cast<Bytes*>(y.data) + i * e.size(), e.data(), e.size());
  }

  void pad(const Tensor& x, Tensor& y) {
    const size_t r = x.shape.size();
    if (pads_.size() != 2 * r) node_error(node_, "pads must have 2 x rank values");
    std::vector<std::vector<int64_t>> src(r);
    for (size_t d = 0; d < r; ++d) {
      const int64_t begin = pads_[d], end = pads_[d + r];
      // Negative pads crop: the region kept is [keep0, keep0 + len) of the input.
      const int64_t keep0 = std::max<int64_t>(0, -begin);
      const int64_t len = x.shape[d] + std::min<int64_t>(0, begin) + std::min<int64_t>(0, end);
      const int64_t lead = std::max<int64_t>(0, begin);
      if (len + lead + std::max<int64_t>(0, end) != y.shape[d]) node_error(node_, "pads do not match the output shape");
      if (len <= 0 && pad_mode_ != PadMode::Constant && y.shape[d] > 0)
        node_error(node_, "cannot pad dimension " + std::to_string(d) + " in this mode: nothing is left to copy");
      src[d].resize(static_cast<size_t>(y.shape[d]));
      for (int64_t o = 0; o < y.shape[d]; ++o) {
        int64_t j = o - lead;   // position in the kept region
        if (j < 0 || j >= len) {
          if (pad_mode_ == PadMode::Constant) {
            src[d][o] = -1;
            continue;
          }
          if (pad_mode_ == PadMode::Edge) {
            j = j < 0 ? 0 : len - 1;
          } else if (len == 1) {
            j = 0;
          } else {   // reflect, folding again for pads longer than the region
            const int64_t period = 2 * (len - 1);
            j %= period;
            if (j < 0) j += period;
            if (j >= len) j = period - j;
          }
        }
        src[d][o] = keep0 + j;
      }
    }
    const std::vector<Bytes> fill = fill_element(y, pad_value_);
    copy_indexed(x, y, src, strides_of(x.shape), fill.data());
  }

  void gather(const Tensor& x, const Tensor& idx, Tensor& y) {
    const size_t r = x.shape.size();
    const int64_t ax = normalize_axis(axis_, static_cast<int64_t>(r), node_);
    const int64_t dim = x.shape[ax];
    const int64_t outer = product(x.shape, 0, ax), inner = product(x.shape, ax + 1, r);
    const int64_t count = idx.elements();
    // Resolve and check every index before writing anything.
    std::vector<int64_t> pos(static_cast<size_t>(count));
    for (int64_t j = 0; j < count; ++j) {
      const int64_t k = idx.dtype == DataType::s32 ? idx.as<int32_t>()[j] : idx.as<int64_t>()[j];
      if (k < -dim || k >= dim)
        node_error(node_, "index " + std::to_string(k) + " (at position " + std::to_string(j) +
                              ") is out of range for axis " + std::to_string(ax) + " of size " + std::to_string(dim));
      pos[j] = k < 0 ? k + dim : k;
    }
    if (y.elements() != outer * count * inner) node_error(node_, "output shape does not match data and indices");
    const size_t row = static_cast<size_t>(inner) * dtype_size(x.dtype);
    const Bytes* in = static_cast<const Bytes*>(x.data);
    Bytes* out = static_cast<Bytes*>(y.data);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < count; ++j) copy_bytes(out + (o * count + j) * row, in + (o * dim + pos[j]) * row, row);
  }

  void cast(const Tensor& x, Tensor& y) {
    const int64_t n = x.elements();
    switch (x.dtype) {
      case DataType::f32: cast_from(x.as<float>(), y, n); break;
      case DataType::s32: cast_from(x.as<int32_t>(), y, n); break;
      case DataType::i64: cast_from(x.as<int64_t>(), y, n); break;
      case DataType::boolean: {
        std::vector<uint8_t> b(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) b[i] = x.as<uint8_t>()[i] != 0 ? 1 : 0;
        cast_from(b.data(), y, n);
        break;
      }
      default: node_error(node_, "cannot cast 8-bit quantized tensors");
    }
  }

  void where(const Tensor& c, const Tensor& a, const Tensor& b, Tensor& y) {
    const size_t r = y.shape.size();
    // Element strides of each input along the output's dimensions (0 where it broadcasts).
    auto bstrides = [&](const Shape& s) {
      std::vector<int64_t> st(r, 0), own = strides_of(s);
      const size_t lead = r - s.size();
      for (size_t d = lead; d < r; ++d) st[d] = s[d - lead] == 1 ? 0 : own[d - lead];
      return st;
    };
    const std::vector<int64_t> sc = bstrides(c.shape), sa = bstrides(a.shape), sb = bstrides(b.shape);
    const size_t es = dtype_size(y.dtype);
    const Bytes* cond = static_cast<const Bytes*>(c.data);
    const Bytes* pa = static_cast<const Bytes*>(a.data);
    const Bytes* pb = static_cast<const Bytes*>(b.data);
    Bytes* out = static_cast<Bytes*>(y.data);
    std::vector<int64_t> idx(r, 0);
    const int64_t n = y.elements();
    for (int64_t i = 0; i < n; ++i) {
      int64_t oc = 0, oa = 0, ob = 0;
      for (size_t d = 0; d < r; ++d) oc += idx[d] * sc[d], oa += idx[d] * sa[d], ob += idx[d] * sb[d];
      std::memcpy(out + i * es, cond[oc] ? pa + oa * es : pb + ob * es, es);
      for (size_t d = r; d-- > 0;) {
        if (++idx[d] < y.shape[d]) break;
        idx[d] = 0;
      }
    }
  }

  const NodeDef& node_;
  SliceParams slice_;
  std::vector<int64_t> perm_, pads_;
  int64_t axis_ = 0;
  PadMode pad_mode_ = PadMode::Constant;
  float pad_value_ = 0;
};
}  // namespace

std::unique_ptr<Kernel> make_data(const KernelContext& ctx) {
  if (ctx.node.op == OpKind::Resize) return make_resize(ctx);
  return std::make_unique<DataRef>(ctx);
}

}  // namespace octet::ref
