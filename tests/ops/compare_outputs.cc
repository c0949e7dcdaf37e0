#include "compare_outputs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tolerances.h"

namespace octet::test {

namespace {
bool is_8bit(DataType t) { return t == DataType::u8 || t == DataType::s8; }
bool is_integer(DataType t) { return t != DataType::f32; }
}  // namespace

int32_t qmin(DataType t) { return t == DataType::u8 ? 0 : -128; }
int32_t qmax(DataType t) { return t == DataType::u8 ? 255 : 127; }

int64_t code_at(const NdArray& a, int64_t i) {
  switch (a.dtype) {
    case DataType::u8: case DataType::boolean: return a.as<uint8_t>()[i];
    case DataType::s8: return a.as<int8_t>()[i];
    case DataType::s32: return a.as<int32_t>()[i];
    case DataType::i64: return a.as<int64_t>()[i];
    default: return 0;
  }
}

NdArray dequantized(const NdArray& codes, const QuantInfo& q) {
  if (!is_8bit(codes.dtype) || q.empty()) return codes;
  NdArray r{DataType::f32, codes.shape, std::vector<uint8_t>(static_cast<size_t>(codes.elements()) * 4)};
  // Per channel along `axis`: the channel of element i is (i / inner) % channels.
  int64_t inner = 1, channels = 1;
  if (q.axis >= 0) {
    channels = codes.shape[static_cast<size_t>(q.axis)];
    for (size_t d = static_cast<size_t>(q.axis) + 1; d < codes.shape.size(); ++d) inner *= codes.shape[d];
  }
  for (int64_t i = 0; i < codes.elements(); ++i) {
    const size_t c = q.axis >= 0 ? static_cast<size_t>((i / inner) % channels) : 0;
    const int32_t zp = q.zero_point.size() > c ? q.zero_point[c] : q.zero_point.empty() ? 0 : q.zero_point[0];
    r.as<float>()[i] = q.scale[c] * static_cast<float>(code_at(codes, i) - zp);
  }
  return r;
}

void check_not_trivial(const NdArray& y, const std::string& what) {
  if (y.dtype != DataType::f32 && !is_8bit(y.dtype)) return;
  std::set<double> distinct;
  int64_t saturated = 0;
  for (int64_t i = 0; i < y.elements() && distinct.size() < 3; ++i) {
    const double v = y.dtype == DataType::f32 ? static_cast<double>(y.as<float>()[i]) : static_cast<double>(code_at(y, i));
    if (std::isfinite(v)) distinct.insert(v);   // NaN and Inf say nothing about the values
  }
  if (is_8bit(y.dtype))
    for (int64_t i = 0; i < y.elements(); ++i) saturated += code_at(y, i) == qmin(y.dtype) || code_at(y, i) == qmax(y.dtype);
  CHECK_MESSAGE(distinct.size() >= 3, "MISTRUSTED " << what << ": the reference output has fewer than 3 distinct values");
  CHECK_MESSAGE(saturated * 2 < y.elements(),
                "MISTRUSTED " << what << ": " << saturated << " of " << y.elements() << " reference codes saturated");
}

double output_difference(const NdArray& got, const NdArray& want) {
  if (got.dtype != want.dtype || got.shape != want.shape) return INFINITY;
  if (got.dtype == DataType::f32) return max_rel_diff(got, want, 1.0);
  double worst = 0;
  for (int64_t i = 0; i < got.elements(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(code_at(got, i) - code_at(want, i))));
  return worst;
}

double check_within_tolerance(OpKind op, const std::string& impl, const std::string& activation, const NdArray& got,
                              const NdArray& want, const std::string& what) {
  const ToleranceRule* rule = find_tolerance(op, impl, activation);
  CHECK_MESSAGE(rule != nullptr, "no tolerance for " << impl << " (" << std::string(op_name(op)) << ", activation '" << activation
                                                     << "') in tests/ops/tolerances.h");
  CHECK_MESSAGE(got.dtype == want.dtype,
                what << ": dtype " << std::string(dtype_name(got.dtype)) << ", reference " << std::string(dtype_name(want.dtype)));
  CHECK_MESSAGE(got.shape == want.shape, what << ": shape differs from the reference's");
  const double d = output_difference(got, want);
  if (rule) {
    const double bound = is_integer(want.dtype) ? static_cast<double>(rule->lsb) : rule->rel;
    CHECK_MESSAGE(d <= bound, what << " on " << impl << ": " << d << std::string(is_integer(want.dtype) ? " LSB" : " relative")
                                   << " from the reference, tolerance " << bound << " (" << std::string(rule->why) << ")");
  }
  return d;
}

}  // namespace octet::test
