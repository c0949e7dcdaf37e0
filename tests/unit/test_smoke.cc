// End-to-end through writer -> loader -> session -> reference kernels on tiny graphs whose
// answers are computed by hand.
#include <doctest/doctest.h>

#include "test_util.h"

using namespace octet;
using namespace octet::test;

TEST_CASE("float conv 1x1 with bias and relu, computed by hand") {
  GraphBuilder g;
  g.input("x", DataType::f32, {"batch", 2, 2, 2});
  // W [O=2, 1, 1, C=2]
  g.constant("w", NdArray::of<float>(DataType::f32, {2, 1, 1, 2}, {1, 2, -1, 0}));
  g.constant("b", NdArray::of<float>(DataType::f32, {2}, {0.5f, 0}));
  g.tensor("y", DataType::f32, {"batch", 2, 2, 2});
  g.output("y");
  g.node("Conv", {"x", "w", "b"}, {"y"}, nlohmann::json::object(), "float", {{"op", "Relu"}});
  auto model = g.build();
  std::vector<float> x = {1, 1, 2, -1, 0, 3, -4, 0};
  auto out = run(model, "reference", {{"x", NdArray::of<float>(DataType::f32, {1, 2, 2, 2}, x)}});
  const NdArray& y = out["y"];
  REQUIRE(y.shape == std::vector<int64_t>{1, 2, 2, 2});
  // pixel (c0, c1): o0 = c0 + 2 c1 + 0.5, o1 = -c0; relu
  std::vector<float> want = {3.5f, 0, 0.5f, 0, 6.5f, 0, 0, 4};
  for (int i = 0; i < 8; ++i) CHECK(y.as<float>()[i] == doctest::Approx(want[i]));
}

TEST_CASE("batch can change between runs") {
  GraphBuilder g;
  g.input("x", DataType::f32, {"batch", 3});
  g.constant("w", NdArray::of<float>(DataType::f32, {1, 3}, {1, 1, 1}));
  g.tensor("y", DataType::f32, {"batch", 1});
  g.output("y");
  g.node("FullyConnected", {"x", "w"}, {"y"});
  auto model = g.build();
  Session s(model, {1, "reference"});
  for (int batch : {1, 4, 2}) {
    std::vector<float> x(3 * batch, 1.f);
    s.set_input("x", TensorView::of(x.data(), {batch, 3}));
    s.run();
    auto y = s.output("y");
    REQUIRE(y.shape == std::vector<int64_t>{batch, 1});
    for (int i = 0; i < batch; ++i) CHECK(y.as<float>()[i] == 3.f);
  }
}
