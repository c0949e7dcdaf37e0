// Reference elementwise ops.
//  Binary (numpy broadcasting). Static int8 Add/Sub/Mul:
//    real = op(s_a (a - zp_a), s_b (b - zp_b));  y = quantize(act(real), s_y, zp_y)
//  Unary. Static int8 runs through a 256-entry table: table[c] = quantize(f(s_x (c - zp_x))),
//  built once from the float definition, so int8 unary ops are exact on every backend.
#include <cmath>
#include <type_traits>
#include <cstring>
#include <vector>

#include "ops/op_spec.h"
#include "quant/activation.h"
#include "reference/q8.h"
#include "reference/reference_kernels.h"
#include "reference/unary_value.h"

namespace octet::ref {

namespace {
// Walks the output index space and yields the matching flat index into a broadcast input.
struct BroadcastIndex {
  std::vector<int64_t> out_dims, in_strides;   // strides are 0 along broadcast dims
  BroadcastIndex(const Shape& out, const Shape& in) : out_dims(out), in_strides(out.size(), 0) {
    int64_t stride = 1;
    for (int64_t d = static_cast<int64_t>(in.size()) - 1; d >= 0; --d) {
      int64_t od = d + static_cast<int64_t>(out.size() - in.size());
      in_strides[od] = in[d] == 1 ? 0 : stride;
      stride *= in[d];
    }
  }
  int64_t map(int64_t flat) const {
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(out_dims.size()) - 1; d >= 0; --d) {
      off += (flat % out_dims[d]) * in_strides[d];
      flat /= out_dims[d];
    }
    return off;
  }
};

template <class T>
T binary_int(OpKind op, T a, T b, bool fmod) {
  switch (op) {
    case OpKind::Mod: {   // fmod=1: the dividend's sign (C's %); fmod=0: the divisor's (Python's %)
      if (b == 0 || b == -1) return 0;   // never traps, as Div (x mod -1 is 0)
      const T r = a % b;
      return !fmod && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }
    case OpKind::PRelu: return a < 0 ? a * b : a;
    case OpKind::Add: return a + b;
    case OpKind::Sub: return a - b;
    case OpKind::Mul: return a * b;
    // Integer division by zero yields 0 and lowest / -1 wraps (the CPU would trap on both).
    case OpKind::Div: return b == 0 ? 0 : b == -1 ? static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a)) : a / b;
    case OpKind::Max: return a > b ? a : b;
    case OpKind::Min: return a < b ? a : b;
    case OpKind::Pow: {
      T r = 1;
      for (T i = 0; i < b && i < 64; ++i) r *= a;
      return b < 0 ? 0 : r;
    }
    default: return 0;
  }
}

float binary_float(OpKind op, float a, float b) {
  switch (op) {
    case OpKind::Add: return a + b;
    case OpKind::Sub: return a - b;
    case OpKind::Mul: return a * b;
    case OpKind::Div: return a / b;
    case OpKind::Pow: return std::pow(a, b);
    case OpKind::Max: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case OpKind::Min: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case OpKind::Mod: return std::fmod(a, b);   // float Mod is fmod=1 (validate_binary)
    case OpKind::PRelu: return a < 0 ? a * b : a;
    default: return 0;
  }
}

// A comparison or logic op (family Compare) over broadcast inputs, into 0/1 bytes.
template <class T>
void compare(OpKind op, const T* a, const T* b, const BroadcastIndex& ia, const BroadcastIndex& ib, uint8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T x = a[ia.map(i)], y = b[ib.map(i)];
    bool r = false;
    switch (op) {
      case OpKind::Equal: r = x == y; break;
      case OpKind::Greater: r = x > y; break;
      case OpKind::Less: r = x < y; break;
      case OpKind::GreaterOrEqual: r = x >= y; break;
      case OpKind::LessOrEqual: r = x <= y; break;
      case OpKind::And: r = x && y; break;
      case OpKind::Or: r = x || y; break;
      case OpKind::Xor: r = (x != 0) != (y != 0); break;
      default: break;
    }
    out[i] = r;
  }
}

class BinaryRef final : public Kernel {
 public:
  explicit BinaryRef(const KernelContext& ctx)
      : node_(ctx.node), fmod_(ctx.node.op == OpKind::Mod && ctx.node.attrs.get_int("fmod", 0) != 0) {}
  void run(const KernelArgs& args) override {
    const Tensor& a = *args.in[0];
    const Tensor& b = *args.in[1];
    Tensor& y = *args.out[0];
    BroadcastIndex ia(y.shape, a.shape), ib(y.shape, b.shape);
    const int64_t n = y.elements();
    const OpKind op = node_.op;
    if (op_traits(op).family == OpFamily::Compare) {
      uint8_t* out = static_cast<uint8_t*>(y.data);   // boolean: one byte, 0 or 1
      switch (a.dtype) {
        case DataType::f32: compare(op, a.as<float>(), b.as<float>(), ia, ib, out, n); break;
        case DataType::s32: compare(op, a.as<int32_t>(), b.as<int32_t>(), ia, ib, out, n); break;
        case DataType::i64: compare(op, a.as<int64_t>(), b.as<int64_t>(), ia, ib, out, n); break;
        case DataType::boolean:
          compare(op, static_cast<const uint8_t*>(a.data), static_cast<const uint8_t*>(b.data), ia, ib, out, n);
          break;
        default: node_error(node_, "unsupported dtype");
      }
      return;
    }
    if (node_.precision == Precision::Int8Static) {
      const float inv = 1.f / y.scale();
      for (int64_t i = 0; i < n; ++i) {
        float ra = a.scale() * static_cast<float>(load_q(a.dtype, a.data, ia.map(i)) - a.zero_point());
        float rb = b.scale() * static_cast<float>(load_q(b.dtype, b.data, ib.map(i)) - b.zero_point());
        float real = apply_activation(node_.activation, binary_float(op, ra, rb));
        store_q(y.dtype, y.data, i, real * inv + static_cast<float>(y.zero_point()));
      }
      return;
    }
    switch (y.dtype) {
      case DataType::f32:
        for (int64_t i = 0; i < n; ++i)
          y.as<float>()[i] = apply_activation(node_.activation, binary_float(op, a.as<float>()[ia.map(i)], b.as<float>()[ib.map(i)]));
        break;
      case DataType::s32:
        for (int64_t i = 0; i < n; ++i) y.as<int32_t>()[i] = binary_int<int32_t>(op, a.as<int32_t>()[ia.map(i)], b.as<int32_t>()[ib.map(i)], fmod_);
        break;
      case DataType::i64:
        for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = binary_int<int64_t>(op, a.as<int64_t>()[ia.map(i)], b.as<int64_t>()[ib.map(i)], fmod_);
        break;
      default:
        node_error(node_, "unsupported dtype");
    }
  }

 private:
  const NodeDef& node_;
  const bool fmod_;
};

// The unary ops defined on integers (validate_unary admits integer inputs for these only).
template <class T>
T unary_int(OpKind op, T v) {
  switch (op) {
    case OpKind::Neg: return -v;
    case OpKind::Abs: return v < 0 ? -v : v;
    case OpKind::Relu: return v > 0 ? v : 0;
    case OpKind::Sign: return v > 0 ? 1 : v < 0 ? -1 : 0;
    default: return 0;
  }
}

// A unary op with its attributes read once.
struct UnaryFn {
  OpKind op;
  UnaryParams params;
  explicit UnaryFn(const NodeDef& n) : op(n.op), params(unary_params(n.op, n.attrs)) {}
  float operator()(float x) const { return unary_value(op, x, params); }
};

class UnaryRef final : public Kernel {
 public:
  explicit UnaryRef(const KernelContext& ctx) : node_(ctx.node), fn_(ctx.node) {
    fn_(0.f);   // an op without a formula fails here, at session creation
    if (node_.precision == Precision::Int8Static) {
      // Attributes are read once here; the table then serves every run.
      const TensorDef& x = ctx.input(0);
      const TensorDef& y = ctx.output(0);
      const float inv = 1.f / y.quant.scale[0];
      const int32_t lo = x.dtype == DataType::u8 ? 0 : -128;
      for (int32_t c = lo; c < lo + 256; ++c) {
        float real = fn_(x.quant.scale[0] * static_cast<float>(c - x.quant.zero_point[0]));
        float v = real * inv + static_cast<float>(y.quant.zero_point[0]);
        table_[c - lo] = y.dtype == DataType::u8 ? q::saturate_round<uint8_t>(v)
                                                 : static_cast<uint8_t>(q::saturate_round<int8_t>(v));
      }
    }
  }
  void run(const KernelArgs& args) override {
    const Tensor& x = *args.in[0];
    Tensor& y = *args.out[0];
    const int64_t n = x.elements();
    if (node_.precision == Precision::Int8Static) {
      const uint8_t* src = static_cast<const uint8_t*>(x.data);
      uint8_t* dst = static_cast<uint8_t*>(y.data);
      const int off = x.dtype == DataType::u8 ? 0 : 128;   // s8 code c sits at table[c + 128]
      for (int64_t i = 0; i < n; ++i) dst[i] = table_[static_cast<uint8_t>(src[i] + off)];
      return;
    }
    if (y.dtype == DataType::boolean && x.dtype == DataType::f32) {   // IsNaN, IsInf
      for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(y.data)[i] = fn_(x.as<float>()[i]) != 0;
      return;
    }
    switch (x.dtype) {
      case DataType::f32:
        for (int64_t i = 0; i < n; ++i) y.as<float>()[i] = fn_(x.as<float>()[i]);
        break;
      case DataType::s32:
        for (int64_t i = 0; i < n; ++i) y.as<int32_t>()[i] = unary_int(node_.op, x.as<int32_t>()[i]);
        break;
      case DataType::i64:
        for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = unary_int(node_.op, x.as<int64_t>()[i]);
        break;
      case DataType::boolean:   // Not
        for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(y.data)[i] = static_cast<const uint8_t*>(x.data)[i] == 0;
        break;
      default:
        node_error(node_, "unsupported dtype");
    }
  }

 private:
  const NodeDef& node_;
  UnaryFn fn_;
  uint8_t table_[256] = {};
};
}  // namespace

std::vector<UnaryAttr> unary_float_attrs(OpKind op) {
  switch (op) {
    case OpKind::LeakyRelu: return {{"alpha", 0.01f}};
    case OpKind::HardSigmoid: return {{"alpha", 0.2f}, {"beta", 0.5f}};
    case OpKind::Elu: case OpKind::Celu: case OpKind::ThresholdedRelu: return {{"alpha", 1.f}};
    case OpKind::Selu: return {{"alpha", 1.67326319217681884765625f}, {"gamma", 1.05070102214813232421875f}};
    case OpKind::Shrink: return {{"lambd", 0.5f}, {"bias", 0.f}};
    default: return {};
  }
}

bool unary_gives_bool(OpKind op) { return op == OpKind::IsNaN || op == OpKind::IsInf; }

UnaryParams unary_params(OpKind op, const Attrs& attrs) {
  UnaryParams p;
  const std::vector<UnaryAttr> fa = unary_float_attrs(op);
  if (fa.size() > 0) p.alpha = attrs.get_float(fa[0].name, fa[0].default_value);
  if (fa.size() > 1) p.beta = attrs.get_float(fa[1].name, fa[1].default_value);
  if (op == OpKind::Clip) p.alpha = attrs.get_float("min", -INFINITY), p.beta = attrs.get_float("max", INFINITY);
  if (op == OpKind::IsInf)
    p.alpha = static_cast<float>(attrs.get_int("detect_negative", 1)), p.beta = static_cast<float>(attrs.get_int("detect_positive", 1));
  if (op == OpKind::Gelu) p.tanh_gelu = attrs.get_string("approximate", "none") == "tanh";
  return p;
}

float unary_value(OpKind op, float x, const UnaryParams& p) {
  switch (op) {
    case OpKind::Relu: return x > 0 ? x : 0.f;
    case OpKind::LeakyRelu: return x >= 0 ? x : p.alpha * x;
    case OpKind::Clip: return std::min(std::max(x, p.alpha), p.beta);
    case OpKind::Sigmoid: return sigmoid(x);
    case OpKind::Tanh: return std::tanh(x);
    case OpKind::HardSwish: return hard_swish(x);
    case OpKind::HardSigmoid: return hard_sigmoid(x, p.alpha, p.beta);
    case OpKind::Gelu: return p.tanh_gelu ? gelu_tanh(x) : gelu_erf(x);
    case OpKind::Erf: return std::erf(x);
    case OpKind::Exp: return std::exp(x);
    case OpKind::Log: return std::log(x);
    case OpKind::Sqrt: return std::sqrt(x);
    case OpKind::Neg: return -x;
    case OpKind::Abs: return std::fabs(x);
    case OpKind::Reciprocal: return 1.f / x;
    case OpKind::Sin: return std::sin(x);
    case OpKind::Cos: return std::cos(x);
    case OpKind::Tan: return std::tan(x);
    case OpKind::Asin: return std::asin(x);
    case OpKind::Acos: return std::acos(x);
    case OpKind::Atan: return std::atan(x);
    case OpKind::Sinh: return std::sinh(x);
    case OpKind::Cosh: return std::cosh(x);
    case OpKind::Asinh: return std::asinh(x);
    case OpKind::Acosh: return std::acosh(x);
    case OpKind::Atanh: return std::atanh(x);
    case OpKind::Floor: return std::floor(x);
    case OpKind::Ceil: return std::ceil(x);
    case OpKind::Round: return std::nearbyint(x);   // ONNX rounds halves to even, as the default rounding mode does
    case OpKind::Sign: return x > 0 ? 1.f : x < 0 ? -1.f : x;   // NaN stays NaN
    case OpKind::Softplus: return x > 20.f ? x : std::log1p(std::exp(x));   // log(1 + e^x) without overflowing e^x
    case OpKind::Softsign: return x / (1.f + std::fabs(x));
    case OpKind::Elu: return x >= 0 ? x : p.alpha * std::expm1(x);
    case OpKind::Selu: return x > 0 ? p.beta * x : p.beta * p.alpha * std::expm1(x);
    case OpKind::Celu: return std::max(0.f, x) + std::min(0.f, p.alpha * std::expm1(x / p.alpha));
    case OpKind::ThresholdedRelu: return x > p.alpha ? x : 0.f;
    case OpKind::Shrink: return x < -p.alpha ? x + p.beta : x > p.alpha ? x - p.beta : 0.f;
    case OpKind::Not: return x == 0 ? 1.f : 0.f;
    case OpKind::IsNaN: return std::isnan(x) ? 1.f : 0.f;
    case OpKind::IsInf: return std::isinf(x) && (x < 0 ? p.alpha != 0 : p.beta != 0) ? 1.f : 0.f;
    default:   // a Unary op added to op_table.def without its formula here: fail loudly, never pass x through
      throw Error(std::string(op_name(op)) + " has no formula in unary_value() (kernels/reference/elementwise_ref.cc)");
  }
}

std::unique_ptr<Kernel> make_binary(const KernelContext& ctx) { return std::make_unique<BinaryRef>(ctx); }
std::unique_ptr<Kernel> make_unary(const KernelContext& ctx) { return std::make_unique<UnaryRef>(ctx); }

}  // namespace octet::ref
