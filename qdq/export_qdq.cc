// export-qdq's driver (export_qdq.h): the octet model in, node by node through the translator of
// its op family (op_exporters.h), checked by onnx::checker, written atomically.
#include "qdq/export_qdq.h"

#include <onnx/checker.h>

#include "io/file.h"
#include "octet/octet.h"
#include "qdq/op_exporters.h"

namespace octet::qdq {

namespace {

void export_node(QdqGraph& g, const NodeDef& n) {
  switch (op_traits(n.op).family) {
    case OpFamily::Compute: return export_compute(g, n);
    case OpFamily::Pool: return export_pool(g, n);
    case OpFamily::Binary:
    case OpFamily::Compare: return export_binary(g, n);
    case OpFamily::Unary: return export_unary(g, n);
    case OpFamily::Data: return export_data(g, n);
    case OpFamily::Reduce: return export_reduce(g, n);
    case OpFamily::Norm: return export_norm(g, n);
    case OpFamily::Quant: return export_quantize(g, n);
    case OpFamily::Recurrent: return export_recurrent(g, n);
  }
  g.refuse("no ONNX translation for this op in export-qdq");
}

}  // namespace

QdqExportReport export_qdq(const std::string& model_json, const std::string& onnx_path) {
  auto model = Model::load(model_json);
  QdqExportReport rep;
  QdqGraph g(model->data(), &rep);
  g.add_inputs();
  for (const auto& n : model->data().nodes) {
    g.begin_node(n);
    export_node(g, n);
  }
  onnx::ModelProto proto = g.finish_model();
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw Error("protobuf serialization failed");
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw Error("internal error, ONNX checker rejects the exported model: " + msg.substr(0, msg.find('\n')));
  }
  io::write_file_atomic(onnx_path, bytes.data(), bytes.size());
  return rep;
}

void check_onnx_file(const std::string& onnx_path) {
  const std::vector<uint8_t> bytes = io::read_file(onnx_path);
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) throw Error(onnx_path + ": not a valid ONNX model");
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw Error(onnx_path + ": ONNX checker: " + msg.substr(0, msg.find('\n')));
  }
}

}  // namespace octet::qdq
