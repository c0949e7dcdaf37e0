#include "ir.h"

#include <cmath>
#include <cstring>
#include <functional>

namespace octet::converter {

void fail(const Node& n, const std::string& what) { throw Error(n.label() + ": " + what); }

int64_t Constant::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> Constant::floats() const {
  const int64_t n = elements();
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DataType::f32: v[i] = as<float>()[i]; break;
      case DataType::u8: v[i] = as<uint8_t>()[i]; break;
      case DataType::s8: v[i] = as<int8_t>()[i]; break;
      case DataType::s32: v[i] = static_cast<float>(as<int32_t>()[i]); break;
      case DataType::i64: v[i] = static_cast<float>(as<int64_t>()[i]); break;
      case DataType::boolean: v[i] = as<uint8_t>()[i] ? 1.f : 0.f; break;
    }
  }
  return v;
}

std::vector<int64_t> Constant::ints() const {
  const int64_t n = elements();
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DataType::f32: {
        float f = as<float>()[i];
        v[i] = std::isfinite(f) ? static_cast<int64_t>(f) : 0;
        break;
      }
      case DataType::u8: v[i] = as<uint8_t>()[i]; break;
      case DataType::s8: v[i] = as<int8_t>()[i]; break;
      case DataType::s32: v[i] = as<int32_t>()[i]; break;
      case DataType::i64: v[i] = as<int64_t>()[i]; break;
      case DataType::boolean: v[i] = as<uint8_t>()[i] ? 1 : 0; break;
    }
  }
  return v;
}

Constant Constant::of_floats(std::vector<int64_t> shape, const std::vector<float>& v) {
  Constant c{DataType::f32, std::move(shape), std::vector<uint8_t>(v.size() * 4)};
  if (!v.empty()) std::memcpy(c.bytes.data(), v.data(), c.bytes.size());
  return c;
}

Constant Constant::of_ints(std::vector<int64_t> shape, const std::vector<int64_t>& v) {
  Constant c{DataType::i64, std::move(shape), std::vector<uint8_t>(v.size() * 8)};
  if (!v.empty()) std::memcpy(c.bytes.data(), v.data(), c.bytes.size());
  return c;
}

std::optional<std::vector<int64_t>> IrTensor::static_shape() const {
  if (!shape_known) return std::nullopt;
  std::vector<int64_t> s;
  for (const Dim& d : shape) {
    if (!d.is_fixed()) return std::nullopt;
    s.push_back(d.value);
  }
  return s;
}

int64_t Node::attr_int(const char* k, int64_t d) const {
  return attrs.contains(k) && attrs[k].is_number() ? attrs[k].get<int64_t>() : d;
}
float Node::attr_float(const char* k, float d) const {
  return attrs.contains(k) && attrs[k].is_number() ? attrs[k].get<float>() : d;
}
std::string Node::attr_string(const char* k, const std::string& d) const {
  return attrs.contains(k) && attrs[k].is_string() ? attrs[k].get<std::string>() : d;
}
std::vector<int64_t> Node::attr_ints(const char* k, std::vector<int64_t> d) const {
  if (!attrs.contains(k) || !attrs[k].is_array()) return d;
  return attrs[k].get<std::vector<int64_t>>();
}

IrTensor& Graph::tensor(const std::string& name) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("internal: unknown tensor '" + name + "'");
  return it->second;
}

const IrTensor& Graph::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("internal: unknown tensor '" + name + "'");
  return it->second;
}

IrTensor& Graph::add_tensor(IrTensor t) {
  if (tensors_.count(t.name)) throw Error("internal: tensor '" + t.name + "' added twice");
  used_names_.insert(t.name);
  std::string n = t.name;
  return tensors_.emplace(n, std::move(t)).first->second;
}

std::string Graph::unique_name(const std::string& base) {
  if (!used_names_.count(base) && !tensors_.count(base)) {
    used_names_.insert(base);
    return base;
  }
  for (;;) {
    std::string n = base + "_" + std::to_string(++name_counter_);
    if (!used_names_.count(n) && !tensors_.count(n)) {
      used_names_.insert(n);
      return n;
    }
  }
}

const Constant* Graph::constant(const std::string& name) const {
  if (name.empty() || !has_tensor(name)) return nullptr;
  const IrTensor& t = tensor(name);
  return t.value ? &*t.value : nullptr;
}

std::string Graph::add_constant(const std::string& base, Constant c) {
  IrTensor t;
  t.name = unique_name(base);
  t.dtype = c.dtype;
  for (int64_t d : c.shape) t.shape.push_back(Dim::fixed(d));
  t.shape_known = true;
  t.value = std::move(c);
  std::string n = t.name;
  add_tensor(std::move(t));
  return n;
}

int Graph::producer(const std::string& t) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (o == t) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::consumers(const std::string& t) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& in : nodes[i].inputs)
      if (in == t) {
        out.push_back(static_cast<int>(i));
        break;
      }
  return out;
}

bool Graph::is_graph_output(const std::string& t) const {
  for (const auto& o : outputs) if (o == t) return true;
  return false;
}

void Graph::replace_uses(const std::string& from, const std::string& to) {
  for (Node& n : nodes)
    for (auto& in : n.inputs)
      if (in == from) in = to;
  for (auto& o : outputs)
    if (o == from) o = to;
}

void Graph::remove_dead() {
  std::set<std::string> live(outputs.begin(), outputs.end());
  std::vector<bool> keep(nodes.size(), false);
  for (size_t k = nodes.size(); k-- > 0;) {
    bool used = false;
    for (const auto& o : nodes[k].outputs) used = used || (!o.empty() && live.count(o));
    if (!used) continue;
    keep[k] = true;
    for (const auto& in : nodes[k].inputs) if (!in.empty()) live.insert(in);
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes.size(); ++k) if (keep[k]) kept.push_back(std::move(nodes[k]));
  nodes = std::move(kept);
  for (const auto& i : inputs) live.insert(i);
  for (auto it = tensors_.begin(); it != tensors_.end();) {
    bool produced = false;
    for (const Node& n : nodes)
      for (const auto& o : n.outputs) produced = produced || o == it->first;
    if (!live.count(it->first) && !produced) it = tensors_.erase(it);
    else ++it;
  }
}

void Graph::toposort() {
  std::map<std::string, int> prod;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs) if (!o.empty()) prod[o] = static_cast<int>(i);
  std::vector<int> state(nodes.size(), 0);   // 0 new, 1 visiting, 2 done
  std::vector<Node> sorted;
  std::function<void(int)> visit = [&](int i) {
    if (state[i] == 2) return;
    if (state[i] == 1) throw Error("the graph has a cycle through " + nodes[i].label());
    state[i] = 1;
    for (const auto& in : nodes[i].inputs) {
      auto it = prod.find(in);
      if (it != prod.end()) visit(it->second);
    }
    state[i] = 2;
    sorted.push_back(nodes[i]);
  };
  for (size_t i = 0; i < nodes.size(); ++i) visit(static_cast<int>(i));
  nodes = std::move(sorted);
}

std::optional<DataType> cast_target_dtype(int64_t onnx_to) {
  switch (onnx_to) {
    case 1: case 10: case 11: return DataType::f32;    // FLOAT, FLOAT16, DOUBLE
    case 7: case 12: return DataType::i64;             // INT64, UINT32
    case 6: case 5: case 4: return DataType::s32;      // INT32, INT16, UINT16
    case 9: return DataType::boolean;
    default: return std::nullopt;
  }
}

std::string unknown_shape_origin(const Graph& g, const std::string& t) {
  std::string at = t;
  for (int guard = 0; guard < 100000; ++guard) {
    const int p = g.producer(at);
    if (p < 0) return "tensor '" + at + "'";
    const Node& n = g.nodes[p];
    std::string next;
    for (const auto& in : n.inputs)
      if (!in.empty() && g.has_tensor(in) && !g.tensor(in).shape_known) next = in;
    if (next.empty()) return n.label();
    at = next;
  }
  return "tensor '" + t + "'";
}

}  // namespace octet::converter
