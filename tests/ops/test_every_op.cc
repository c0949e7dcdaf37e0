// Every op, every precision it allows, every backend, every implementation: for each (op,
// precision) of op_table.def an example (op_examples.cc; missing ones fail) whose spec exists,
// whose model loads and whose reference kernel runs; then for every backend compiled in and every
// implementation of its list for the op (Backend::implementations, asked as the session asks
// them), supports() saying yes means make() succeeds and the kernel (reshape + run) matches the
// reference within tolerances.h. This is what guarantees "supports() says yes => create() works"
// for every entry, including those a session would never reach because an earlier one wins.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include "backend/backend.h"
#include "model/model_data.h"
#include "op_examples.h"
#include "ops/op_spec.h"
#include "ops/operands.h"
#include "ops/shape_inference.h"
#include "tolerances.h"

using namespace octet;
using namespace octet::test;

namespace {

// Tensors for running one node's kernel directly: the model's constants, the example's inputs,
// output buffers of the inferred shapes. Memory as the session gives it (session.cc): 64-byte
// aligned and rounded up to 64 bytes, which kernels may read past the end into (XNNPACK does).
struct NodeTensors {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<Tensor> tensors;
  std::vector<std::unique_ptr<uint8_t, Free>> storage;
  KernelArgs args;

  // `n`: the model's one node, its operands resolved (session.cc does that per run).
  NodeTensors(const detail::ModelData& md, const NodeDef& n, const std::map<std::string, NdArray>& inputs) {
    std::vector<Shape> shapes(md.tensors.size());
    for (size_t i = 0; i < md.tensors.size(); ++i) {
      auto it = inputs.find(md.tensors[i].name);
      shapes[i] = it != inputs.end() ? it->second.shape : md.tensors[i].shape;
    }
    std::vector<const Shape*> in;
    for (int t : n.inputs) in.push_back(t >= 0 ? &shapes[static_cast<size_t>(t)] : nullptr);
    const std::vector<Shape> out = detail::infer_node(n, md, in);
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) shapes[static_cast<size_t>(n.outputs[o])] = out[o];
    tensors.resize(md.tensors.size());
    storage.resize(md.tensors.size());
    for (size_t i = 0; i < md.tensors.size(); ++i) {
      const TensorDef& d = md.tensors[i];
      Tensor& t = tensors[i];
      t.def = &d, t.dtype = d.dtype, t.shape = shapes[i];
      if (d.is_constant()) {
        t.data = const_cast<uint8_t*>(d.data);
        continue;
      }
      const size_t bytes = (std::max<size_t>(t.bytes(), 1) + 63) / 64 * 64;
      storage[i].reset(static_cast<uint8_t*>(std::aligned_alloc(64, bytes)));
      REQUIRE(storage[i]);
      std::memset(storage[i].get(), 0xA5, bytes);   // outputs: garbage a kernel must overwrite
      auto it = inputs.find(d.name);
      if (it != inputs.end() && !it->second.bytes.empty()) std::memcpy(storage[i].get(), it->second.bytes.data(), it->second.bytes.size());
      t.data = storage[i].get();
    }
    for (int t : n.inputs) args.in.push_back(t >= 0 ? &tensors[static_cast<size_t>(t)] : nullptr);
    for (int t : n.outputs) args.out.push_back(t >= 0 ? &tensors[static_cast<size_t>(t)] : nullptr);
  }
};

// The model's one node with its operands (graph inputs in the examples) read, as a session
// reads them (ops/operands.h); the node itself when it has none.
NodeDef resolved_node(const detail::ModelData& md, const std::map<std::string, NdArray>& inputs) {
  const NodeDef& n = md.nodes.at(0);
  if (!n.has_runtime_operands) return n;
  std::vector<TensorView> in;
  for (int t : n.inputs) {
    if (t < 0) { in.emplace_back(); continue; }
    auto it = inputs.find(md.tensor(t).name);
    const NdArray* a = it != inputs.end() ? &it->second : nullptr;
    in.push_back(a ? TensorView{a->dtype, a->shape, a->bytes.data()} : TensorView{md.tensor(t).dtype, md.tensor(t).shape, md.tensor(t).data});
  }
  return with_operands(n, md, in);
}

// What one implementation did with an example, for the summary line.
std::string walk_implementation(const Backend& backend, const Impl& impl, const BuiltCase& b, const std::vector<NdArray>& want) {
  const detail::ModelData& md = b.model->data();
  const NodeDef node = resolved_node(md, b.inputs);   // outlives the kernel made below
  const std::string name = impl_name(impl, node.precision);
  INFO(std::string(backend.name()) << ": " << name);
  // As the session asks (session.cc next_supported): the backend's availability first.
  const KernelContext ctx{md, node, 1, &backend};
  const Support s = !is_reference(impl) && !backend.available().ok ? backend.available() : impl.supports(ctx);
  if (!s.ok) return name + " no (" + s.reason + ")";
  std::unique_ptr<Kernel> kernel;
  try {
    kernel = impl.make(ctx);
  } catch (const Error& e) {
    FAIL_CHECK(name << " said yes but make() threw: " << std::string(e.what()));
    return name + " MAKE FAILED";
  }
  REQUIRE(kernel);
  NodeTensors t(md, node, b.inputs);
  const Support r = kernel->reshape(t.args);
  if (!r.ok) return name + " declined these shapes";   // the session would take the next implementation
  kernel->run(t.args);
  size_t k = 0;
  for (size_t j = 0; j < t.args.out.size(); ++j) {
    const Tensor* y = t.args.out[j];
    if (!y) continue;
    const NdArray got = NdArray::copy_of(TensorView{y->dtype, y->shape, y->data});
    check_within_tolerance(node.op, name, node.activation.name(), got, want.at(k++), "output " + std::to_string(j));
  }
  return name + " ran";
}

}  // namespace

TEST_CASE("every op: each precision op_table.def allows has an example; its spec exists and its model loads") {
  std::set<std::pair<OpKind, Precision>> covered;
  for (const OpExample& e : op_examples())
    for (Precision p : e.precisions) {
      INFO(std::string(op_name(e.op)) << " " << std::string(precision_name(p)));
      CHECK_MESSAGE(op_traits(e.op).precisions.has(p), "an example for a precision the op does not allow");
      CHECK_MESSAGE(covered.insert({e.op, p}).second, "two examples for one op and precision");
      OpTester t = e.make();
      CHECK(t.op() == e.op);
      t.precision(p);
      BuiltCase b;
      CHECK_NOTHROW(b = t.build());   // the loader validated it with the op's spec
      if (b.model) CHECK(b.model->data().nodes.at(0).op == e.op);
    }
  for (size_t i = 0; i < kOpCount; ++i) {
    const OpKind op = static_cast<OpKind>(i);
    INFO(std::string(op_name(op)));
    const bool validates = op_spec(op).validate != nullptr, infers = op_spec(op).infer != nullptr;
    CHECK_MESSAGE(validates, "no validate() in its spec");
    CHECK_MESSAGE(infers, "no infer() in its spec");
    for (Precision p : {Precision::Float, Precision::Int8Static, Precision::Int8Dynamic})
      if (op_traits(op).precisions.has(p))
        CHECK_MESSAGE(covered.count({op, p}), "no example for " << std::string(op_name(op)) << " at " << std::string(precision_name(p))
                                                                << ": add one to tests/ops/op_examples.cc");
  }
}

TEST_CASE("every op: on every backend, every implementation that supports an example creates a kernel matching the reference") {
  std::vector<std::string> backends = available_backends();
  int64_t ran = 0, declined = 0, cases = 0;
  for (const OpExample& e : op_examples())
    for (Precision p : e.precisions) {
      OpTester t = e.make();
      t.precision(p);
      ++cases;
      INFO(std::string(op_name(e.op)) << " " << std::string(precision_name(p)) << " " << t.case_label());
      BuiltCase b;
      try {
        b = t.build();
      } catch (const Error& err) {
        FAIL_CHECK("the example does not build: " << std::string(err.what()));
        continue;
      }
      // The reference, through a session (its dispatch names the reference implementation).
      Session ref(b.model, {1, "reference"});
      for (const auto& [name, v] : b.inputs) ref.set_input(name, v.view());
      ref.run();
      CHECK(ref.dispatch().at(0).impl == impl_name(reference_impl(e.op), p));
      std::vector<NdArray> want;
      for (const auto& info : b.model->outputs()) want.push_back(NdArray::copy_of(ref.output(info.name)));
      if (!t.narrow_output_allowed())
        for (size_t j = 0; j < want.size(); ++j) check_not_trivial(want[j], "output " + std::to_string(j));
      std::ostringstream summary;
      for (const std::string& name : backends) {
        std::string resolved;
        const std::unique_ptr<Backend> backend = make_backend(name, 1, &resolved);
        summary << " | " << name << ":";
        for (const Impl* impl : backend->implementations(e.op)) {
          if (!impl->precisions.has(p)) continue;
          const std::string what = walk_implementation(*backend, *impl, b, want);
          summary << " " << what;
          ran += what.size() > 4 && what.compare(what.size() - 4, 4, " ran") == 0;
          declined += what.find(" no (") != std::string::npos;
        }
      }
      MESSAGE(std::string(op_name(e.op)) << " " << std::string(precision_name(p)) << summary.str());
    }
  MESSAGE(ran << " implementations ran an example, " << declined << " declined theirs");
  // Every backend's list ends with the reference implementation, which takes everything.
  CHECK(ran >= cases * static_cast<int64_t>(backends.size()));
}

TEST_CASE("every op: the tolerance table covers what runs, and a difference beyond a bound is one") {
  // Exact implementations allow nothing; oneDNN's binary ops 1 LSB; floats their relative bound.
  const ToleranceRule* simd = find_tolerance(OpKind::Conv, "qs8_conv__simd", "");
  REQUIRE(simd != nullptr);
  CHECK(simd->lsb == 0);
  const ToleranceRule* add = find_tolerance(OpKind::Add, "qs8_add__onednn", "Relu");
  REQUIRE(add != nullptr);
  CHECK(add->lsb == 1);
  const ToleranceRule* hs = find_tolerance(OpKind::Conv, "qs8_conv__onednn", "HardSwish");
  const ToleranceRule* relu = find_tolerance(OpKind::Conv, "qs8_conv__onednn", "Relu");
  REQUIRE(hs != nullptr);
  REQUIRE(relu != nullptr);
  CHECK(hs->lsb == 1);
  CHECK(relu->lsb == 0);
  CHECK(find_tolerance(OpKind::Conv, "qs8_conv__newlib", "") == nullptr);   // a new library must add its row
  CHECK(find_tolerance(OpKind::Conv, "not an implementation name", "") == nullptr);
  // output_difference, which every comparison uses: one code off is 1, a float off by 1e-3 of
  // its magnitude is about that, NaN against a number is infinite, a shape mismatch too.
  NdArray a = NdArray::of<uint8_t>(DataType::u8, {3}, {10, 20, 30}), b = a;
  CHECK(output_difference(a, b) == 0);
  b.as<uint8_t>()[1] = 21;
  CHECK(output_difference(a, b) == 1);
  NdArray f = NdArray::of<float>(DataType::f32, {2}, {1000.f, 0.f}), g = f;
  g.as<float>()[0] = 1001.f;
  CHECK(output_difference(g, f) == doctest::Approx(1.0 / 1001.0));
  g.as<float>()[1] = NAN;
  CHECK(std::isinf(output_difference(g, f)));
  CHECK(std::isinf(output_difference(a, NdArray::of<uint8_t>(DataType::u8, {1, 3}, {10, 20, 30}))));
}
