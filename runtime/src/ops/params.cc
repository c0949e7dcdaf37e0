#include "ops/params.h"

#include <algorithm>
#include <cmath>

#include "ops/op_spec.h"

namespace octet {

namespace {
std::vector<int64_t> pair_attr(const NodeDef& n, const char* key, int64_t fallback) {
  auto v = n.attrs.get_ints(key, {fallback, fallback});
  if (v.size() != 2) n.attrs.fail(key, "must have 2 values (height, width)");
  return v;
}
std::vector<int64_t> pads_attr(const NodeDef& n) {
  auto v = n.attrs.get_ints("pads", {0, 0, 0, 0});
  if (v.size() != 4) n.attrs.fail("pads", "must have 4 values [top, left, bottom, right]");
  for (int64_t p : v) if (p < 0) n.attrs.fail("pads", "must not be negative");
  return v;
}
}  // namespace

bool dynamic_input_per_row(const NodeDef& n) {
  const std::string q = n.attrs.get_string("input_quant", "per_tensor");
  if (q != "per_tensor" && q != "per_row") n.attrs.fail("input_quant", "must be per_tensor or per_row, not '" + q + "'");
  return q == "per_row";
}

ConvParams parse_conv(const NodeDef& n) {
  ConvParams p;
  auto s = pair_attr(n, "strides", 1), d = pair_attr(n, "dilations", 1), pads = pads_attr(n);
  p.stride_h = s[0], p.stride_w = s[1];
  p.dil_h = d[0], p.dil_w = d[1];
  p.pad_t = pads[0], p.pad_l = pads[1], p.pad_b = pads[2], p.pad_r = pads[3];
  p.group = n.attrs.get_int("group", 1);
  if (n.op == OpKind::ConvTranspose) {
    auto op = n.attrs.get_ints("output_padding", {0, 0});
    if (op.size() != 2) n.attrs.fail("output_padding", "must have 2 values");
    p.out_pad_h = op[0], p.out_pad_w = op[1];
    if (p.out_pad_h < 0 || p.out_pad_w < 0) n.attrs.fail("output_padding", "must not be negative");
  }
  if (p.stride_h < 1 || p.stride_w < 1) n.attrs.fail("strides", "must be >= 1");
  if (p.dil_h < 1 || p.dil_w < 1) n.attrs.fail("dilations", "must be >= 1");
  if (p.group < 1) n.attrs.fail("group", "must be >= 1");
  return p;
}

int64_t conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pb, int64_t pe, int64_t dil) {
  int64_t span = dil * (k - 1) + 1;
  int64_t padded = in + pb + pe;
  if (padded < span) return 0;
  return (padded - span) / stride + 1;
}

int64_t deconv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pb, int64_t pe, int64_t dil, int64_t out_pad) {
  return stride * (in - 1) + out_pad + dil * (k - 1) + 1 - pb - pe;
}

PoolParams parse_pool(const NodeDef& n) {
  PoolParams p;
  auto k = n.attrs.get_ints("kernel_shape");
  if (k.size() != 2) n.attrs.fail("kernel_shape", "must have 2 values (height, width)");
  p.kernel_h = k[0], p.kernel_w = k[1];
  if (p.kernel_h < 1 || p.kernel_w < 1) n.attrs.fail("kernel_shape", "must be >= 1");
  auto s = pair_attr(n, "strides", 1), d = pair_attr(n, "dilations", 1), pads = pads_attr(n);
  p.stride_h = s[0], p.stride_w = s[1];
  p.dil_h = d[0], p.dil_w = d[1];
  p.pad_t = pads[0], p.pad_l = pads[1], p.pad_b = pads[2], p.pad_r = pads[3];
  if (p.stride_h < 1 || p.stride_w < 1) n.attrs.fail("strides", "must be >= 1");
  if (p.dil_h < 1 || p.dil_w < 1) n.attrs.fail("dilations", "must be >= 1");
  if (p.pad_t >= p.kernel_h || p.pad_b >= p.kernel_h || p.pad_l >= p.kernel_w || p.pad_r >= p.kernel_w)
    n.attrs.fail("pads", "must be smaller than the kernel");
  p.ceil_mode = n.attrs.get_int("ceil_mode", 0) != 0;
  p.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0;
  return p;
}

int64_t pool_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pb, int64_t pe, int64_t dil, bool ceil_mode) {
  int64_t span = dil * (k - 1) + 1;
  int64_t padded = in + pb + pe - span;
  if (padded < 0) return 0;
  int64_t out = (ceil_mode ? (padded + stride - 1) / stride : padded / stride) + 1;
  // The last window must start inside the input or its leading padding (PyTorch and ONNX rule).
  if (ceil_mode && (out - 1) * stride >= in + pb) --out;
  return out;
}

SliceParams parse_slice(const NodeDef& n) {
  SliceParams p;
  p.starts = n.attrs.get_ints("starts");
  p.ends = n.attrs.get_ints("ends");
  if (p.starts.size() != p.ends.size()) n.attrs.fail("ends", "must have as many values as 'starts'");
  std::vector<int64_t> dflt_axes(p.starts.size());
  for (size_t i = 0; i < dflt_axes.size(); ++i) dflt_axes[i] = static_cast<int64_t>(i);
  p.axes = n.attrs.get_ints("axes", dflt_axes);
  p.steps = n.attrs.get_ints("steps", std::vector<int64_t>(p.starts.size(), 1));
  if (p.axes.size() != p.starts.size()) n.attrs.fail("axes", "must have as many values as 'starts'");
  if (p.steps.size() != p.starts.size()) n.attrs.fail("steps", "must have as many values as 'starts'");
  for (int64_t s : p.steps) if (s == 0) n.attrs.fail("steps", "must not be 0");
  return p;
}

int64_t matmul_batch_offset(const Shape& y, const Shape& s, int64_t bi) {
  const size_t yb = y.size() - 2, sb = s.size() - 2;
  int64_t off = 0, stride = 1;
  for (size_t d = 0; d < yb; ++d) {   // from the innermost batch dim outwards
    const int64_t idx = bi % y[yb - 1 - d];
    bi /= y[yb - 1 - d];
    if (d < sb) {
      const int64_t dim = s[sb - 1 - d];
      if (dim != 1) off += idx * stride;
      stride *= dim;
    }
  }
  return off;
}

SliceDims resolve_slice(const SliceParams& p, const Shape& in, const NodeDef& node) {
  const auto r = static_cast<int64_t>(in.size());
  SliceDims d;
  d.start.assign(in.size(), 0);
  d.step.assign(in.size(), 1);
  d.count.assign(in.begin(), in.end());
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < p.starts.size(); ++i) {
    int64_t ax = normalize_axis(p.axes[i], r, node);
    if (seen[ax]) node_error(node, "axis " + std::to_string(ax) + " is sliced twice");
    seen[ax] = true;
    int64_t dim = in[ax], step = p.steps[i];
    int64_t s = p.starts[i], e = p.ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t count = 0;   // written so that no step value overflows, and nothing of an empty dim
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > s) count = (e - s - 1) / step + 1;
    } else if (dim > 0) {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      if (s > e) count = 1 - (s - e - 1) / step;
    } else {
      s = 0;
    }
    d.start[ax] = s;
    d.step[ax] = step;
    d.count[ax] = count;
  }
  return d;
}

ResizeParams parse_resize(const NodeDef& n) {
  ResizeParams p;
  p.mode = n.attrs.get_string("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
    n.attrs.fail("mode", "must be 'nearest', 'linear' or 'cubic' (got '" + p.mode + "')");
  p.cubic_a = n.attrs.get_float("cubic_coeff_a", -0.75f);
  p.exclude_outside = n.attrs.get_int("exclude_outside", 0) != 0;
  p.antialias = n.attrs.get_int("antialias", 0) != 0;
  if (p.antialias && p.mode == "nearest") n.attrs.fail("antialias", "applies to linear and cubic modes only");
  p.coord = n.attrs.get_string("coordinate_transformation_mode", "half_pixel");
  static const char* kCoords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                                 "tf_half_pixel_for_nn"};
  if (std::find_if(std::begin(kCoords), std::end(kCoords), [&](const char* c) { return p.coord == c; }) == std::end(kCoords))
    n.attrs.fail("coordinate_transformation_mode", "'" + p.coord + "' is not supported");
  p.nearest_mode = n.attrs.get_string("nearest_mode", "round_prefer_floor");
  static const char* kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find_if(std::begin(kNearest), std::end(kNearest), [&](const char* c) { return p.nearest_mode == c; }) ==
      std::end(kNearest))
    n.attrs.fail("nearest_mode", "'" + p.nearest_mode + "' is not supported");
  p.scales = n.attrs.get_floats("scales", {});
  p.sizes = n.attrs.get_ints("sizes", {});
  if (p.scales.empty() == p.sizes.empty()) n.attrs.fail("scales", "exactly one of 'scales' and 'sizes' must be given");
  for (float s : p.scales) if (!(s > 0) || !std::isfinite(s)) n.attrs.fail("scales", "must be positive");
  for (int64_t s : p.sizes) if (s < 1) n.attrs.fail("sizes", "must be >= 1");
  return p;
}

std::pair<int64_t, int64_t> shape_range(const NodeDef& node, int64_t rank) {
  auto clamp = [&](int64_t v) { return std::max<int64_t>(0, std::min(rank, v < 0 ? v + rank : v)); };
  return {clamp(node.attrs.get_int("start", 0)), clamp(node.attrs.get_int("end", rank))};
}

}  // namespace octet
