// octet convert: ONNX -> octet model (JSON + .bin), int8 (calibrated) or float.
#include <iostream>

#include "commands.h"
#include "convert.h"

namespace octet::cli {

namespace {
std::vector<float> parse_floats(const std::string& s, const char* what) {
  std::vector<float> v;
  for (const auto& item : split_list(s)) {
    try {
      size_t used = 0;
      v.push_back(std::stof(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error(std::string(what) + ": '" + item + "' is not a number");
    }
  }
  return v;
}
}  // namespace

Command add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Convert an ONNX model (opset 1-21) into an octet model: NAME.json + NAME.bin");
  auto o = std::make_shared<converter::ConvertOptions>();
  auto method = std::make_shared<std::string>("mse");   // best or tied on digits, ResNet-18, MobileNetV2 (README)
  auto size = std::make_shared<std::string>();
  auto mean = std::make_shared<std::string>(), stdv = std::make_shared<std::string>();
  auto layout = std::make_shared<std::string>("nchw");
  auto float_ops = std::make_shared<std::string>(), float_nodes = std::make_shared<std::string>();
  auto grayscale = std::make_shared<bool>(false);
  cmd->add_option("model", o->input, "ONNX model file")->required();
  cmd->add_option("-o,--output", o->output, "output graph file NAME.json (NAME.bin is written beside it)")->required();
  cmd->add_option("--precision", o->precision, "int8 (calibrated) or float (same fused graph, no quantization)")
      ->check(CLI::IsMember({"int8", "float"}))->capture_default_str();
  cmd->add_option("--calib", o->calib_dir,
                  "directory of calibration samples: .npy (one input), .npz (keys = input names) or images");
  cmd->add_option("--calib-method", *method, "activation range method")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy", "mse"}))->capture_default_str();
  cmd->add_option("--percentile", o->calib.percentile, "percentile for --calib-method percentile")
      ->check(CLI::Range(50.0, 100.0))->capture_default_str();
  cmd->add_option("--calib-samples", o->calib_samples, "use at most N calibration files (0 = all)")->capture_default_str();
  cmd->add_option("--threads", o->calib.threads, "threads for running the model during calibration")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--float-ops", *float_ops, "comma-separated op types to keep in float (e.g. Add,Concat)");
  cmd->add_option("--float-nodes", *float_nodes, "comma-separated node names (octet or ONNX) to keep in float");
  auto* img = cmd->add_option_group("images", "preprocessing of image calibration files");
  img->add_option("--size", *size, "resize images to WxH (or N for NxN)");
  img->add_option("--mean", *mean, "per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406");
  img->add_option("--std", *stdv, "per-channel std divided by, e.g. 0.229,0.224,0.225");
  img->add_option("--scale", o->image.scale, "pixel scale applied before mean/std")->capture_default_str();
  img->add_option("--layout", *layout, "tensor layout of the model input")->check(CLI::IsMember({"nchw", "nhwc"}))->capture_default_str();
  img->add_flag("--grayscale", *grayscale, "decode images as one channel");
  cmd->add_option("--weight-bits", o->weight_bits,
                  "int8 weight range: 8 = [-127, 127] (most accurate); 7 = [-64, 64], which oneDNN's AVX2 (non-VNNI) "
                  "kernels compute exactly, where 8-bit convolutions run on octet's own exact kernel instead")
      ->check(CLI::IsMember({7, 8}))->capture_default_str();
  cmd->add_option("--dynamic", o->dynamic,
                  "dynamic int8 (weights s8, activations quantized at run time): auto = LSTM/GRU/RNN, and FullyConnected (MatMul/Gemm with constant weights) in recurrent or attention models; all = also every FullyConnected; none")
      ->check(CLI::IsMember({"auto", "all", "none"}))->capture_default_str();
  cmd->add_option("--attention-matmul", o->attention_matmul,
                  "attention's activation x activation MatMuls (Q x K^T, scores x V): float, or int8 with both operands "
                  "quantized at run time. float is the default: exact, and as fast on x86 without VNNI")
      ->check(CLI::IsMember({"float", "int8"}))->capture_default_str();
  cmd->add_option("--dynamic-input", o->dynamic_input,
                  "how dynamic FullyConnected, LSTM, GRU and RNN nodes quantize their input at run time: per-tensor "
                  "(one scale and zero point), or per-row (one per row, i.e. per token or time step: more accurate at "
                  "the same speed; cosine vs float of the 4-layer encoder 0.99991 -> 0.99994, of the 2-layer LSTM "
                  "0.99995 -> 0.99997)")
      ->check(CLI::IsMember({"per-tensor", "per-row"}))->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "no summary");
  return [=]() {
    if (!converter::parse_calib_method(*method, &o->calib.method)) throw Error("unknown --calib-method " + *method);
    if (!size->empty()) {
      auto x = size->find('x');
      try {
        o->image.width = std::stoi(size->substr(0, x));
        o->image.height = x == std::string::npos ? o->image.width : std::stoi(size->substr(x + 1));
      } catch (const std::exception&) {
        throw Error("--size must be WxH or N, got '" + *size + "'");
      }
      if (o->image.width <= 0 || o->image.height <= 0) throw Error("--size must be positive");
    }
    if (!mean->empty()) o->image.mean = parse_floats(*mean, "--mean");
    if (!stdv->empty()) o->image.std = parse_floats(*stdv, "--std");
    for (float s : o->image.std) if (!(s > 0)) throw Error("--std values must be positive");
    o->image.nchw = *layout == "nchw";
    o->image.channels = *grayscale ? 1 : 3;
    for (const auto& s : split_list(*float_ops)) o->float_ops.insert(s);
    for (const auto& s : split_list(*float_nodes)) o->float_nodes.insert(s);
    converter::convert(*o, std::cout);
    return 0;
  };
}

}  // namespace octet::cli
