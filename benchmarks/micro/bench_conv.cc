// Convolutions, as a MobileNetV2 inverted-residual block at 56x56 (1x1 expand 24 -> 144 + Relu6,
// 3x3 depthwise + Relu6, 1x1 project 144 -> 24): BM_MobileNetV2Block/<backend>/<dtype>_56x56x24,
// int8 with u8 activations (sign flips around every conv on backends that want s8), int8 with s8
// activations, and the float block they replace. 7-bit weights per output channel, as the
// converter's --weight-bits 7 writes them (oneDNN's own kernels on any x86 ISA). GOPS counts
// 2 x multiply-adds of the three convolutions.
#include "micro_util.h"

namespace octet::micro {

namespace {

constexpr int64_t kH = 56, kC = 24, kE = 144;

std::shared_ptr<const Model> block(DataType t) {
  const bool is_float = t == DataType::f32;
  const std::string precision = is_float ? "float" : "int8_static";
  const int32_t off = t == DataType::s8 ? -128 : 0;   // s8 codes: the u8 zero points shifted
  auto q = [&](float s, int32_t z) { return is_float ? QuantInfo{} : per_tensor(s, z + off); };
  ModelWriter w;
  auto tensor = [&](const std::string& name, int64_t c, QuantInfo qi) {
    w.add_tensor({name, t, {"batch", kH, kH, c}, std::move(qi), {}, false});
  };
  tensor("x", kC, q(0.02f, 128));
  auto conv = [&](const std::string& name, const std::string& in, int64_t ci, int64_t co, int64_t k, int64_t group,
                  const std::string& out, bool relu6) {
    const int64_t cg = ci / group;
    const std::vector<ModelWriter::Dim> wshape{co, k, k, cg}, bshape{co};
    const size_t wn = static_cast<size_t>(co * k * k * cg);
    if (is_float) {
      w.add_tensor({name + ".w", DataType::f32, wshape, {}, random_f32(wn, -0.3f, 0.3f, 1), true});
      w.add_tensor({name + ".b", DataType::f32, bshape, {}, random_f32(static_cast<size_t>(co), -0.1f, 0.1f, 2), true});
    } else {
      w.add_tensor({name + ".w", DataType::s8, wshape, per_channel(std::vector<float>(static_cast<size_t>(co), 0.002f)),
                    random_s8(wn, -64, 64, 1), true});
      w.add_tensor({name + ".b", DataType::s32, bshape, {}, random_s32(static_cast<size_t>(co), -1000, 1000, 2), true});
    }
    tensor(out, co, q(0.03f, relu6 ? 0 : 128));
    const int64_t p = k / 2;
    w.add_node({name, "Conv", {in, name + ".w", name + ".b"}, {out},
                {{"strides", {1, 1}}, {"pads", {p, p, p, p}}, {"dilations", {1, 1}}, {"group", group}},
                relu6 ? nlohmann::json{{"op", "Clip"}, {"min", 0}, {"max", 6}} : nlohmann::json(nullptr), precision});
  };
  conv("expand", "x", kC, kE, 1, 1, "e", true);
  conv("dw", "e", kE, kE, 3, kE, "d", true);
  conv("project", "d", kE, kC, 1, 1, "y", false);
  w.set_inputs({"x"});
  w.set_outputs({"y"});
  std::string json;
  std::vector<uint8_t> bin;
  w.serialize("micro.bin", &json, &bin);
  return Model::from_memory(json, std::move(bin), "micro");
}

}  // namespace

void register_conv_benchmarks() {
  const double macs = double(kH * kH) * (kC * kE + kE * 9 + kE * kC);
  const size_t n = static_cast<size_t>(kH * kH * kC);
  for (DataType t : {DataType::u8, DataType::s8, DataType::f32}) {
    const size_t es = dtype_size(t);
    std::vector<uint8_t> x = t == DataType::f32 ? random_f32(n, -1, 1, 1)
                             : t == DataType::u8 ? random_u8(n, 1)
                                                 : random_s8(n, -128, 127, 1);
    const Work work{0, double(2 * n * es), 2 * macs};
    register_model("BM_MobileNetV2Block", std::string(dtype_name(t)) + "_" + dims({kH, kH, kC}), block(t),
                   {Feed{"x", t, {1, kH, kH, kC}, std::move(x)}}, work);
  }
}

}  // namespace octet::micro
