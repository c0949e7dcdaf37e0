// The converter as a library call: ONNX file in, octet model (JSON + .bin) out.
#pragma once

#include <ostream>
#include <set>
#include <string>

#include "calibrate/calibrate.h"
#include "io/image.h"

namespace octet::converter {

struct ConvertOptions {
  std::string input;                 // .onnx
  std::string output;                // NAME.json (NAME.bin is written beside it)
  std::string precision = "int8";    // int8 | float
  std::string calib_dir;             // required for int8
  size_t calib_samples = 0;          // 0: all files in calib_dir
  CalibrationOptions calib;
  io::ImageOptions image;            // for image calibration files
  std::set<std::string> float_ops, float_nodes;
  int weight_bits = 8;               // 8: s8 weights in [-127, 127]; 7: [-64, 64] (see quantize.h)
  // auto: dynamic int8 for LSTM/GRU/RNN, and for FullyConnected (MatMul/Gemm with constant
  // weights) in models with recurrent or attention structure; all: also every FullyConnected;
  // none: recurrent nodes stay float and FullyConnected static.
  std::string dynamic = "auto";
  // Attention's activation x activation MatMuls: float (default: as fast as int8 on x86 without
  // VNNI, and exact) or int8 (dynamic, both operands quantized at run time).
  std::string attention_matmul = "float";
  // How dynamic FullyConnected, LSTM, GRU and RNN nodes quantize their input at run time:
  // per-tensor (default: one scale and zero point) or per-row (one per row, i.e. per token or
  // time step: more accurate, at the same speed here).
  std::string dynamic_input = "per-tensor";
  bool quiet = false;                // no summary
};

struct ConvertReport {
  size_t onnx_bytes = 0, json_bytes = 0, bin_bytes = 0;
  int nodes_int8 = 0, nodes_float = 0;
  double calib_seconds = 0;
};

// Throws octet::Error with a one-line message on any failure; writes nothing on failure.
ConvertReport convert(const ConvertOptions& opts, std::ostream& log);

}  // namespace octet::converter
