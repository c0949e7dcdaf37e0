// The ONNX graph export-qdq builds from an octet model (the mapping is in qdq/export_qdq.h): ONNX
// names, nodes and initializers, and for every octet tensor its ONNX value. The per-family
// translators (qdq/op_exporters.h) build on it.
//
// Every octet tensor gets an ONNX value (`Val`): 8-bit activations stay 8-bit (the output of a
// QuantizeLinear, or of data movement applied to the codes), float ones float. `nchw` marks a
// rank-4 octet NHWC tensor held in ONNX as NCHW (its transpose [0,3,1,2]). Spatial ops want
// NCHW; ops that do not care about layout pass the flag through; everything else gets octet's
// layout back through an explicit Transpose.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "model/model_data.h"
#include "qdq/export_qdq.h"

namespace octet::qdq {

using onnx::TensorProto;

int onnx_type(DataType t);
inline bool is8(DataType t) { return t == DataType::u8 || t == DataType::s8; }
inline int qmin(DataType t) { return t == DataType::u8 ? 0 : -128; }
inline int qmax(DataType t) { return t == DataType::u8 ? 255 : 127; }

// NHWC axis -> NCHW axis.
inline constexpr int64_t kToNchwAxis[4] = {0, 2, 3, 1};

// Attributes of an ONNX node.
void attr_i(onnx::NodeProto* n, const char* k, int64_t v);
void attr_f(onnx::NodeProto* n, const char* k, float v);
void attr_s(onnx::NodeProto* n, const char* k, const std::string& v);
void attr_is(onnx::NodeProto* n, const char* k, const std::vector<int64_t>& v);
void attr_ss(onnx::NodeProto* n, const char* k, const std::vector<std::string>& v);

// An octet tensor's ONNX value.
struct Val {
  std::string name;
  bool nchw = false;
  bool set = false;
};

class QdqGraph {
 public:
  // The ONNX version every translation targets: the default domain's opset of the file.
  static constexpr int kOpset = 13;

  QdqGraph(const detail::ModelData& m, QdqExportReport* rep);

  // ---- the model, in the order export_qdq builds it ----
  void add_inputs();
  void begin_node(const NodeDef& n);   // the node in()/out()/refuse() refer to; counted in the report
  onnx::ModelProto finish_model();     // graph outputs (in octet's layout, octet's names), opsets

  QdqExportReport& report() { return *rep_; }
  [[noreturn]] void refuse(const std::string& why) const;   // names the current node
  void note(const std::string& s);                          // once per distinct text

  // ---- names, nodes, initializers ----
  std::string fresh(const std::string& base);   // an unused ONNX name starting with base
  onnx::NodeProto* add_node(const std::string& op, const std::vector<std::string>& ins, const std::vector<std::string>& outs,
                            const std::string& name, const std::string& domain = "");
  // One node with one new output named after `base`; returns the output.
  std::string op1(const std::string& op, const std::vector<std::string>& ins, const std::string& base,
                  onnx::NodeProto** node_out = nullptr, const std::string& domain = "");
  std::string init_raw(const std::string& base, int type, const std::vector<int64_t>& dims, const void* data, size_t bytes);
  std::string init_f(const std::string& base, const std::vector<float>& v, bool scalar);
  std::string init_i64(const std::string& base, const std::vector<int64_t>& v, bool scalar = false);
  std::string init_zp(const std::string& base, DataType dt, const std::vector<int32_t>& zp, bool scalar);

  // ---- octet tensors of the current node ----
  const TensorDef& T(int t) const { return m_.tensor(t); }
  int in(size_t i) const { return i < cur_->inputs.size() ? cur_->inputs[i] : -1; }
  int out(size_t i) const { return i < cur_->outputs.size() ? cur_->outputs[i] : -1; }
  bool is_static() const { return cur_->precision == Precision::Int8Static; }
  bool same_quant(int a, int b) const;   // same dtype, scales, zero points and axis

  // ---- values and layouts ----
  // A constant as an initializer in octet's layout (or NCHW for rank-4 data when nchw).
  std::string constant(int t, bool nchw = false);
  Val value(int t);
  // Whether t's ONNX value is a rank-4 tensor held in NCHW (layout-free ops then stay in NCHW).
  bool held_nchw(int t) { return value(t).nchw && T(t).shape.size() == 4; }
  std::string transpose(const std::string& x, const std::vector<int64_t>& perm, const std::string& base);
  std::string octet_layout(int t);   // the tensor in octet's layout
  std::string nchw(int t);           // a rank-4 NHWC octet tensor as NCHW
  std::string layout(int t, bool want_nchw) { return want_nchw ? nchw(t) : octet_layout(t); }
  void alias(int t_out, const std::string& name, bool is_nchw) { vals_[t_out] = {name, is_nchw, true}; }

  // ---- quantization ----
  // Scale and zero point initializers of an 8-bit/s32 tensor (axis remapped when NCHW).
  struct QParams {
    std::string scale, zp;
    int axis = -1;
  };
  QParams qparams(int t, bool nchw_axis);
  std::string dq_named(const std::string& x, int t, bool nchw_axis, const std::string& base);
  // Input t as float, in the requested layout (a dedicated DequantizeLinear per use).
  std::string fin(int t, bool want_nchw);
  // Finish an output: quantize into an 8-bit octet tensor, or take the float value as is.
  void finish(const std::string& x, int t, bool is_nchw);

  // ---- weights ----
  // A constant 8-bit/s32 tensor as a DequantizeLinear of its codes (or the float constant).
  std::string weight(int t, const std::string& codes_init);
  std::string ohwi_to_oihw(int t);                                  // OHWI -> OIHW (any element size)
  std::string transposed_2d(int t, const std::string& suffix);      // [rows, cols] -> [cols, rows]
  std::vector<float> dequantized(int t);   // float weights from octet's codes

 private:
  void add_io(onnx::ValueInfoProto* vi, const TensorDef& td, const std::string& name);

  const detail::ModelData& m_;
  QdqExportReport* rep_;
  onnx::ModelProto model_;
  onnx::GraphProto* g_ = nullptr;
  std::vector<Val> vals_;
  std::set<std::string> used_, reserved_, notes_;
  std::map<std::string, std::string> cache_;   // memoized initializers / transposes
  const NodeDef* cur_ = nullptr;
};

}  // namespace octet::qdq
