// Behaviour every optimized backend shares, checked on each one compiled in: binary nodes the
// planner runs in place, a Concat whose batch changes between runs, and the requantizing Concat
// that stays on the reference kernel.
#include <doctest/doctest.h>

#include "ops/op_tester.h"
#include "session_checks.h"

using namespace octet;
using namespace octet::test;
using nlohmann::json;

TEST_CASE("binary: in place on every backend (the planner gives A and Y one buffer)") {
  // t = a + b dies at the second Add, which then runs in place (t and y share memory); c with the
  // same signedness as t and with the other one.
  for (const std::string& backend : optimized_backends())
    for (DataType ct : {DataType::u8, DataType::s8}) {
      INFO(backend << " c " << std::string(dtype_name(ct)));
      GraphBuilder g;
      const QuantInfo q = per_tensor(0.05f, 128);
      g.input("a", DataType::u8, {"batch", 4, 4, 17}, q);
      g.input("b", DataType::u8, {"batch", 4, 4, 17}, q);
      g.input("c", ct, {1, 1, 1, 17}, ct == DataType::u8 ? q : per_tensor(0.05f, 0));
      g.tensor("t", DataType::u8, {"batch", 4, 4, 17}, per_tensor(0.1f, 128));
      g.tensor("y", DataType::u8, {"batch", 4, 4, 17}, per_tensor(0.15f, 128));
      g.output("y");
      g.node("Add", {"a", "b"}, {"t"}, json::object(), "int8_static");
      g.node("Add", {"t", "c"}, {"y"}, json::object(), "int8_static");
      check_in_place(g.build(), backend,
                     {{"a", random_q8(DataType::u8, {2, 4, 4, 17}, 1)},
                      {"b", random_q8(DataType::u8, {2, 4, 4, 17}, 2)},
                      {"c", random_q8(ct, {1, 1, 1, 17}, 3)}},
                     "t", "y");
    }
}

TEST_CASE("concat: the batch changes between runs of one session, on every backend") {
  for (const std::string& backend : optimized_backends())
    for (DataType t : {DataType::f32, DataType::u8, DataType::s8}) {
      INFO(backend << " " << std::string(dtype_name(t)));
      const Q8 q = t == DataType::s8 ? Q8{DataType::s8, 0, 0.1f} : Q8{DataType::u8, 128, 0.1f};
      OpTester c(OpKind::Concat);
      c.precision(t == DataType::f32 ? Precision::Float : Precision::Int8Static).attrs({{"axis", 3}});
      c.input({2, 3, 3, 5}, q).input({2, 3, 3, 17}, q).input({2, 3, 3, 1}, q);
      if (t == DataType::f32) c.output(DataType::f32);
      else c.output(t, per_tensor(q.scale, q.zero_point));   // shared: the codes are copied
      std::vector<std::map<std::string, NdArray>> feeds;
      for (int64_t n : {2, 5, 1, 5}) {
        std::map<std::string, NdArray> f;
        int64_t i = 0;
        for (int64_t ch : {5, 17, 1}) {
          const std::vector<int64_t> shape{n, 3, 3, ch};
          f["x" + std::to_string(i)] = t == DataType::f32 ? random_f32(shape, -1, 1, 40 + i) : random_q8(t, shape, 40 + i);
          ++i;
        }
        feeds.push_back(f);
      }
      check_runs_over_feeds(c.build().model, backend, feeds);
    }
}

TEST_CASE("concat: a requantizing Concat stays on the reference kernel on every backend, saying why") {
  GraphBuilder g;
  g.input("a", DataType::u8, {1, 2, 2, 3}, per_tensor(0.1f, 128));
  g.input("b", DataType::u8, {1, 2, 2, 3}, per_tensor(0.2f, 128));
  g.tensor("y", DataType::u8, {1, 2, 2, 6}, per_tensor(0.1f, 128));
  g.output("y");
  g.node("Concat", {"a", "b"}, {"y"}, {{"axis", 3}}, "int8_static");
  const auto model = g.build();
  if (optimized_backends().empty()) MESSAGE("SKIPPED: no optimized backend in this build");
  for (const std::string& backend : optimized_backends()) {
    INFO(backend);
    const DispatchEntry d = dispatch_of(model, backend);
    CHECK(d.backend == "reference");
    CHECK(d.note.find("other quantization") != std::string::npos);
  }
}

// A tensor the file leaves to inference ("shape": null, as the converter may write for
// intermediates) gets its shape at load: rank and fixed dimensions from inference, "?" where the
// batch symbol reaches. Kernels read it at creation (XNNPACK's Concat normalized a negative axis
// with the rank of an empty shape and crashed).
TEST_CASE("a node output whose shape the file leaves to inference: shape filled at load, every backend runs it") {
  GraphBuilder g;
  for (int i = 0; i < 3; ++i) g.input("x" + std::to_string(i), DataType::f32, {"batch", 3, 3, i == 0 ? 5 : i == 1 ? 17 : 1});
  g.writer().add_tensor({"y", DataType::f32, {}, {}, {}, false, false});
  g.output("y");
  g.node("Concat", {"x0", "x1", "x2"}, {"y"}, {{"axis", -1}});
  auto model = g.build();
  const TensorInfo y = model->tensor("y");
  CHECK(y.shape == std::vector<int64_t>{-1, 3, 3, 23});
  CHECK(y.dim_names == std::vector<std::string>{"?", "", "", ""});
  std::map<std::string, NdArray> in;
  for (int i = 0; i < 3; ++i) in["x" + std::to_string(i)] = random_f32({2, 3, 3, i == 0 ? 5 : i == 1 ? 17 : 1}, -1, 1, 70 + i);
  const NdArray want = run(model, "reference", in).at("y");
  for (const std::string& backend : optimized_backends()) {
    INFO(backend);
    CHECK(run(model, backend, in).at("y").bytes == want.bytes);
  }
}
