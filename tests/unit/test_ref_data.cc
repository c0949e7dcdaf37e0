// Reference kernels for data movement, Resize, reductions, Softmax and LayerNormalization, each
// checked on small one-node graphs against values worked out by hand, from the ONNX spec
// formulas, from numpy, or from PyTorch (the source is stated next to each table).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "reference/reference_kernels.h"
#include "test_util.h"

using namespace octet;
using namespace octet::test;
using json = nlohmann::json;

namespace {

struct In {
  std::string name;
  NdArray value;
  QuantInfo q = {};
  std::vector<json> decl = {};   // declared shape if not value.shape (e.g. symbolic dims)
};
struct Out {
  std::string name;   // "" for an omitted output
  DataType dt = DataType::f32;
  std::vector<json> shape = {};
  QuantInfo q = {};
};

std::vector<json> dims(const std::vector<int64_t>& s) { return std::vector<json>(s.begin(), s.end()); }

// Builds a one-node model (graph inputs -> node -> graph outputs), runs it on the reference
// backend and returns the outputs in order (omitted ones skipped).
std::vector<NdArray> run_node(const std::string& op, const std::vector<In>& ins, const std::vector<Out>& outs,
                             json attrs = json::object(), const std::string& precision = "float",
                             const std::string& node_name = "") {
  GraphBuilder g;
  std::vector<std::string> in_names, out_names;
  std::map<std::string, NdArray> feed;
  for (const In& i : ins) {
    g.input(i.name, i.value.dtype, i.decl.empty() ? dims(i.value.shape) : i.decl, i.q);
    in_names.push_back(i.name);
    feed[i.name] = i.value;
  }
  for (const Out& o : outs) {
    out_names.push_back(o.name);
    if (o.name.empty()) continue;
    g.tensor(o.name, o.dt, o.shape, o.q);
    g.output(o.name);
  }
  g.node(op, in_names, out_names, std::move(attrs), precision, nullptr, node_name);
  auto res = run(g.build(), "reference", feed);
  std::vector<NdArray> r;
  for (const Out& o : outs)
    if (!o.name.empty()) r.push_back(res.at(o.name));
  return r;
}
NdArray run1(const std::string& op, const std::vector<In>& ins, const Out& out, json attrs = json::object(),
            const std::string& precision = "float") {
  return run_node(op, ins, {out}, std::move(attrs), precision)[0];
}

// An f32 tensor with no elements (NdArray::of would memcpy from a null pointer).
NdArray empty_f32(std::vector<int64_t> shape) { return NdArray{DataType::f32, std::move(shape), {}}; }
NdArray F(std::vector<int64_t> shape, const std::vector<float>& v) { return NdArray::of<float>(DataType::f32, std::move(shape), v); }
NdArray U8(std::vector<int64_t> shape, const std::vector<uint8_t>& v) { return NdArray::of<uint8_t>(DataType::u8, std::move(shape), v); }
NdArray S8(std::vector<int64_t> shape, const std::vector<int8_t>& v) { return NdArray::of<int8_t>(DataType::s8, std::move(shape), v); }
NdArray S32(std::vector<int64_t> shape, const std::vector<int32_t>& v) { return NdArray::of<int32_t>(DataType::s32, std::move(shape), v); }
NdArray I64(std::vector<int64_t> shape, const std::vector<int64_t>& v) { return NdArray::of<int64_t>(DataType::i64, std::move(shape), v); }
NdArray B(std::vector<int64_t> shape, const std::vector<uint8_t>& v) { return NdArray::of<uint8_t>(DataType::boolean, std::move(shape), v); }

template <class T>
std::vector<T> vals(const NdArray& b) {
  return std::vector<T>(b.as<T>(), b.as<T>() + b.elements());
}
std::vector<float> iota_f(int n, float start = 0) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

void check_close(const NdArray& y, const std::vector<float>& want, double eps = 1e-5) {
  REQUIRE(y.dtype == DataType::f32);
  REQUIRE(y.elements() == static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    CHECK(y.as<float>()[i] == doctest::Approx(want[i]).epsilon(eps).scale(1.0));
  }
}

// Runs `fn`, expecting an octet::Error whose message contains every one of `parts`.
template <class Fn>
void check_error(Fn fn, const std::vector<std::string>& parts) {
  std::string msg;
  try {
    fn();
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO("message: " << msg);
  REQUIRE(!msg.empty());
  for (const auto& p : parts) CHECK(msg.find(p) != std::string::npos);
}

using Shape64 = std::vector<int64_t>;
}  // namespace

// ---------------------------------------------------------------------------------------------
// Concat / Split

TEST_CASE("Concat float along a middle axis and along a negative axis") {
  // a [2,1,2], b [2,2,2] -> [2,3,2]
  NdArray a = F({2, 1, 2}, {1, 2, 3, 4});
  NdArray b = F({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  NdArray y = run1("Concat", {{"a", a}, {"b", b}}, {"y", DataType::f32, {2, 3, 2}}, {{"axis", 1}});
  CHECK(y.shape == Shape64{2, 3, 2});
  CHECK(vals<float>(y) == std::vector<float>{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17});

  // axis -1 on [2,1] and [2,2]
  y = run1("Concat", {{"a", F({2, 1}, {1, 2})}, {"b", F({2, 2}, {3, 4, 5, 6})}, {"c", F({2, 1}, {7, 8})}},
           {"y", DataType::f32, {2, 4}}, {{"axis", -1}});
  CHECK(vals<float>(y) == std::vector<float>{1, 3, 4, 7, 2, 5, 6, 8});
}

TEST_CASE("Concat i64 and bool copy elements") {
  NdArray y = run1("Concat", {{"a", I64({1, 2}, {1LL << 40, -3})}, {"b", I64({2, 2}, {5, 6, 7, 8})}},
                  {"y", DataType::i64, {3, 2}}, {{"axis", 0}});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{1LL << 40, -3, 5, 6, 7, 8});
  NdArray yb = run1("Concat", {{"a", B({2, 1}, {1, 0})}, {"b", B({2, 1}, {0, 1})}}, {"y", DataType::boolean, {2, 2}},
                   {{"axis", 1}});
  CHECK(vals<uint8_t>(yb) == std::vector<uint8_t>{1, 0, 0, 1});
}

TEST_CASE("Concat u8 requantizes inputs whose params differ from the output's") {
  // y: scale 0.5, zp 10. a has the same params: codes copied untouched.
  // b: scale 0.25, zp 100: codes 100, 101, 103, 255, 0 are reals 0, 0.25, 0.75, 38.75, -25
  //    -> real / 0.5 + 10 = 10, 10.5, 11.5, 87.5, -40 -> half-even 10, 10, 12, 88, saturated 0.
  NdArray y = run1("Concat",
                  {{"a", U8({3}, {0, 255, 17}), per_tensor(0.5f, 10)},
                   {"b", U8({5}, {100, 101, 103, 255, 0}), per_tensor(0.25f, 100)}},
                  {"y", DataType::u8, {8}, per_tensor(0.5f, 10)}, {{"axis", 0}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{0, 255, 17, 10, 10, 12, 88, 0});
}

TEST_CASE("Concat s8 requantizes per input") {
  // y: scale 1, zp 0. a: scale 2, zp -1: codes -1, 3, 100 -> reals 0, 8, 202 -> 0, 8, 127 (saturated).
  // b: scale 0.5, zp 4: codes -128, 5, 7 -> reals -66, 0.5, 1.5 -> -66, 0 (half-even), 2.
  NdArray y = run1("Concat",
                  {{"a", S8({1, 3}, {-1, 3, 100}), per_tensor(2.f, -1)}, {"b", S8({1, 3}, {-128, 5, 7}), per_tensor(0.5f, 4)}},
                  {"y", DataType::s8, {2, 3}, per_tensor(1.f, 0)}, {{"axis", 0}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{0, 8, 127, -66, 0, 2});
}

TEST_CASE("Split: default split is equal parts with a smaller last one") {
  // 7 elements into 3 outputs: ceil(7/3) = 3 -> 3, 3, 1
  auto ys = run_node("Split", {{"x", F({7}, iota_f(7))}},
                     {{"a", DataType::f32, {3}}, {"b", DataType::f32, {3}}, {"c", DataType::f32, {1}}});
  CHECK(vals<float>(ys[0]) == std::vector<float>{0, 1, 2});
  CHECK(vals<float>(ys[1]) == std::vector<float>{3, 4, 5});
  CHECK(vals<float>(ys[2]) == std::vector<float>{6});
}

TEST_CASE("Split with explicit sizes along a negative axis, s8 codes untouched") {
  // x [2,5] split [1,4] along -1
  auto ys = run_node("Split", {{"x", S8({2, 5}, {-128, 1, 2, 3, 4, 127, -1, -2, -3, -4}), per_tensor(0.1f, 3)}},
                     {{"a", DataType::s8, {2, 1}, per_tensor(0.1f, 3)}, {"b", DataType::s8, {2, 4}, per_tensor(0.1f, 3)}},
                     {{"axis", -1}, {"split", {1, 4}}}, "int8_static");
  CHECK(vals<int8_t>(ys[0]) == std::vector<int8_t>{-128, 127});
  CHECK(vals<int8_t>(ys[1]) == std::vector<int8_t>{1, 2, 3, 4, -1, -2, -3, -4});
}

TEST_CASE("Split with an omitted middle output keeps the others in place") {
  // x [6] split [1,2,3]; output 1 omitted.
  auto ys = run_node("Split", {{"x", I64({6}, {0, 1, 2, 3, 4, 5})}},
                     {{"a", DataType::i64, {1}}, {"", DataType::i64, {}}, {"c", DataType::i64, {3}}},
                     {{"axis", 0}, {"split", {1, 2, 3}}});
  REQUIRE(ys.size() == 2);
  CHECK(vals<int64_t>(ys[0]) == std::vector<int64_t>{0});
  CHECK(vals<int64_t>(ys[1]) == std::vector<int64_t>{3, 4, 5});
}

// ---------------------------------------------------------------------------------------------
// Slice

TEST_CASE("Slice: steps, negative axes and clamped bounds") {
  // x [3,4] = 0..11. rows 0:3:2 -> {0, 2}; cols -3:1000 (clamped to 4) -> {1, 2, 3}
  NdArray x = F({3, 4}, iota_f(12));
  NdArray y = run1("Slice", {{"x", x}}, {"y", DataType::f32, {2, 3}},
                  {{"starts", {0, -3}}, {"ends", {3, 1000}}, {"axes", {0, -1}}, {"steps", {2, 1}}});
  CHECK(vals<float>(y) == std::vector<float>{1, 2, 3, 9, 10, 11});

  // starts clamped below: -100 -> 0; only axis 1 given: rows untouched
  y = run1("Slice", {{"x", x}}, {"y", DataType::f32, {3, 2}}, {{"starts", {-100}}, {"ends", {2}}, {"axes", {1}}});
  CHECK(vals<float>(y) == std::vector<float>{0, 1, 4, 5, 8, 9});
}

TEST_CASE("Slice: negative steps") {
  NdArray x = F({3, 4}, iota_f(12));
  // Reverse both axes fully: starts -1, ends INT64_MIN (clamped to -1 = before the first).
  const int64_t lo = std::numeric_limits<int64_t>::min();
  NdArray y = run1("Slice", {{"x", x}}, {"y", DataType::f32, {3, 4}},
                  {{"starts", {-1, -1}}, {"ends", {lo, lo}}, {"steps", {-1, -1}}});
  CHECK(vals<float>(y) == std::vector<float>{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  // cols 3 down to (excluding) 0 in steps of 2: 3, 1. start 100 clamps to 3.
  y = run1("Slice", {{"x", x}}, {"y", DataType::f32, {3, 2}}, {{"starts", {100}}, {"ends", {0}}, {"axes", {1}}, {"steps", {-2}}});
  CHECK(vals<float>(y) == std::vector<float>{3, 1, 7, 5, 11, 9});
}

TEST_CASE("Slice: empty result and 8-bit codes") {
  NdArray y = run1("Slice", {{"x", U8({4}, {9, 8, 7, 6}), per_tensor(0.5f, 1)}}, {"y", DataType::u8, {0}, per_tensor(0.5f, 1)},
                  {{"starts", {2}}, {"ends", {1}}}, "int8_static");
  CHECK(y.elements() == 0);
  y = run1("Slice", {{"x", U8({4}, {9, 8, 7, 6}), per_tensor(0.5f, 1)}}, {"y", DataType::u8, {2}, per_tensor(0.5f, 1)},
           {{"starts", {-1}}, {"ends", {0}}, {"steps", {-2}}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{6, 8});
}

TEST_CASE("Slice with a negative step on an empty dimension yields nothing") {
  // x has a symbolic dim that is 0 at run time.
  auto ys = run_node("Slice", {{"x", empty_f32({0}), {}, {"n"}}}, {{"y", DataType::f32, {"?"}}},
                     {{"starts", {-1}}, {"ends", {-1000}}, {"steps", {-1}}});
  CHECK(ys[0].shape == Shape64{0});
}

// ---------------------------------------------------------------------------------------------
// Views: Reshape, Flatten, Squeeze, Unsqueeze

TEST_CASE("Reshape with 0 and -1, and the other views") {
  NdArray x = F({2, 3, 4}, iota_f(24));
  NdArray y = run1("Reshape", {{"x", x}}, {"y", DataType::f32, {2, 2, 6}}, {{"shape", {0, -1, 6}}});
  CHECK(y.shape == Shape64{2, 2, 6});
  CHECK(vals<float>(y) == iota_f(24));

  y = run1("Flatten", {{"x", x}}, {"y", DataType::f32, {6, 4}}, {{"axis", 2}});
  CHECK(vals<float>(y) == iota_f(24));
  y = run1("Flatten", {{"x", x}}, {"y", DataType::f32, {1, 24}}, {{"axis", 0}});
  CHECK(y.shape == Shape64{1, 24});
  // ONNX: a negative axis counts from the back: -1 on rank 3 is axis 2 -> [6, 4].
  y = run1("Flatten", {{"x", x}}, {"y", DataType::f32, {6, 4}}, {{"axis", -1}});
  CHECK(y.shape == Shape64{6, 4});
  y = run1("Flatten", {{"x", x}}, {"y", DataType::f32, {1, 24}}, {{"axis", -3}});
  CHECK(y.shape == Shape64{1, 24});

  NdArray x1 = U8({1, 3, 1}, {7, 8, 9});
  y = run1("Squeeze", {{"x", x1, per_tensor(1.f, 0)}}, {"y", DataType::u8, {1, 3}, per_tensor(1.f, 0)}, {{"axes", {-1}}},
           "int8_static");
  CHECK(y.shape == Shape64{1, 3});
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{7, 8, 9});
  y = run1("Squeeze", {{"x", x1, per_tensor(1.f, 0)}}, {"y", DataType::u8, {3}, per_tensor(1.f, 0)}, json::object(),
           "int8_static");
  CHECK(y.shape == Shape64{3});
  y = run1("Unsqueeze", {{"x", I64({3}, {4, 5, 6})}}, {"y", DataType::i64, {1, 3, 1}}, {{"axes", {0, -1}}});
  CHECK(y.shape == Shape64{1, 3, 1});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{4, 5, 6});
}

TEST_CASE("View kernels copy when output and input storage differ, and do nothing when shared") {
  GraphBuilder g;
  g.input("x", DataType::f32, {2, 3});
  g.tensor("y", DataType::f32, {3, 2});
  g.output("y");
  g.node("Reshape", {"x"}, {"y"}, {{"shape", {3, 2}}});
  auto model = g.build();
  const auto& md = model->data();
  KernelContext ctx{md, md.nodes[0], 1};
  auto k = ref::make_data(ctx);
  std::vector<float> xs = {1, 2, 3, 4, 5, 6}, ys(6, -1.f);
  Tensor x{&md.tensor(md.nodes[0].inputs[0]), DataType::f32, {2, 3}, xs.data()};
  Tensor y{&md.tensor(md.nodes[0].outputs[0]), DataType::f32, {3, 2}, ys.data()};
  k->run(KernelArgs{{&x}, {&y}});
  CHECK(ys == xs);
  Tensor same{&md.tensor(md.nodes[0].outputs[0]), DataType::f32, {3, 2}, xs.data()};
  k->run(KernelArgs{{&x}, {&same}});
  CHECK(xs == std::vector<float>{1, 2, 3, 4, 5, 6});
}

// ---------------------------------------------------------------------------------------------
// Transpose

TEST_CASE("Transpose with a permutation and with the default (reversed) one") {
  NdArray x = F({2, 3, 4}, iota_f(24));
  NdArray y = run1("Transpose", {{"x", x}}, {"y", DataType::f32, {4, 2, 3}}, {{"perm", {2, 0, 1}}});
  // y[k][i][j] = x[i][j][k]
  std::vector<float> want(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) want[(k * 2 + i) * 3 + j] = static_cast<float>((i * 3 + j) * 4 + k);
  CHECK(vals<float>(y) == want);

  NdArray q = U8({2, 3}, {1, 2, 3, 4, 5, 6});
  y = run1("Transpose", {{"x", q, per_tensor(1.f, 0)}}, {"y", DataType::u8, {3, 2}, per_tensor(1.f, 0)}, json::object(),
           "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{1, 4, 2, 5, 3, 6});
}

// ---------------------------------------------------------------------------------------------
// Pad

TEST_CASE("Pad 2-D constant, reflect and edge (expected values from numpy.pad)") {
  NdArray x = F({2, 3}, {1, 2, 3, 4, 5, 6});
  // np.pad(x, ((1, 0), (0, 1)), constant_values=1.5)
  NdArray y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {3, 4}}, {{"pads", {1, 0, 0, 1}}, {"value", 1.5}});
  CHECK(vals<float>(y) == std::vector<float>{1.5, 1.5, 1.5, 1.5, 1, 2, 3, 1.5, 4, 5, 6, 1.5});
  // np.pad(x, ((1, 1), (2, 1)), mode='reflect')
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {4, 6}}, {{"pads", {1, 2, 1, 1}}, {"mode", "reflect"}});
  CHECK(vals<float>(y) == std::vector<float>{6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2});
  // np.pad(x, ((0, 2), (1, 2)), mode='edge')
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {4, 6}}, {{"pads", {0, 1, 2, 2}}, {"mode", "edge"}});
  CHECK(vals<float>(y) == std::vector<float>{1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6, 4, 4, 5, 6, 6, 6, 4, 4, 5, 6, 6, 6});
}

TEST_CASE("Pad 1-D reflect and edge by hand") {
  NdArray x = F({4}, {1, 2, 3, 4});
  NdArray y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {9}}, {{"pads", {2, 3}}, {"mode", "reflect"}});
  CHECK(vals<float>(y) == std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2, 1});
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {9}}, {{"pads", {2, 3}}, {"mode", "edge"}});
  CHECK(vals<float>(y) == std::vector<float>{1, 1, 1, 2, 3, 4, 4, 4, 4});
}

TEST_CASE("Pad with negative pads crops, then pads what is left") {
  NdArray x = F({5}, {1, 2, 3, 4, 5});
  NdArray y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {6}}, {{"pads", {-1, 2}}});
  CHECK(vals<float>(y) == std::vector<float>{2, 3, 4, 5, 0, 0});
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {6}}, {{"pads", {-1, 2}}, {"mode", "edge"}});
  CHECK(vals<float>(y) == std::vector<float>{2, 3, 4, 5, 5, 5});
  // crop to [1, 2, 3], then reflect 2 at the front
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {5}}, {{"pads", {2, -2}}, {"mode", "reflect"}});
  CHECK(vals<float>(y) == std::vector<float>{3, 2, 1, 2, 3});
  // crop to [4, 5], reflect 3 at the end: np.pad([4, 5], (0, 3), 'reflect') = 4 5 4 5 4
  y = run1("Pad", {{"x", x}}, {"y", DataType::f32, {5}}, {{"pads", {-3, 3}}, {"mode", "reflect"}});
  CHECK(vals<float>(y) == std::vector<float>{4, 5, 4, 5, 4});
  // 2-D: crop a row and a column, pad a column
  NdArray x2 = F({2, 3}, {1, 2, 3, 4, 5, 6});
  y = run1("Pad", {{"x", x2}}, {"y", DataType::f32, {1, 3}}, {{"pads", {-1, 1, 0, -1}}, {"value", 9}});
  CHECK(vals<float>(y) == std::vector<float>{9, 4, 5});
}

TEST_CASE("Pad constant on 8-bit tensors pads with the code of the real value") {
  // u8 scale 0.5 zp 3: value 2.0 -> 2 / 0.5 + 3 = 7
  NdArray y = run1("Pad", {{"x", U8({2}, {100, 200}), per_tensor(0.5f, 3)}}, {"y", DataType::u8, {4}, per_tensor(0.5f, 3)},
                  {{"pads", {1, 1}}, {"value", 2.0}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{7, 100, 200, 7});
  // value -10 -> -20 + 3 saturates to 0; default value 0 -> the zero point
  y = run1("Pad", {{"x", U8({1}, {50}), per_tensor(0.5f, 3)}}, {"y", DataType::u8, {2}, per_tensor(0.5f, 3)},
           {{"pads", {1, 0}}, {"value", -10.0}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{0, 50});
  y = run1("Pad", {{"x", S8({1}, {50}), per_tensor(0.5f, -7)}}, {"y", DataType::s8, {3}, per_tensor(0.5f, -7)},
           {{"pads", {1, 1}}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-7, 50, -7});
  // s8 scale 0.5 zp 0: value 1.25 -> 2.5 -> half-even 2
  y = run1("Pad", {{"x", S8({1}, {-5}), per_tensor(0.5f, 0)}}, {"y", DataType::s8, {2}, per_tensor(0.5f, 0)},
           {{"pads", {0, 1}}, {"value", 1.25}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-5, 2});
  // Edge mode copies codes.
  y = run1("Pad", {{"x", S8({2}, {-5, 9}), per_tensor(0.5f, 0)}}, {"y", DataType::s8, {4}, per_tensor(0.5f, 0)},
           {{"pads", {1, 1}}, {"mode", "edge"}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-5, -5, 9, 9});
}

TEST_CASE("Pad constant on i64") {
  NdArray y = run1("Pad", {{"x", I64({2}, {5, 6})}}, {"y", DataType::i64, {3}}, {{"pads", {0, 1}}, {"value", -2}});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{5, 6, -2});
}

TEST_CASE("Pad edge of an empty dimension is an error, not a crash") {
  check_error([&] {
    run_node("Pad", {{"x", empty_f32({0}), {}, {"n"}}}, {{"y", DataType::f32, {"?"}}}, {{"pads", {1, 1}}, {"mode", "edge"}},
             "float", "pad_node");
  }, {"pad_node"});
}

// ---------------------------------------------------------------------------------------------
// Resize

TEST_CASE("Resize linear half_pixel matches PyTorch bilinear (align_corners=False)") {
  // torch 1.13: F.interpolate(torch.tensor([[1.,2.],[3.,4.]]).reshape(1,1,2,2), size=(4,4),
  //                           mode='bilinear', align_corners=False)
  NdArray y = run1("Resize", {{"x", F({1, 1, 2, 2}, {1, 2, 3, 4})}}, {"y", DataType::f32, {1, 1, 4, 4}},
                  {{"mode", "linear"}, {"coordinate_transformation_mode", "half_pixel"}, {"sizes", {1, 1, 4, 4}}});
  check_close(y, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});

  // torch: F.interpolate(torch.arange(1., 17.).reshape(1,1,4,4), size=(3,3), mode='bilinear', align_corners=False)
  y = run1("Resize", {{"x", F({1, 1, 4, 4}, iota_f(16, 1))}}, {"y", DataType::f32, {1, 1, 3, 3}},
           {{"mode", "linear"}, {"sizes", {1, 1, 3, 3}}});
  check_close(y, {1.83333337f, 3.16666675f, 4.50000048f, 7.16666698f, 8.5f, 9.83333397f, 12.500001f, 13.833334f, 15.166667f});

  // Size-1 output: torch size=(1,3) gives 7.16666651, 8.5, 9.83333302 -- which half_pixel reproduces
  // (c = 0.5 * 4 - 0.5 = 1.5, between rows 1 and 2).
  y = run1("Resize", {{"x", F({1, 1, 4, 4}, iota_f(16, 1))}}, {"y", DataType::f32, {1, 1, 1, 3}},
           {{"mode", "linear"}, {"sizes", {1, 1, 1, 3}}});
  check_close(y, {7.16666651f, 8.5f, 9.83333302f});

  // 1-D, torch: F.interpolate(torch.arange(0.,14.).reshape(1,1,14)**1.5, size=(20,), mode='linear', align_corners=False)
  std::vector<float> x14(14);
  for (int i = 0; i < 14; ++i) x14[i] = std::pow(static_cast<float>(i), 1.5f);
  y = run1("Resize", {{"x", F({1, 1, 14}, x14)}}, {"y", DataType::f32, {1, 1, 20}}, {{"mode", "linear"}, {"sizes", {1, 1, 20}}});
  check_close(y, {0, 0.549999952f, 1.45710671f, 2.73700571f, 4.36744833f, 6.17749882f, 8.15901661f, 10.3852549f,
                  12.7628088f, 15.2704363f, 17.9467621f, 20.7791958f, 23.720562f, 26.7813683f, 30.0048046f, 33.3238106f,
                  36.7371864f, 40.2976303f, 43.9555435f, 46.8721657f});
}

TEST_CASE("Resize linear pytorch_half_pixel follows the ONNX formula (0 for a length-1 output)") {
  // onnx 1.12 backend test reference interpolate_nd(arange(1,17).reshape(4,4), linear_coeffs,
  //   output_size=[1,3], coordinate_transformation_mode='pytorch_half_pixel') -> 1.1667, 2.5, 3.8333
  // (row 0; note PyTorch itself gives the half_pixel values above for a size-1 output).
  NdArray y = run1("Resize", {{"x", F({4, 4}, iota_f(16, 1))}}, {"y", DataType::f32, {1, 3}},
                  {{"mode", "linear"}, {"coordinate_transformation_mode", "pytorch_half_pixel"}, {"sizes", {1, 3}}});
  check_close(y, {1.16666667f, 2.5f, 3.83333333f});
  // output_size=[2,3]: like half_pixel
  y = run1("Resize", {{"x", F({4, 4}, iota_f(16, 1))}}, {"y", DataType::f32, {2, 3}},
           {{"mode", "linear"}, {"coordinate_transformation_mode", "pytorch_half_pixel"}, {"sizes", {2, 3}}});
  check_close(y, {3.16666667f, 4.5f, 5.83333333f, 11.1666667f, 12.5f, 13.8333333f});
}

TEST_CASE("Resize linear align_corners matches PyTorch align_corners=True") {
  // torch: F.interpolate(torch.tensor([[1.,2.,4.],[8.,16.,32.]]).reshape(1,1,2,3), size=(3,5),
  //                      mode='bilinear', align_corners=True)
  NdArray y = run1("Resize", {{"x", F({1, 1, 2, 3}, {1, 2, 4, 8, 16, 32})}}, {"y", DataType::f32, {1, 1, 3, 5}},
                  {{"mode", "linear"}, {"coordinate_transformation_mode", "align_corners"}, {"sizes", {1, 1, 3, 5}}});
  check_close(y, {1, 1.5, 2, 3, 4, 4.5, 6.75, 9, 13.5, 18, 8, 12, 16, 24, 32});
  // Length-1 output takes index 0 (onnx reference: 1, 2.5, 4)
  y = run1("Resize", {{"x", F({4, 4}, iota_f(16, 1))}}, {"y", DataType::f32, {1, 3}},
           {{"mode", "linear"}, {"coordinate_transformation_mode", "align_corners"}, {"sizes", {1, 3}}});
  check_close(y, {1, 2.5, 4});
}

TEST_CASE("Resize linear asymmetric, and scales that keep the size but move the samples") {
  // c = x * 3 / 5 = 0, 0.6, 1.2, 1.8, 2.4 (clamped to 2) on [0, 10, 20]
  NdArray y = run1("Resize", {{"x", F({3}, {0, 10, 20})}}, {"y", DataType::f32, {5}},
                  {{"mode", "linear"}, {"coordinate_transformation_mode", "asymmetric"}, {"sizes", {5}}});
  check_close(y, {0, 6, 12, 18, 20});
  // scales [1.2]: floor(3 * 1.2) = 3 elements but c = x / 1.2 = 0, 0.833, 1.667 on [0, 6, 12]
  y = run1("Resize", {{"x", F({3}, {0, 6, 12})}}, {"y", DataType::f32, {3}},
           {{"mode", "linear"}, {"coordinate_transformation_mode", "asymmetric"}, {"scales", {1.2}}});
  check_close(y, {0, 5, 10});
  // half_pixel: c = (x + 0.5) / 1.2 - 0.5 = -0.083 (clamped to 0), 0.75, 1.583
  y = run1("Resize", {{"x", F({3}, {0, 6, 12})}}, {"y", DataType::f32, {3}}, {{"mode", "linear"}, {"scales", {1.2}}});
  check_close(y, {0, 4.5, 9.5});
}

TEST_CASE("Resize linear on 3 axes equals the ONNX reference multilinear interpolation") {
  // onnx 1.12 interpolate_nd(arange(24).reshape(2,3,4), linear_coeffs, output_size=[3,2,6]) (half_pixel)
  NdArray y = run1("Resize", {{"x", F({2, 3, 4}, iota_f(24))}}, {"y", DataType::f32, {3, 2, 6}},
                  {{"mode", "linear"}, {"sizes", {3, 2, 6}}});
  check_close(y, {1, 1.5, 2.16666667f, 2.83333333f, 3.5, 4, 7, 7.5, 8.16666667f, 8.83333333f, 9.5, 10,
                  7, 7.5, 8.16666667f, 8.83333333f, 9.5, 10, 13, 13.5, 14.1666667f, 14.8333333f, 15.5, 16,
                  13, 13.5, 14.1666667f, 14.8333333f, 15.5, 16, 19, 19.5, 20.1666667f, 20.8333333f, 21.5, 22});
}

TEST_CASE("Resize linear on 8-bit interpolates real values and requantizes with the same params") {
  // u8 scale 0.5 zp 10: codes 10, 13 are reals 0, 1.5. half_pixel 2 -> 4: c clamps to 0, .25, .75, 1
  // -> reals 0, 0.375, 1.125, 1.5 -> codes 10, 10.75, 12.25, 13 -> 10, 11, 12, 13.
  NdArray y = run1("Resize", {{"x", U8({2}, {10, 13}), per_tensor(0.5f, 10)}}, {"y", DataType::u8, {4}, per_tensor(0.5f, 10)},
                  {{"mode", "linear"}, {"sizes", {4}}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{10, 11, 12, 13});
  // s8 scale 0.25 zp -3: codes -3, -1 are reals 0, 0.5; 2 -> 4 gives reals 0, .125, .375, .5
  // -> codes -3, -2.5, -1.5, -1 -> half-even -3, -2, -2, -1.
  y = run1("Resize", {{"x", S8({2}, {-3, -1}), per_tensor(0.25f, -3)}}, {"y", DataType::s8, {4}, per_tensor(0.25f, -3)},
           {{"mode", "linear"}, {"sizes", {4}}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-3, -2, -2, -1});
}

TEST_CASE("Resize nearest matches PyTorch mode='nearest' (asymmetric + floor)") {
  json attrs = {{"mode", "nearest"}, {"coordinate_transformation_mode", "asymmetric"}, {"nearest_mode", "floor"}};
  // torch: F.interpolate(torch.arange(0., 9.).reshape(1,1,3,3), size=(5,7), mode='nearest')
  attrs["sizes"] = {1, 1, 5, 7};
  NdArray y = run1("Resize", {{"x", F({1, 1, 3, 3}, iota_f(9))}}, {"y", DataType::f32, {1, 1, 5, 7}}, attrs);
  check_close(y, {0, 0, 0, 1, 1, 2, 2, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5,
                  3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8});
  // torch: F.interpolate(torch.arange(0., 25.).reshape(1,1,5,5), size=(2,3), mode='nearest')
  attrs["sizes"] = {1, 1, 2, 3};
  y = run1("Resize", {{"x", F({1, 1, 5, 5}, iota_f(25))}}, {"y", DataType::f32, {1, 1, 2, 3}}, attrs);
  check_close(y, {0, 1, 3, 10, 11, 13});
  // torch: F.interpolate(torch.arange(0., 14.).reshape(1,1,14), size=(20,), mode='nearest'), on i64 data
  attrs["sizes"] = {1, 1, 20};
  std::vector<int64_t> x14(14);
  for (int i = 0; i < 14; ++i) x14[i] = i;
  y = run1("Resize", {{"x", I64({1, 1, 14}, x14)}}, {"y", DataType::i64, {1, 1, 20}}, attrs);
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 9, 10, 11, 11, 12, 13});
  // Ratios where x * in / out is an exact integer that x / (out / in) in floating point misses
  // (14 -> 18 at x = 9: 7; 21 -> 27 at x = 9, 18: 7, 14). torch, as above, with size=(18,) / (27,).
  attrs["sizes"] = {1, 1, 18};
  y = run1("Resize", {{"x", F({1, 1, 14}, iota_f(14))}}, {"y", DataType::f32, {1, 1, 18}}, attrs);
  CHECK(vals<float>(y) == std::vector<float>{0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11, 12, 13});
  attrs["sizes"] = {1, 1, 27};
  y = run1("Resize", {{"x", F({1, 1, 21}, iota_f(21))}}, {"y", DataType::f32, {1, 1, 27}}, attrs);
  CHECK(vals<float>(y) == std::vector<float>{0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11, 12, 13, 14, 14, 15, 16,
                                             17, 17, 18, 19, 20});
}

TEST_CASE("Resize nearest: every nearest_mode under several coordinate modes") {
  // Expected values: onnx 1.12 backend-test reference interpolate_nd with nearest_coeffs(mode).
  struct Case {
    const char* coord;
    const char* nearest;
    std::vector<float> x;
    int64_t out;
    std::vector<float> want;
  };
  const std::vector<Case> cases = {
      // asymmetric 3 -> 4: c = 0, 0.75, 1.5, 2.25
      {"asymmetric", "round_prefer_floor", {10, 20, 30}, 4, {10, 20, 20, 30}},
      {"asymmetric", "round_prefer_ceil", {10, 20, 30}, 4, {10, 20, 30, 30}},
      {"asymmetric", "floor", {10, 20, 30}, 4, {10, 10, 20, 30}},
      {"asymmetric", "ceil", {10, 20, 30}, 4, {10, 20, 30, 30}},
      // half_pixel 4 -> 2: c = 0.5, 2.5
      {"half_pixel", "round_prefer_floor", {10, 20, 30, 40}, 2, {10, 30}},
      {"half_pixel", "round_prefer_ceil", {10, 20, 30, 40}, 2, {20, 40}},
      {"half_pixel", "floor", {10, 20, 30, 40}, 2, {10, 30}},
      {"half_pixel", "ceil", {10, 20, 30, 40}, 2, {20, 40}},
      // half_pixel 2 -> 5: c = -0.3, 0.1, 0.5, 0.9, 1.3
      {"half_pixel", "round_prefer_floor", {10, 20}, 5, {10, 10, 10, 20, 20}},
      {"half_pixel", "round_prefer_ceil", {10, 20}, 5, {10, 10, 20, 20, 20}},
      {"half_pixel", "floor", {10, 20}, 5, {10, 10, 10, 10, 20}},
      {"half_pixel", "ceil", {10, 20}, 5, {10, 20, 20, 20, 20}},
      // align_corners 3 -> 4: c = 0, 0.667, 1.333, 2
      {"align_corners", "round_prefer_floor", {10, 20, 30}, 4, {10, 20, 20, 30}},
      {"align_corners", "floor", {10, 20, 30}, 4, {10, 10, 20, 30}},
      {"align_corners", "ceil", {10, 20, 30}, 4, {10, 20, 30, 30}},
      // pytorch_half_pixel 2 -> 5: like half_pixel
      {"pytorch_half_pixel", "round_prefer_ceil", {10, 20}, 5, {10, 10, 20, 20, 20}},
  };
  for (const Case& c : cases) {
    INFO(c.coord << " / " << c.nearest);
    const int64_t n = static_cast<int64_t>(c.x.size());
    NdArray y = run1("Resize", {{"x", F({n}, c.x)}}, {"y", DataType::f32, {c.out}},
                    {{"mode", "nearest"}, {"coordinate_transformation_mode", c.coord}, {"nearest_mode", c.nearest},
                     {"sizes", {c.out}}});
    CHECK(vals<float>(y) == c.want);
  }
}

TEST_CASE("Resize nearest with scales on u8 NHWC copies codes") {
  // scales [1, 2, 2, 1] on [1, 2, 2, 2] (NHWC, 2 channels): each pixel becomes a 2x2 block;
  // default coord half_pixel + round_prefer_floor: c = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
  NdArray x = U8({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  NdArray y = run1("Resize", {{"x", x, per_tensor(0.1f, 0)}}, {"y", DataType::u8, {1, 4, 4, 2}, per_tensor(0.1f, 0)},
                  {{"mode", "nearest"}, {"scales", {1, 2, 2, 1}}}, "int8_static");
  std::vector<uint8_t> want;
  const int src[4] = {0, 0, 1, 1};
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 4; ++w)
      for (int c = 0; c < 2; ++c) want.push_back(x.as<uint8_t>()[(src[h] * 2 + src[w]) * 2 + c]);
  CHECK(vals<uint8_t>(y) == want);
}

// ---------------------------------------------------------------------------------------------
// Gather / Expand / Cast / Where

TEST_CASE("Gather along axis 0 with negative s32 indices, along axis 1 with i64 2-D indices") {
  NdArray data = F({3, 2}, {1, 2, 3, 4, 5, 6});
  NdArray y = run1("Gather", {{"d", data}, {"i", S32({3}, {2, -3, -1})}}, {"y", DataType::f32, {3, 2}});
  CHECK(vals<float>(y) == std::vector<float>{5, 6, 1, 2, 5, 6});
  y = run1("Gather", {{"d", F({2, 3}, {1, 2, 3, 4, 5, 6})}, {"i", I64({2, 2}, {0, 2, -1, 1})}},
           {"y", DataType::f32, {2, 2, 2}}, {{"axis", 1}});
  CHECK(vals<float>(y) == std::vector<float>{1, 3, 3, 2, 4, 6, 6, 5});
  // Scalar index removes the axis; u8 codes untouched.
  y = run1("Gather", {{"d", U8({2, 3}, {1, 2, 3, 4, 5, 6}), per_tensor(0.5f, 2)}, {"i", I64({}, {-2})}},
           {"y", DataType::u8, {2}, per_tensor(0.5f, 2)}, {{"axis", -1}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{2, 5});
}

TEST_CASE("Gather with an out-of-range index throws naming the node and the index") {
  NdArray data = F({3, 2}, {1, 2, 3, 4, 5, 6});
  for (int64_t bad : {3LL, -4LL, 1LL << 40}) {
    INFO("index " << bad);
    check_error([&] {
      run_node("Gather", {{"d", data}, {"i", I64({2}, {0, bad})}}, {{"y", DataType::f32, {2, 2}}}, json::object(), "float",
               "my_gather");
    }, {"my_gather", std::to_string(bad)});
  }
  check_error([&] {
    run_node("Gather", {{"d", data}, {"i", S32({1}, {7})}}, {{"y", DataType::f32, {1, 2}}}, json::object(), "float",
             "gather32");
  }, {"gather32", "7"});
}

TEST_CASE("Expand broadcasts both ways") {
  NdArray y = run1("Expand", {{"x", F({3, 1}, {1, 2, 3})}}, {"y", DataType::f32, {2, 3, 4}}, {{"shape", {2, 1, 4}}});
  std::vector<float> want;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int w = 0; w < 4; ++w) want.push_back(static_cast<float>(c + 1));
  CHECK(vals<float>(y) == want);
  // shape smaller than the input along a dim: the input's dim wins
  y = run1("Expand", {{"x", S32({2, 3}, {1, 2, 3, 4, 5, 6})}}, {"y", DataType::s32, {2, 3}}, {{"shape", {1, 3}}});
  CHECK(vals<int32_t>(y) == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  y = run1("Expand", {{"x", S8({1}, {-9}), per_tensor(1.f, 0)}}, {"y", DataType::s8, {2, 2}, per_tensor(1.f, 0)},
           {{"shape", {2, 2}}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-9, -9, -9, -9});
}

TEST_CASE("Cast between f32, s32, i64 and bool") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  NdArray x = F({9}, {1.9f, -1.9f, nan, 3e10f, -3e10f, 0.5f, -0.f, inf, -2147483648.f});
  NdArray y = run1("Cast", {{"x", x}}, {"y", DataType::s32, {9}}, {{"to", "s32"}});
  const int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
  CHECK(vals<int32_t>(y) == std::vector<int32_t>{1, -1, 0, mx, mn, 0, 0, mx, mn});
  y = run1("Cast", {{"x", x}}, {"y", DataType::i64, {9}}, {{"to", "i64"}});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{1, -1, 0, 30000001024LL, -30000001024LL, 0, 0,
                                                 std::numeric_limits<int64_t>::max(), -2147483648LL});
  y = run1("Cast", {{"x", x}}, {"y", DataType::boolean, {9}}, {{"to", "bool"}});
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 0, 1, 1});

  // bool bytes other than 0/1 still read as true
  y = run1("Cast", {{"x", B({3}, {0, 1, 2})}}, {"y", DataType::f32, {3}}, {{"to", "f32"}});
  CHECK(vals<float>(y) == std::vector<float>{0, 1, 1});
  y = run1("Cast", {{"x", B({3}, {0, 1, 2})}}, {"y", DataType::i64, {3}}, {{"to", "i64"}});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{0, 1, 1});
  y = run1("Cast", {{"x", I64({4}, {(1LL << 32) + 5, -7, 1LL << 40, 0})}}, {"y", DataType::s32, {4}}, {{"to", "s32"}});
  CHECK(vals<int32_t>(y) == std::vector<int32_t>{5, -7, 0, 0});   // wraps like numpy's astype
  y = run1("Cast", {{"x", S32({3}, {-3, 16777217, 0})}}, {"y", DataType::f32, {3}}, {{"to", "f32"}});
  CHECK(vals<float>(y) == std::vector<float>{-3, 16777216, 0});
  y = run1("Cast", {{"x", S32({3}, {-3, 0, 9})}}, {"y", DataType::boolean, {3}}, {{"to", "bool"}});
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{1, 0, 1});
  y = run1("Cast", {{"x", S32({2}, {-3, 9})}}, {"y", DataType::s32, {2}}, {{"to", "s32"}});
  CHECK(vals<int32_t>(y) == std::vector<int32_t>{-3, 9});
}

TEST_CASE("Where broadcasts condition, X and Y") {
  // cond [2,1], X [3], Y scalar -> [2,3]
  NdArray y = run1("Where", {{"c", B({2, 1}, {1, 0})}, {"a", F({3}, {1, 2, 3})}, {"b", F({}, {-1})}}, {"y", DataType::f32, {2, 3}});
  CHECK(vals<float>(y) == std::vector<float>{1, 2, 3, -1, -1, -1});
  // cond [3], X [2,1], Y [2,3] (i64)
  y = run1("Where", {{"c", B({3}, {0, 1, 0})}, {"a", I64({2, 1}, {7, 8})}, {"b", I64({2, 3}, {1, 2, 3, 4, 5, 6})}},
           {"y", DataType::i64, {2, 3}});
  CHECK(vals<int64_t>(y) == std::vector<int64_t>{1, 7, 3, 4, 8, 6});
}

// ---------------------------------------------------------------------------------------------
// Reductions

TEST_CASE("ReduceMean / ReduceSum / ReduceMax in float, keepdims 0 and 1, negative axes") {
  NdArray x = F({2, 3, 2}, {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, 9});
  NdArray y = run1("ReduceSum", {{"x", x}}, {"y", DataType::f32, {2, 1, 2}}, {{"axes", {1}}});
  CHECK(vals<float>(y) == std::vector<float>{9, 12, -9, 3});
  y = run1("ReduceMean", {{"x", x}}, {"y", DataType::f32, {2, 2}}, {{"axes", {-2}}, {"keepdims", 0}});
  check_close(y, {3, 4, -3, 1});
  y = run1("ReduceMax", {{"x", x}}, {"y", DataType::f32, {3}}, {{"axes", {0, -1}}, {"keepdims", 0}});
  CHECK(vals<float>(y) == std::vector<float>{2, 4, 9});
  // default: all axes
  y = run1("ReduceSum", {{"x", x}}, {"y", DataType::f32, {1, 1, 1}});
  CHECK(vals<float>(y) == std::vector<float>{15});
  y = run1("ReduceMean", {{"x", x}}, {"y", DataType::f32, {}}, {{"keepdims", 0}});
  CHECK(y.shape.empty());
  check_close(y, {15.f / 12.f});
  y = run1("ReduceMax", {{"x", x}}, {"y", DataType::f32, {2, 3, 1}}, {{"axes", {2}}});
  CHECK(vals<float>(y) == std::vector<float>{2, 4, 6, -1, -3, 9});
}

TEST_CASE("ReduceSum accumulates in double") {
  // 1e8 + 1 + 1 + ... (8 ones) - 1e8 = 8 exactly in double; float accumulation would lose the ones.
  NdArray x = F({10}, {1e8f, 1, 1, 1, 1, 1, 1, 1, 1, -1e8f});
  NdArray y = run1("ReduceSum", {{"x", x}}, {"y", DataType::f32, {1}});
  CHECK(vals<float>(y) == std::vector<float>{8});
}

TEST_CASE("ReduceMax propagates NaN") {
  NdArray y = run1("ReduceMax", {{"x", F({3}, {1, std::numeric_limits<float>::quiet_NaN(), 2})}}, {"y", DataType::f32, {1}});
  CHECK(std::isnan(y.as<float>()[0]));
}

TEST_CASE("int8 ReduceMean quantizes the mean of real values to the output's params") {
  // x u8 scale 0.5 zp 10, rows {10, 12, 17} and {0, 255, 30}:
  // reals {0, 1, 3.5} -> mean 1.5; {-5, 122.5, 10} -> mean 42.5.
  // y u8 scale 0.25 zp 3: 1.5 / 0.25 + 3 = 9; 42.5 / 0.25 + 3 = 173.
  NdArray y = run1("ReduceMean", {{"x", U8({2, 3}, {10, 12, 17, 0, 255, 30}), per_tensor(0.5f, 10)}},
                  {"y", DataType::u8, {2, 1}, per_tensor(0.25f, 3)}, {{"axes", {1}}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{9, 173});
  // s8 scale 1 zp 0, column means of {{-3, 4}, {0, 5}} = -1.5, 4.5 -> y s8 scale 1 zp 0: -2, 4 (half-even)
  y = run1("ReduceMean", {{"x", S8({2, 2}, {-3, 4, 0, 5}), per_tensor(1.f, 0)}}, {"y", DataType::s8, {2}, per_tensor(1.f, 0)},
           {{"axes", {0}}, {"keepdims", 0}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-2, 4});
  // Saturation: mean real 100 with output scale 0.1 -> 1000 + 0 -> 127
  y = run1("ReduceMean", {{"x", S8({2}, {100, 100}), per_tensor(1.f, 0)}}, {"y", DataType::s8, {1}, per_tensor(0.1f, 0)},
           json::object(), "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{127});
}

TEST_CASE("int8 ReduceMax is the max of the codes") {
  NdArray y = run1("ReduceMax", {{"x", S8({2, 3}, {-128, -5, -7, 3, 127, 0}), per_tensor(0.3f, -4)}},
                  {"y", DataType::s8, {2}, per_tensor(0.3f, -4)}, {{"axes", {-1}}, {"keepdims", 0}}, "int8_static");
  CHECK(vals<int8_t>(y) == std::vector<int8_t>{-5, 127});
  y = run1("ReduceMax", {{"x", U8({2, 2}, {0, 200, 255, 1}), per_tensor(0.3f, 40)}},
           {"y", DataType::u8, {1, 2}, per_tensor(0.3f, 40)}, {{"axes", {0}}}, "int8_static");
  CHECK(vals<uint8_t>(y) == std::vector<uint8_t>{255, 200});
}

// ---------------------------------------------------------------------------------------------
// Softmax / LayerNormalization

TEST_CASE("Softmax along the last axis and along axis 0, numerically stable") {
  // softmax([1, 2, 3]) = e^{0,1,2} / (1 + e + e^2) = 0.09003057, 0.24472847, 0.66524096
  const std::vector<float> s3 = {0.09003057f, 0.24472847f, 0.66524096f};
  NdArray y = run1("Softmax", {{"x", F({2, 3}, {1, 2, 3, 1000, 1001, 1002})}}, {"y", DataType::f32, {2, 3}});
  check_close(y, {s3[0], s3[1], s3[2], s3[0], s3[1], s3[2]});
  // axis 0 of [3,2]: columns {1,2,3} and {-1000,-1000,-1000}
  y = run1("Softmax", {{"x", F({3, 2}, {1, -1000, 2, -1000, 3, -1000})}}, {"y", DataType::f32, {3, 2}}, {{"axis", 0}});
  const float third = 1.f / 3;
  check_close(y, {s3[0], third, s3[1], third, s3[2], third});
  // middle axis of [1,2,2]
  y = run1("Softmax", {{"x", F({1, 2, 2}, {0, 5, 0, 5})}}, {"y", DataType::f32, {1, 2, 2}}, {{"axis", -2}});
  check_close(y, {0.5, 0.5, 0.5, 0.5});
}

TEST_CASE("LayerNormalization over the last axis with scale and bias") {
  // Row [1, 2, 3]: mean 2, var 2/3; (x - 2) / sqrt(2/3 + 1e-5) = -+1.2247357 (1/sqrt(0.66667667)).
  // Row [10, 10, 40]: mean 20, var 200; (x - 20) / sqrt(200.00001) = -0.70710676, -0.70710676, 1.4142135.
  const double k = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  const double m = 1.0 / std::sqrt(200.0 + 1e-5);
  NdArray y = run1("LayerNormalization", {{"x", F({2, 3}, {1, 2, 3, 10, 10, 40})}, {"s", F({3}, {1, 2, 3})}, {"b", F({3}, {0, 1, -1})}},
                  {"y", DataType::f32, {2, 3}}, {{"epsilon", 1e-5}});
  check_close(y, {static_cast<float>(-k), 1.f, static_cast<float>(3 * k - 1), static_cast<float>(-10 * m),
                  static_cast<float>(-20 * m + 1), static_cast<float>(60 * m - 1)});
}

TEST_CASE("LayerNormalization over two axes, broadcast scale, no bias") {
  // x [2, 2, 2] normalized over the last two axes; each block {0, 2, 4, 6}: mean 3, var 5.
  // scale [2] = {1, 10} broadcast over [2, 2]; default epsilon 1e-5.
  const double k = 1.0 / std::sqrt(5.0 + 1e-5);
  NdArray y = run1("LayerNormalization", {{"x", F({2, 2, 2}, {0, 2, 4, 6, 6, 4, 2, 0})}, {"s", F({2}, {1, 10})}},
                  {"y", DataType::f32, {2, 2, 2}}, {{"axis", 1}});
  const float a = static_cast<float>(3 * k), b = static_cast<float>(k);
  check_close(y, {-a, -10 * b, b, 10 * a, a, 10 * b, -b, -10 * a});
}

TEST_CASE("LayerNormalization with a scale that broadcasts along a size-1 dimension") {
  // Normalized shape [2, 2]; scale [2, 1] = {1, 10} scales whole rows; bias [1] = {0.5}.
  // Block {0, 2, 4, 6}: mean 3, var 5 -> (-3k, -k, k, 3k) with k = 1 / sqrt(5 + 1e-5).
  const double k = 1.0 / std::sqrt(5.0 + 1e-5);
  NdArray y = run1("LayerNormalization", {{"x", F({1, 2, 2}, {0, 2, 4, 6})}, {"s", F({2, 1}, {1, 10})}, {"b", F({1}, {0.5f})}},
                  {"y", DataType::f32, {1, 2, 2}}, {{"axis", -2}});
  check_close(y, {static_cast<float>(-3 * k + 0.5), static_cast<float>(-k + 0.5), static_cast<float>(10 * k + 0.5),
                  static_cast<float>(30 * k + 0.5)});
}
