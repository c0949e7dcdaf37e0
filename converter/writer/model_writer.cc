#include "writer/model_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "io/file.h"
#include "model/weights_file.h"
#include "octet/format.h"
#include "octet/version.h"

namespace octet {

// checksum_hex: one definition, shared with the reader.

namespace {
std::string number(double d) {
  if (std::isfinite(d)) {
    float f = static_cast<float>(d);
    if (static_cast<double>(f) == d) {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, f);
      std::string s(buf, r.ptr);
      // Accept the short form only if it reads back (through double, as JSON readers do) as f.
      if (static_cast<float>(std::strtod(s.c_str(), nullptr)) == f) {
        if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
        return s;
      }
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  // JSON has no Inf/NaN: clamp infinities to the largest float (Clip bounds), NaN is refused.
  if (std::isnan(d)) throw Error("cannot write NaN into a model file");
  return d > 0 ? "3.4028234663852886e+38" : "-3.4028234663852886e+38";
}

template <class J>
void dump(const J& j, std::string& out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += J(it.key()).dump();
        out += ": ";
        dump(it.value(), out);
      }
      out += '}';
      break;
    }
    case nlohmann::json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += ", ";
        dump(j[i], out);
      }
      out += ']';
      break;
    }
    case nlohmann::json::value_t::number_float: out += number(j.template get<double>()); break;
    default: out += j.dump(); break;
  }
}

using ojson = nlohmann::ordered_json;
ojson ordered(const nlohmann::json& j) { return ojson::parse(j.dump()); }

// The bytes of a long scale list in the .bin: bf16 (the high half of the float) when that loses
// nothing, as for dynamic weights (quantize_dynamic.cc rounds their scales to bf16), else f32.
std::vector<uint8_t> scale_blob(const std::vector<float>& scale, const char** dtype) {
  bool bf16 = true;
  for (float v : scale) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    bf16 = bf16 && (u & 0xFFFFu) == 0;
  }
  *dtype = bf16 ? "bf16" : "f32";
  std::vector<uint8_t> out;
  for (float v : scale) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    for (int b = bf16 ? 2 : 0; b < 4; ++b) out.push_back(static_cast<uint8_t>(u >> (8 * b)));
  }
  return out;
}

// blob: where scale_blob's bytes went in the .bin (dtype, offset, bytes), or null for inline.
ojson quant_json(const QuantInfo& q, const ojson& blob) {
  ojson j = ojson::object();
  if (q.axis >= 0) {
    j["axis"] = q.axis;
    ojson s = ojson::array();
    for (float v : q.scale) s.push_back(static_cast<double>(v));
    j["scale"] = blob.is_null() ? s : blob;
    bool all_same = true;
    for (int32_t z : q.zero_point) all_same = all_same && z == q.zero_point[0];
    if (all_same) j["zero_point"] = q.zero_point.empty() ? 0 : q.zero_point[0];
    else j["zero_point"] = q.zero_point;
  } else {
    j["scale"] = static_cast<double>(q.scale.at(0));
    j["zero_point"] = q.zero_point.empty() ? 0 : q.zero_point[0];
  }
  return j;
}
}  // namespace

std::string dump_json_line(const nlohmann::json& j) {
  std::string s;
  dump(j, s);
  return s;
}

void ModelWriter::serialize(const std::string& bin_name, std::string* json_text, std::vector<uint8_t>* bin) const {
  // .bin: header, then each constant at the next 64-byte boundary, in tensor order.
  // Long per-channel scale lists follow the constants, each at a 64-byte boundary too.
  bin->assign(format::kHeaderBytes, 0);
  auto append = [&](const std::vector<uint8_t>& bytes) {
    uint64_t off = (bin->size() + format::kAlignment - 1) / format::kAlignment * format::kAlignment;
    bin->resize(off, 0);
    bin->insert(bin->end(), bytes.begin(), bytes.end());
    return off;
  };
  std::vector<std::pair<uint64_t, uint64_t>> where(tensors_.size(), {0, 0});
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].has_data) where[i] = {append(tensors_[i].data), tensors_[i].data.size()};
  std::vector<ojson> scale_where(tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const QuantInfo& q = tensors_[i].quant;
    if (q.axis < 0 || q.scale.size() <= format::kMaxInlineScales) continue;
    const char* dtype = nullptr;
    std::vector<uint8_t> bytes = scale_blob(q.scale, &dtype);
    ojson& b = scale_where[i];
    b["dtype"] = dtype;
    b["offset"] = append(bytes);
    b["bytes"] = bytes.size();
  }
  bin->resize((bin->size() + format::kAlignment - 1) / format::kAlignment * format::kAlignment, 0);
  format::BinHeader h{};
  std::memcpy(h.magic, format::kBinMagic, sizeof h.magic);
  h.version = format::kBinVersion;
  h.endian_marker = format::kEndianMarker;
  h.file_bytes = bin->size();
  std::memcpy(bin->data(), &h, sizeof h);

  std::string& o = *json_text;
  o = "{\n";
  auto field = [&](const char* key, const ojson& v, bool last = false) {
    std::string line;
    dump(v, line);
    o += "  " + ojson(key).dump() + ": " + line + (last ? "\n" : ",\n");
  };
  field("format", format::kFormatName);
  field("format_version", {format::kFormatMajor, format::kFormatMinor});
  field("producer", producer_);
  if (!source_.is_null()) field("source", ordered(source_));
  if (!conversion_.is_null()) field("conversion", ordered(conversion_));
  ojson w = ojson::object();
  w["file"] = bin_name;
  w["bytes"] = bin->size();
  w["alignment"] = format::kAlignment;
  w["checksum"] = "xxh3_64:" + checksum_hex(bin->data(), bin->size());
  field("weights", w);
  field("inputs", inputs_);
  field("outputs", outputs_);
  o += "  \"tensors\": [\n";
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorSpec& t = tensors_[i];
    ojson j = ojson::object();
    j["name"] = t.name;
    j["dtype"] = dtype_name(t.dtype);
    j["shape"] = t.shape_known ? ordered(nlohmann::json(t.shape)) : ojson(nullptr);
    if (!t.quant.empty()) j["quant"] = quant_json(t.quant, scale_where[i]);
    if (t.has_data) {
      ojson d = ojson::object();
      d["offset"] = where[i].first;
      d["bytes"] = where[i].second;
      j["data"] = d;
    }
    std::string line;
    dump(j, line);
    o += "    " + line + (i + 1 < tensors_.size() ? ",\n" : "\n");
  }
  o += "  ],\n  \"nodes\": [\n";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeSpec& n = nodes_[i];
    ojson j = ojson::object();
    j["name"] = n.name;
    j["op"] = n.op;
    j["inputs"] = n.inputs;
    j["outputs"] = n.outputs;
    if (!n.attrs.empty()) j["attrs"] = ordered(n.attrs);
    if (!n.activation.is_null()) j["activation"] = ordered(n.activation);
    j["precision"] = n.precision;
    std::string line;
    dump(j, line);
    o += "    " + line + (i + 1 < nodes_.size() ? ",\n" : "\n");
  }
  o += "  ]\n}\n";
}

std::string ModelWriter::save(const std::string& json_path) const {
  std::string stem = json_path;
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0) stem.resize(stem.size() - 5);
  std::string bin_path = stem + ".bin";
  std::string bin_name = bin_path.substr(bin_path.find_last_of('/') == std::string::npos ? 0 : bin_path.find_last_of('/') + 1);
  std::string text;
  std::vector<uint8_t> bin;
  serialize(bin_name, &text, &bin);
  // -o out/model.json into a directory that does not exist yet: make it, as `octet run -o` does.
  const std::filesystem::path dir = std::filesystem::path(json_path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec) && !std::filesystem::create_directories(dir, ec))
    throw Error(dir.string() + ": cannot create the output directory: " + ec.message());
  // The .bin first: a JSON on disk always names a complete .bin.
  io::write_file_atomic(bin_path, bin.data(), bin.size());
  io::write_file_atomic(json_path, text.data(), text.size());
  return bin_path;
}

}  // namespace octet
