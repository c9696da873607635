// CPU kernels and shape inference: tables of cases with hand-computed
// expected values (or values from an independent naive reference written
// here), error cases that must name the node, and symbolic-shape inference.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/core/half.h"
#include "engine/cpu/kernels.h"
#include "engine/registry/op_table.h"
#include "test/unit/cpu_test_util.h"

using namespace glint;
using namespace glint::test;

namespace {


Tensor T(DataType dt, const Shape& s, const std::vector<double>& v) {
  Tensor t(dt, s);
  for (size_t i = 0; i < v.size() && static_cast<int64_t>(i) < t.size(); ++i) t.set_from_double(i, v[i]);
  return t;
}
Tensor iota(const Shape& s, float start = 0.f, float step = 1.f) {
  Tensor t(DataType::kFloat32, s);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = start + step * i;
  return t;
}
Tensor random(const Shape& s, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  Tensor t(DataType::kFloat32, s);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = d(g);
  return t;
}

// The shared runner and checker (cpu_test_util.h); here the infer function
// must agree exactly with what the kernel produced.
Status run(ir::Node node, const std::vector<const Tensor*>& in, std::vector<Tensor>* out) {
  return run_cpu_kernel(std::move(node), in, out, /*exact_shapes=*/true);
}
std::vector<Tensor> run_ok(const ir::Node& node, const std::vector<const Tensor*>& in) {
  return run_cpu_kernel_ok(node, in, /*exact_shapes=*/true);
}
void check_values(const Tensor& got, DataType dt, const Shape& shape, const std::vector<double>& want,
                  double tol = 1e-5) {
  check_tensor_values(got, dt, shape, want, tol);
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(t.size());
  for (int64_t i = 0; i < t.size(); ++i) v[i] = t.get_as_double(i);
  return v;
}


}  // namespace

TEST_CASE("cpu: unary ops", "[cpu]") {
  struct Case { const char* op; int opset; Attrs attrs; std::vector<float> x; std::vector<double> want; };
  const double e = std::exp(1.0);
  std::vector<Case> cases = {
      {"Relu", 14, {}, {-2, 0, 3}, {0, 0, 3}},
      {"LeakyRelu", 6, {}, {-2, 0, 3}, {-0.02, 0, 3}},
      {"LeakyRelu", 16, {{"alpha", af(0.5f)}}, {-2, 1}, {-1, 1}},
      {"Sigmoid", 13, {}, {0, 1, -1}, {0.5, 1 / (1 + 1 / e), 1 / (1 + e)}},
      {"Tanh", 13, {}, {0, 1}, {0, std::tanh(1.0)}},
      {"Elu", 6, {}, {-1, 2}, {1 / e - 1, 2}},
      {"Selu", 6, {}, {-1, 2}, {1.0507009873554805 * 1.6732632423543772 * (1 / e - 1), 2 * 1.0507009873554805}},
      {"HardSigmoid", 6, {}, {-10, 0, 1, 10}, {0, 0.5, 0.7, 1}},
      {"HardSwish", 14, {}, {-4, 0, 1, 4}, {0, 0, 1 * (1 / 6.0 + 0.5), 4}},
      {"Softplus", 1, {}, {0, 1}, {std::log(2.0), std::log(1 + e)}},
      {"Softsign", 1, {}, {-1, 3}, {-0.5, 0.75}},
      {"Abs", 13, {}, {-1.5, 2}, {1.5, 2}},
      {"Neg", 13, {}, {-1.5, 2}, {1.5, -2}},
      {"Exp", 13, {}, {0, 1}, {1, e}},
      {"Log", 13, {}, {1, static_cast<float>(e)}, {0, 1}},
      {"Sqrt", 13, {}, {4, 2}, {2, std::sqrt(2.0)}},
      {"Reciprocal", 13, {}, {4, -0.5}, {0.25, -2}},
      {"Floor", 13, {}, {-1.5, 1.5}, {-2, 1}},
      {"Ceil", 13, {}, {-1.5, 1.5}, {-1, 2}},
      {"Round", 11, {}, {0.5, 1.5, 2.5, -0.5, 2.6}, {0, 2, 2, -0, 3}},
      {"Sign", 13, {}, {-3, 0, 2}, {-1, 0, 1}},
      {"Erf", 13, {}, {0, 1}, {0, std::erf(1.0)}},
      {"Sin", 7, {}, {0, 1}, {0, std::sin(1.0)}},
      {"Cos", 7, {}, {0, 1}, {1, std::cos(1.0)}},
      {"Atan", 7, {}, {1}, {std::atan(1.0)}},
      {"Elu", 6, {{"alpha", af(2.f)}}, {-1}, {2 * (1 / e - 1)}},
      {"Celu", 12, {}, {-1, 2}, {1 / e - 1, 2}},
      {"ThresholdedRelu", 10, {}, {0.5, 2}, {0, 2}},
  };
  for (auto& c : cases) {
    SECTION(std::string(c.op) + " opset " + std::to_string(c.opset) + " " + std::to_string(c.x.size())) {
      Tensor x = F({static_cast<int64_t>(c.x.size())}, c.x);
      auto out = run_ok(make_node(c.op, c.opset, 1, c.attrs), {&x});
      check_values(out[0], DataType::kFloat32, x.shape(), c.want);
    }
  }
}

TEST_CASE("cpu: integer unary ops and Not", "[cpu]") {
  Tensor x = T(DataType::kInt32, {3}, {-3, 0, 5});
  check_values(run_ok(make_node("Abs", 13, 1), {&x})[0], DataType::kInt32, {3}, {3, 0, 5});
  check_values(run_ok(make_node("Neg", 13, 1), {&x})[0], DataType::kInt32, {3}, {3, 0, -5});
  check_values(run_ok(make_node("Relu", 14, 1), {&x})[0], DataType::kInt32, {3}, {0, 0, 5});
  Tensor b = T(DataType::kBool, {2}, {1, 0});
  check_values(run_ok(make_node("Not", 1, 1), {&b})[0], DataType::kBool, {2}, {0, 1});
  std::vector<Tensor> out;
  Status st = run(make_node("Exp", 13, 1), {&x}, &out);
  CHECK(st.code() == StatusCode::kUnsupported);
  CHECK_THAT(st.message(), Catch::Contains("n_Exp") && Catch::Contains("int32"));
}

TEST_CASE("cpu: Clip attribute form (opset < 11) and input form (opset >= 11)", "[cpu]") {
  Tensor x = F({5}, {-3, -1, 0, 1, 3});
  check_values(run_ok(make_node("Clip", 6, 1, {{"min", af(-1.f)}, {"max", af(2.f)}}), {&x})[0],
               DataType::kFloat32, {5}, {-1, -1, 0, 1, 2});
  check_values(run_ok(make_node("Clip", 6, 1, {{"max", af(0.5f)}}), {&x})[0], DataType::kFloat32, {5},
               {-3, -1, 0, 0.5, 0.5});
  Tensor lo = F({}, {-2}), hi = F({}, {0});
  check_values(run_ok(make_node("Clip", 13, 3), {&x, &lo, &hi})[0], DataType::kFloat32, {5}, {-2, -1, 0, 0, 0});
  check_values(run_ok(make_node("Clip", 13, 3), {&x, nullptr, &hi})[0], DataType::kFloat32, {5}, {-3, -1, 0, 0, 0});
  check_values(run_ok(make_node("Clip", 11, 1), {&x})[0], DataType::kFloat32, {5}, {-3, -1, 0, 1, 3});
  Tensor xi = T(DataType::kInt64, {3}, {-5, 0, 9}), loi = T(DataType::kInt64, {}, {-1}), hii = T(DataType::kInt64, {}, {4});
  check_values(run_ok(make_node("Clip", 13, 3), {&xi, &loi, &hii})[0], DataType::kInt64, {3}, {-1, 0, 4});
}

TEST_CASE("cpu: binary ops broadcast like numpy", "[cpu]") {
  struct Case { const char* op; Tensor a, b; DataType dt; Shape shape; std::vector<double> want; };
  std::vector<Case> cases = {
      {"Add", F({2, 3}, {1, 2, 3, 4, 5, 6}), F({3}, {10, 20, 30}), DataType::kFloat32, {2, 3}, {11, 22, 33, 14, 25, 36}},
      {"Sub", F({2, 1}, {1, 2}), F({1, 3}, {1, 2, 3}), DataType::kFloat32, {2, 3}, {0, -1, -2, 1, 0, -1}},
      {"Mul", F({}, {2}), F({2, 2}, {1, 2, 3, 4}), DataType::kFloat32, {2, 2}, {2, 4, 6, 8}},
      {"Div", F({2}, {1, 3}), F({2}, {2, 4}), DataType::kFloat32, {2}, {0.5, 0.75}},
      {"Div", T(DataType::kInt32, {3}, {7, -7, 5}), T(DataType::kInt32, {3}, {2, 2, 0}), DataType::kInt32, {3}, {3, -3, 0}},
      {"Add", T(DataType::kInt64, {2}, {1, 2}), T(DataType::kInt64, {1}, {40}), DataType::kInt64, {2}, {41, 42}},
      {"Mul", T(DataType::kUint8, {2}, {3, 200}), T(DataType::kUint8, {2}, {4, 2}), DataType::kUint8, {2}, {12, 144}},
      {"Pow", F({3}, {2, 3, 4}), F({1}, {2}), DataType::kFloat32, {3}, {4, 9, 16}},
      {"Pow", F({2}, {2, 9}), T(DataType::kInt64, {2}, {3, 0}), DataType::kFloat32, {2}, {8, 1}},
      {"Equal", F({3}, {1, 2, 3}), F({}, {2}), DataType::kBool, {3}, {0, 1, 0}},
      {"Greater", T(DataType::kInt32, {2, 1}, {1, 5}), T(DataType::kInt32, {2}, {2, 4}), DataType::kBool, {2, 2}, {0, 0, 1, 1}},
      {"LessOrEqual", F({2}, {1, 3}), F({2}, {1, 2}), DataType::kBool, {2}, {1, 0}},
      {"And", T(DataType::kBool, {2, 2}, {1, 1, 0, 0}), T(DataType::kBool, {2}, {1, 0}), DataType::kBool, {2, 2}, {1, 0, 0, 0}},
      {"Xor", T(DataType::kBool, {2}, {1, 0}), T(DataType::kBool, {2}, {1, 1}), DataType::kBool, {2}, {0, 1}},
      {"Mod", T(DataType::kInt32, {4}, {5, -5, 5, -5}), T(DataType::kInt32, {4}, {3, 3, -3, -3}), DataType::kInt32, {4}, {2, 1, -1, -2}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION(std::string(c.op) + " case " + std::to_string(i)) {
      auto out = run_ok(make_node(c.op, 13, 2), {&c.a, &c.b});
      check_values(out[0], c.dt, c.shape, c.want);
    }
  }
}

TEST_CASE("cpu: variadic Max/Min/Sum/Mean and Where", "[cpu]") {
  Tensor a = F({3}, {1, 5, 3}), b = F({1}, {2}), c = F({2, 1}, {0, 10});
  check_values(run_ok(make_node("Max", 13, 3), {&a, &b, &c})[0], DataType::kFloat32, {2, 3}, {2, 5, 3, 10, 10, 10});
  check_values(run_ok(make_node("Min", 13, 2), {&a, &b})[0], DataType::kFloat32, {3}, {1, 2, 2});
  check_values(run_ok(make_node("Sum", 13, 3), {&a, &b, &c})[0], DataType::kFloat32, {2, 3}, {3, 7, 5, 13, 17, 15});
  check_values(run_ok(make_node("Mean", 13, 2), {&a, &b})[0], DataType::kFloat32, {3}, {1.5, 3.5, 2.5});
  check_values(run_ok(make_node("Sum", 13, 1), {&a})[0], DataType::kFloat32, {3}, {1, 5, 3});
  Tensor cond = T(DataType::kBool, {2, 1}, {1, 0});
  Tensor x = F({3}, {1, 2, 3}), y = F({}, {-1});
  check_values(run_ok(make_node("Where", 16, 3), {&cond, &x, &y})[0], DataType::kFloat32, {2, 3}, {1, 2, 3, -1, -1, -1});
}

TEST_CASE("cpu: float16 results are rounded to float16", "[cpu]") {
  // 1 + 2^-12 is not a float16 value: it rounds (to nearest even) to 1.
  Tensor a = T(DataType::kFloat16, {2}, {1, 1}), b = T(DataType::kFloat16, {2}, {0.000244140625, 0.00146484375});
  auto out = run_ok(make_node("Add", 13, 2), {&a, &b});
  REQUIRE(out[0].dtype() == DataType::kFloat16);
  CHECK(out[0].data<float>()[0] == 1.0f);
  CHECK(out[0].data<float>()[1] == round_to_half(1.00146484375f));
  Tensor x = T(DataType::kFloat16, {1}, {0.1});
  auto s = run_ok(make_node("Sigmoid", 13, 1), {&x});
  CHECK(s[0].data<float>()[0] == round_to_half(1.f / (1.f + std::exp(-x.data<float>()[0]))));
}

TEST_CASE("cpu: Conv matches the ONNX example and a naive reference", "[cpu]") {
  Tensor x = iota({1, 1, 5, 5});
  Tensor w = F({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  check_values(run_ok(make_node("Conv", 11, 2, {{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}}), {&x, &w})[0],
               DataType::kFloat32, {1, 1, 5, 5},
               {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
  check_values(run_ok(make_node("Conv", 11, 2), {&x, &w})[0], DataType::kFloat32, {1, 1, 3, 3},
               {54, 63, 72, 99, 108, 117, 144, 153, 162});
  // strides 2 with asymmetric pads (ONNX test_conv_with_strides_and_asymmetric_padding).
  Tensor x7 = iota({1, 1, 7, 5});
  check_values(run_ok(make_node("Conv", 11, 2, {{"strides", ais({2, 2})}, {"pads", ais({1, 0, 1, 0})}}), {&x7, &w})[0],
               DataType::kFloat32, {1, 1, 4, 2}, {21, 33, 99, 117, 189, 207, 171, 183});

  struct Case { Shape xs, ws; int64_t group; std::vector<int64_t> s, d, p; bool bias; };
  std::vector<Case> cases = {
      {{1, 3, 8, 8}, {4, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{2, 4, 9, 7}, {6, 2, 3, 2}, 2, {2, 1}, {1, 1}, {0, 1, 2, 0}, true},
      {{1, 4, 10, 10}, {4, 1, 3, 3}, 4, {1, 1}, {2, 2}, {2, 2, 2, 2}, false},  // depthwise, dilated
      {{1, 5, 6, 6}, {7, 5, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},     // 1x1 direct path
      {{1, 16, 13, 13}, {33, 16, 3, 3}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, true}, // GEMM edge tiles
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION("naive reference case " + std::to_string(i)) {
      Tensor xx = random(c.xs, 1 + i), ww = random(c.ws, 100 + i), bb = random({c.ws[0]}, 200 + i);
      Attrs attrs = {{"group", ai(c.group)}, {"strides", ais(c.s)}, {"dilations", ais(c.d)}, {"pads", ais(c.p)}};
      std::vector<const Tensor*> in{&xx, &ww};
      if (c.bias) in.push_back(&bb);
      auto out = run_ok(make_node("Conv", 11, in.size(), attrs), in);
      Tensor want = reference_conv2d(xx, ww, c.bias ? &bb : nullptr, c.group, c.s, c.d, c.p);
      check_values(out[0], DataType::kFloat32, want.shape(), values(want), 1e-4);
    }
  }
}

TEST_CASE("cpu: Conv auto_pad and 1-D", "[cpu]") {
  Tensor x = iota({1, 1, 5, 5});
  Tensor w = F({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  // SAME_LOWER with stride 2: out 3x3, total pad 2 split 1/1 (ONNX test_conv_with_autopad_same).
  auto out = run_ok(make_node("Conv", 11, 2, {{"auto_pad", as("SAME_LOWER")}, {"strides", ais({2, 2})}}), {&x, &w});
  check_values(out[0], DataType::kFloat32, {1, 1, 3, 3}, {12, 27, 24, 63, 108, 81, 72, 117, 84});
  // SAME_UPPER, 2x2 kernel, stride 1: pad only at the end.
  Tensor w2 = F({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor x2 = iota({1, 1, 2, 2});
  out = run_ok(make_node("Conv", 11, 2, {{"auto_pad", as("SAME_UPPER")}}), {&x2, &w2});
  check_values(out[0], DataType::kFloat32, {1, 1, 2, 2}, {6, 4, 5, 3});
  out = run_ok(make_node("Conv", 11, 2, {{"auto_pad", as("SAME_LOWER")}}), {&x2, &w2});
  check_values(out[0], DataType::kFloat32, {1, 1, 2, 2}, {0, 1, 2, 6});
  out = run_ok(make_node("Conv", 11, 2, {{"auto_pad", as("VALID")}}), {&x, &w});
  check_values(out[0], DataType::kFloat32, {1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162});
  Tensor x1 = iota({1, 2, 4}), w1 = F({1, 2, 2}, {1, 1, 1, -1});
  out = run_ok(make_node("Conv", 11, 2), {&x1, &w1});
  check_values(out[0], DataType::kFloat32, {1, 1, 3}, {1 - 5 + 0 + 4 + 0, 1 + 2 + 5 - 6, 2 + 3 + 6 - 7});
}

TEST_CASE("cpu: pools", "[cpu]") {
  Tensor x4 = iota({1, 1, 4, 4}, 1);
  Tensor x5 = iota({1, 1, 5, 5}, 1);
  struct Case { const char* op; int opset; Attrs attrs; Tensor* x; Shape shape; std::vector<double> want; };
  std::vector<Case> cases = {
      {"MaxPool", 12, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}, &x4, {1, 1, 2, 2}, {11, 12, 15, 16}},
      {"MaxPool", 12, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}}, &x4, {1, 1, 1, 1}, {11}},
      {"MaxPool", 12, {{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 2})}}, &x4, {1, 1, 2, 2}, {11, 12, 15, 16}},
      {"MaxPool", 12, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"auto_pad", as("SAME_UPPER")}}, &x5, {1, 1, 3, 3},
       {7, 9, 10, 17, 19, 20, 22, 24, 25}},
      {"MaxPool", 12, {{"kernel_shape", ais({2, 2})}, {"auto_pad", as("SAME_LOWER")}}, &x4, {1, 1, 4, 4},
       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
      {"AveragePool", 11, {{"kernel_shape", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}, &x4, {1, 1, 3, 3},
       {1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16}},
      {"AveragePool", 11, {{"kernel_shape", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}, {"count_include_pad", ai(1)}},
       &x4, {1, 1, 3, 3}, {0.25, 1.25, 1, 3.5, 8.5, 5, 3.25, 7.25, 4}},
      {"AveragePool", 19, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}, &x4, {1, 1, 2, 2}, {6, 7.5, 12, 13.5}},
      {"GlobalAveragePool", 1, {}, &x4, {1, 1, 1, 1}, {8.5}},
      {"GlobalMaxPool", 1, {}, &x5, {1, 1, 1, 1}, {25}},
      {"LpPool", 18, {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}, {"p", ai(1)}}, &x4, {1, 1, 2, 2}, {14, 22, 46, 54}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION(std::string(c.op) + " case " + std::to_string(i)) {
      auto out = run_ok(make_node(c.op, c.opset, 1, c.attrs), {c.x});
      check_values(out[0], DataType::kFloat32, c.shape, c.want);
    }
  }
  SECTION("MaxPool Indices output") {
    auto out = run_ok(make_node("MaxPool", 12, 1, {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}}, 2), {&x4});
    check_values(out[1], DataType::kInt64, {1, 1, 2, 2}, {5, 7, 13, 15});
    out = run_ok(make_node("MaxPool", 12, 1, {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}, {"storage_order", ai(1)}}, 2), {&x4});
    check_values(out[1], DataType::kInt64, {1, 1, 2, 2}, {5, 13, 7, 15});
  }
  SECTION("MaxPool on uint8") {
    Tensor u = T(DataType::kUint8, {1, 1, 2, 2}, {1, 200, 3, 4});
    check_values(run_ok(make_node("MaxPool", 12, 1, {{"kernel_shape", ais({2, 2})}}), {&u})[0], DataType::kUint8, {1, 1, 1, 1}, {200});
  }
}

TEST_CASE("cpu: Softmax before and after opset 13", "[cpu]") {
  Tensor x = F({2, 2, 2}, {0, 1, 2, 3, 1, 1, 1, 1});
  // opset 11, axis 1: each batch row of 4 elements is one distribution.
  auto out = run_ok(make_node("Softmax", 11, 1), {&x});
  double z = 1 + std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_values(out[0], DataType::kFloat32, {2, 2, 2},
               {1 / z, std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 0.25, 0.25, 0.25, 0.25});
  // opset 13, axis -1: pairs along the last axis.
  out = run_ok(make_node("Softmax", 13, 1), {&x});
  double p = 1 / (1 + std::exp(1.0));
  check_values(out[0], DataType::kFloat32, {2, 2, 2}, {p, 1 - p, p, 1 - p, 0.5, 0.5, 0.5, 0.5});
  // opset 13, axis 1: along the middle axis only.
  out = run_ok(make_node("Softmax", 13, 1, {{"axis", ai(1)}}), {&x});
  double q = 1 / (1 + std::exp(2.0));
  check_values(out[0], DataType::kFloat32, {2, 2, 2}, {q, q, 1 - q, 1 - q, 0.5, 0.5, 0.5, 0.5});
  out = run_ok(make_node("LogSoftmax", 13, 1), {&x});
  check_values(out[0], DataType::kFloat32, {2, 2, 2},
               {std::log(p), std::log(1 - p), std::log(p), std::log(1 - p), std::log(0.5), std::log(0.5), std::log(0.5), std::log(0.5)});
  out = run_ok(make_node("Hardmax", 13, 1), {&x});
  check_values(out[0], DataType::kFloat32, {2, 2, 2}, {0, 1, 0, 1, 1, 0, 1, 0});
}

TEST_CASE("cpu: MatMul and Gemm", "[cpu]") {
  Tensor a = iota({2, 3}, 1), b = iota({3, 2}, 1);
  check_values(run_ok(make_node("MatMul", 13, 2), {&a, &b})[0], DataType::kFloat32, {2, 2}, {22, 28, 49, 64});
  Tensor v = F({3}, {1, 0, -1});
  check_values(run_ok(make_node("MatMul", 13, 2), {&v, &b})[0], DataType::kFloat32, {2}, {-4, -4});
  check_values(run_ok(make_node("MatMul", 13, 2), {&a, &v})[0], DataType::kFloat32, {2}, {-2, -2});
  check_values(run_ok(make_node("MatMul", 13, 2), {&v, &v})[0], DataType::kFloat32, {}, {2});
  // Batched with broadcast: [2,1,2,3] x [3,3,2] -> [2,3,2,2]; check against loops.
  Tensor ba = random({2, 1, 2, 3}, 7), bb = random({3, 3, 2}, 8);
  auto out = run_ok(make_node("MatMul", 13, 2), {&ba, &bb});
  REQUIRE(out[0].shape() == Shape{2, 3, 2, 2});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t c = 0; c < 2; ++c) {
          double acc = 0;
          for (int64_t k = 0; k < 3; ++k) acc += ba.data<float>()[(i * 2 + r) * 3 + k] * bb.data<float>()[(j * 3 + k) * 2 + c];
          CHECK(out[0].data<float>()[((i * 3 + j) * 2 + r) * 2 + c] == Approx(acc).margin(1e-5));
        }
  Tensor ia = T(DataType::kInt64, {1, 2}, {2, 3}), ib = T(DataType::kInt64, {2, 1}, {4, 5});
  check_values(run_ok(make_node("MatMul", 13, 2), {&ia, &ib})[0], DataType::kInt64, {1, 1}, {23});

  Tensor c = F({2}, {100, 200});
  Tensor at = iota({3, 2}, 1);  // A^T of a
  check_values(run_ok(make_node("Gemm", 13, 3, {{"alpha", af(2.f)}, {"beta", af(0.5f)}}), {&a, &b, &c})[0],
               DataType::kFloat32, {2, 2}, {94, 156, 148, 228});
  check_values(run_ok(make_node("Gemm", 13, 3, {{"transA", ai(1)}}), {&at, &b, &c})[0], DataType::kFloat32, {2, 2},
               {135, 244, 144, 256});
  Tensor bt = F({2, 3}, {1, 3, 5, 2, 4, 6});  // B^T of b
  check_values(run_ok(make_node("Gemm", 13, 2, {{"transB", ai(1)}}), {&a, &bt})[0], DataType::kFloat32, {2, 2}, {22, 28, 49, 64});
  Tensor cs = F({}, {1});
  check_values(run_ok(make_node("Gemm", 6, 3, {{"broadcast", ai(1)}}), {&a, &b, &cs})[0], DataType::kFloat32, {2, 2}, {23, 29, 50, 65});
  // A large enough product to cross the GEMM's blocking (K > 256, odd M/N).
  Tensor la = random({37, 300}, 3), lb = random({300, 29}, 4);
  out = run_ok(make_node("Gemm", 13, 2), {&la, &lb});
  for (int64_t i = 0; i < 37; i += 6)
    for (int64_t j = 0; j < 29; j += 5) {
      double acc = 0;
      for (int64_t k = 0; k < 300; ++k) acc += la.data<float>()[i * 300 + k] * lb.data<float>()[k * 29 + j];
      CHECK(out[0].data<float>()[i * 29 + j] == Approx(acc).margin(1e-4));
    }
}

TEST_CASE("cpu: shape ops", "[cpu]") {
  Tensor x = iota({2, 3, 4});
  auto shape_of = [](const Tensor& t) { return t.shape(); };
  Tensor s1 = I64({3}, {0, -1, 2});
  CHECK(shape_of(run_ok(make_node("Reshape", 13, 2), {&x, &s1})[0]) == Shape{2, 6, 2});
  Tensor s2 = I64({2}, {-1, 4});
  auto r = run_ok(make_node("Reshape", 13, 2), {&x, &s2})[0];
  check_values(r, DataType::kFloat32, {6, 4}, values(x));
  CHECK(shape_of(run_ok(make_node("Reshape", 1, 1, {{"shape", ais({4, 0, 2})}}), {&x})[0]) == Shape{4, 3, 2});
  Tensor empty = Tensor(DataType::kFloat32, {0, 3});
  Tensor s3 = I64({2}, {3, 0});
  CHECK(shape_of(run_ok(make_node("Reshape", 14, 2, {{"allowzero", ai(1)}}), {&empty, &s3})[0]) == Shape{3, 0});
  CHECK(shape_of(run_ok(make_node("Flatten", 13, 1), {&x})[0]) == Shape{2, 12});
  CHECK(shape_of(run_ok(make_node("Flatten", 13, 1, {{"axis", ai(0)}}), {&x})[0]) == Shape{1, 24});
  CHECK(shape_of(run_ok(make_node("Flatten", 13, 1, {{"axis", ai(-1)}}), {&x})[0]) == Shape{6, 4});
  CHECK(shape_of(run_ok(make_node("Flatten", 13, 1, {{"axis", ai(3)}}), {&x})[0]) == Shape{24, 1});
  check_values(run_ok(make_node("Transpose", 13, 1, {{"perm", ais({2, 0, 1})}}), {&x})[0], DataType::kFloat32, {4, 2, 3},
               {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
  Tensor m = iota({2, 3});
  check_values(run_ok(make_node("Transpose", 13, 1), {&m})[0], DataType::kFloat32, {3, 2}, {0, 3, 1, 4, 2, 5});
  Tensor y = iota({1, 3, 1, 2});
  CHECK(shape_of(run_ok(make_node("Squeeze", 11, 1), {&y})[0]) == Shape{3, 2});
  CHECK(shape_of(run_ok(make_node("Squeeze", 11, 1, {{"axes", ais({-2})}}), {&y})[0]) == Shape{1, 3, 2});
  Tensor ax = I64({1}, {0});
  CHECK(shape_of(run_ok(make_node("Squeeze", 13, 2), {&y, &ax})[0]) == Shape{3, 1, 2});
  CHECK(shape_of(run_ok(make_node("Unsqueeze", 11, 1, {{"axes", ais({0, -1})}}), {&m})[0]) == Shape{1, 2, 3, 1});
  Tensor ax2 = I64({2}, {1, 3});
  CHECK(shape_of(run_ok(make_node("Unsqueeze", 13, 2), {&m, &ax2})[0]) == Shape{2, 1, 3, 1});
  check_values(run_ok(make_node("Shape", 13, 1), {&x})[0], DataType::kInt64, {3}, {2, 3, 4});
  check_values(run_ok(make_node("Shape", 15, 1, {{"start", ai(1)}}), {&x})[0], DataType::kInt64, {2}, {3, 4});
  check_values(run_ok(make_node("Shape", 15, 1, {{"start", ai(-1)}, {"end", ai(10)}}), {&x})[0], DataType::kInt64, {1}, {4});
  check_values(run_ok(make_node("Size", 13, 1), {&x})[0], DataType::kInt64, {}, {24});
  check_values(run_ok(make_node("Identity", 13, 1), {&m})[0], DataType::kFloat32, {2, 3}, values(m));
  auto d = run_ok(make_node("Dropout", 13, 1, {}, 2), {&m});
  check_values(d[0], DataType::kFloat32, {2, 3}, values(m));
  check_values(d[1], DataType::kBool, {2, 3}, {1, 1, 1, 1, 1, 1});
  d = run_ok(make_node("Dropout", 7, 1, {{"ratio", af(0.3f)}}, 2), {&m});
  check_values(d[1], DataType::kFloat32, {2, 3}, {1, 1, 1, 1, 1, 1});
}

TEST_CASE("cpu: Concat, Split, Gather, Slice, Expand, Tile, Pad", "[cpu]") {
  Tensor a = iota({2, 2}), b = iota({2, 1}, 10);
  check_values(run_ok(make_node("Concat", 13, 2, {{"axis", ai(1)}}), {&a, &b})[0], DataType::kFloat32, {2, 3}, {0, 1, 10, 2, 3, 11});
  check_values(run_ok(make_node("Concat", 13, 2, {{"axis", ai(-2)}}), {&a, &a})[0], DataType::kFloat32, {4, 2}, {0, 1, 2, 3, 0, 1, 2, 3});
  Tensor i1 = I64({2}, {1, 2}), i2 = I64({1}, {3});
  check_values(run_ok(make_node("Concat", 13, 2, {{"axis", ai(0)}}), {&i1, &i2})[0], DataType::kInt64, {3}, {1, 2, 3});
  Tensor s1(DataType::kString, {1}), s2(DataType::kString, {2});
  s1.strings() = {"a"};
  s2.strings() = {"b", "c"};
  auto sc = run_ok(make_node("Concat", 13, 2, {{"axis", ai(0)}}), {&s1, &s2})[0];
  CHECK(sc.strings() == std::vector<std::string>{"a", "b", "c"});

  Tensor x = iota({2, 6});
  auto sp = run_ok(make_node("Split", 11, 1, {{"axis", ai(1)}, {"split", ais({2, 4})}}, 2), {&x});
  check_values(sp[0], DataType::kFloat32, {2, 2}, {0, 1, 6, 7});
  check_values(sp[1], DataType::kFloat32, {2, 4}, {2, 3, 4, 5, 8, 9, 10, 11});
  sp = run_ok(make_node("Split", 13, 1, {{"axis", ai(1)}}, 3), {&x});
  check_values(sp[2], DataType::kFloat32, {2, 2}, {4, 5, 10, 11});

  Tensor data = iota({3, 2});
  Tensor idx = I64({2, 2}, {0, 1, -1, 0});
  check_values(run_ok(make_node("Gather", 13, 2), {&data, &idx})[0], DataType::kFloat32, {2, 2, 2},
               {0, 1, 2, 3, 4, 5, 0, 1});
  Tensor idx1 = T(DataType::kInt32, {1}, {1});
  check_values(run_ok(make_node("Gather", 13, 2, {{"axis", ai(1)}}), {&data, &idx1})[0], DataType::kFloat32, {3, 1}, {1, 3, 5});
  Tensor scalar_idx = I64({}, {2});
  check_values(run_ok(make_node("Gather", 13, 2), {&data, &scalar_idx})[0], DataType::kFloat32, {2}, {4, 5});

  Tensor y = iota({3, 4});
  check_values(run_ok(make_node("Slice", 9, 1, {{"starts", ais({1, 0})}, {"ends", ais({1000, 3})}}), {&y})[0],
               DataType::kFloat32, {2, 3}, {4, 5, 6, 8, 9, 10});
  Tensor st = I64({1}, {-1}), en = I64({1}, {-1000}), axs = I64({1}, {1}), steps = I64({1}, {-2});
  check_values(run_ok(make_node("Slice", 13, 5), {&y, &st, &en, &axs, &steps})[0], DataType::kFloat32, {3, 2},
               {3, 1, 7, 5, 11, 9});
  Tensor st2 = I64({2}, {0, 1}), en2 = I64({2}, {2, 3});
  check_values(run_ok(make_node("Slice", 13, 3), {&y, &st2, &en2})[0], DataType::kFloat32, {2, 2}, {1, 2, 5, 6});
  Tensor st3 = I64({1}, {5}), en3 = I64({1}, {9});
  check_values(run_ok(make_node("Slice", 13, 3), {&y, &st3, &en3})[0], DataType::kFloat32, {0, 4}, {});

  Tensor e = F({3, 1}, {1, 2, 3});
  Tensor es = I64({3}, {2, 1, 2});
  check_values(run_ok(make_node("Expand", 13, 2), {&e, &es})[0], DataType::kFloat32, {2, 3, 2},
               {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  Tensor reps = I64({2}, {1, 2});
  check_values(run_ok(make_node("Tile", 13, 2), {&a, &reps})[0], DataType::kFloat32, {2, 4}, {0, 1, 0, 1, 2, 3, 2, 3});
  Tensor pads = I64({4}, {0, 1, 1, 0});
  Tensor cv = F({}, {9});
  check_values(run_ok(make_node("Pad", 13, 3), {&a, &pads, &cv})[0], DataType::kFloat32, {3, 3}, {9, 0, 1, 9, 2, 3, 9, 9, 9});
  Tensor r = iota({1, 3});
  Tensor pads2 = I64({4}, {0, 2, 0, 1});
  check_values(run_ok(make_node("Pad", 13, 2, {{"mode", as("reflect")}}), {&r, &pads2})[0], DataType::kFloat32, {1, 6}, {2, 1, 0, 1, 2, 1});
  check_values(run_ok(make_node("Pad", 13, 2, {{"mode", as("edge")}}), {&r, &pads2})[0], DataType::kFloat32, {1, 6}, {0, 0, 0, 1, 2, 2});
  check_values(run_ok(make_node("Pad", 2, 1, {{"pads", ais({0, 1, 0, 0})}, {"value", af(-1.f)}}), {&r})[0], DataType::kFloat32, {1, 4}, {-1, 0, 1, 2});
}

TEST_CASE("cpu: ConstantOfShape, Constant, Range, Cast", "[cpu]") {
  Tensor shape = I64({2}, {2, 3});
  check_values(run_ok(make_node("ConstantOfShape", 9, 1), {&shape})[0], DataType::kFloat32, {2, 3}, {0, 0, 0, 0, 0, 0});
  check_values(run_ok(make_node("ConstantOfShape", 9, 1, {{"value", at(I64({1}, {7}))}}), {&shape})[0], DataType::kInt64,
               {2, 3}, {7, 7, 7, 7, 7, 7});
  Tensor empty_shape = I64({0}, {});
  check_values(run_ok(make_node("ConstantOfShape", 9, 1, {{"value", at(F({1}, {2.5f}))}}), {&empty_shape})[0],
               DataType::kFloat32, {}, {2.5});
  check_values(run_ok(make_node("Constant", 13, 0, {{"value", at(F({2}, {1, 2}))}}), {})[0], DataType::kFloat32, {2}, {1, 2});
  check_values(run_ok(make_node("Constant", 13, 0, {{"value_ints", ais({4, 5})}}), {})[0], DataType::kInt64, {2}, {4, 5});
  Tensor s = F({}, {1}), l = F({}, {2}), dl = F({}, {0.25});
  check_values(run_ok(make_node("Range", 11, 3), {&s, &l, &dl})[0], DataType::kFloat32, {4}, {1, 1.25, 1.5, 1.75});
  Tensor si = I64({}, {10}), li = I64({}, {4}), di = I64({}, {-3});
  check_values(run_ok(make_node("Range", 11, 3), {&si, &li, &di})[0], DataType::kInt64, {2}, {10, 7});

  struct Case { DataType from, to; std::vector<double> in, want; };
  const double big = 3e10;
  std::vector<Case> cases = {
      {DataType::kFloat32, DataType::kInt32, {1.9, -1.9, 0, big}, {1, -1, 0, 2147483647}},
      {DataType::kFloat32, DataType::kUint8, {3.7, 255, 300}, {3, 255, 255}},
      {DataType::kFloat32, DataType::kBool, {0, 0.5, -2}, {0, 1, 1}},
      {DataType::kBool, DataType::kFloat32, {1, 0}, {1, 0}},
      {DataType::kInt64, DataType::kFloat32, {-5, 123456}, {-5, 123456}},
      {DataType::kInt32, DataType::kInt8, {127, 128, -129}, {127, -128, 127}},
      {DataType::kFloat32, DataType::kFloat16, {0.1, 65504, 1e6}, {round_to_half(0.1f), 65504, INFINITY}},
      {DataType::kFloat16, DataType::kFloat32, {0.5, -2}, {0.5, -2}},
      {DataType::kFloat32, DataType::kFloat64, {0.1}, {static_cast<double>(0.1f)}},
      {DataType::kFloat64, DataType::kInt64, {-7.9}, {-7}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION("Cast " + dtype_name(c.from) + " to " + dtype_name(c.to)) {
      Tensor x = T(c.from, {static_cast<int64_t>(c.in.size())}, c.in);
      auto out = run_ok(make_node("Cast", 13, 1, {{"to", ai(static_cast<int64_t>(c.to))}}), {&x});
      check_values(out[0], c.to, x.shape(), c.want);
    }
  }
  SECTION("Cast to and from string") {
    Tensor x = F({3}, {1.5f, -2.f, 0.1f});
    auto out = run_ok(make_node("Cast", 13, 1, {{"to", ai(8)}}), {&x});
    CHECK(out[0].strings() == std::vector<std::string>{"1.5", "-2", "0.1"});
    auto back = run_ok(make_node("Cast", 13, 1, {{"to", ai(1)}}), {&out[0]});
    check_values(back[0], DataType::kFloat32, {3}, {1.5, -2, 0.1});
  }
}

TEST_CASE("cpu: normalization", "[cpu]") {
  Tensor x = F({1, 2, 1, 2}, {1, 2, 3, 4});
  Tensor scale = F({2}, {1, 2}), bias = F({2}, {0, 1}), mean = F({2}, {1, 3}), var = F({2}, {4, 1});
  const double e = 1e-5;
  auto out = run_ok(make_node("BatchNormalization", 15, 5), {&x, &scale, &bias, &mean, &var});
  check_values(out[0], DataType::kFloat32, {1, 2, 1, 2},
               {0, 1 / std::sqrt(4 + e), 1, 2 / std::sqrt(1 + e) + 1});
  out = run_ok(make_node("BatchNormalization", 7, 5, {{"epsilon", af(1.f)}}), {&x, &scale, &bias, &mean, &var});
  check_values(out[0], DataType::kFloat32, {1, 2, 1, 2}, {0, 1 / std::sqrt(5.0), 1, 2 / std::sqrt(2.0) + 1});
  Tensor in = F({1, 2, 2}, {1, 3, 5, 9});
  Tensor is = F({2}, {1, 1}), ib = F({2}, {0, 7});
  out = run_ok(make_node("InstanceNormalization", 6, 3, {{"epsilon", af(0.f)}}), {&in, &is, &ib});
  check_values(out[0], DataType::kFloat32, {1, 2, 2}, {-1, 1, 6, 8});
  Tensor ln = F({2, 2}, {1, 3, 2, 6});
  Tensor ls = F({2}, {1, 2}), lb = F({2}, {0, 1});
  out = run_ok(make_node("LayerNormalization", 17, 3, {{"epsilon", af(0.f)}}), {&ln, &ls, &lb});
  check_values(out[0], DataType::kFloat32, {2, 2}, {-1, 3, -1, 3});
}

TEST_CASE("cpu: reductions and ArgMax", "[cpu]") {
  Tensor x = F({2, 3}, {1, 5, 3, -4, 2, 6});
  struct Case { const char* op; int opset; Attrs attrs; bool axes_input; Shape shape; std::vector<double> want; };
  std::vector<Case> cases = {
      {"ReduceSum", 11, {{"axes", ais({1})}}, false, {2, 1}, {9, 4}},
      {"ReduceSum", 13, {{"keepdims", ai(0)}}, true, {2}, {9, 4}},
      {"ReduceSum", 13, {{"keepdims", ai(0)}}, false, {}, {13}},
      {"ReduceMean", 13, {{"axes", ais({0})}}, false, {1, 3}, {-1.5, 3.5, 4.5}},
      {"ReduceMax", 18, {}, true, {2, 1}, {5, 6}},
      {"ReduceMin", 13, {{"axes", ais({-1})}, {"keepdims", ai(0)}}, false, {2}, {1, -4}},
      {"ReduceProd", 13, {{"axes", ais({0})}}, false, {1, 3}, {-4, 10, 18}},
      {"ReduceSumSquare", 13, {{"axes", ais({1})}}, false, {2, 1}, {35, 56}},
      {"ReduceL1", 13, {{"axes", ais({1})}}, false, {2, 1}, {9, 12}},
      {"ReduceL2", 13, {{"axes", ais({1})}}, false, {2, 1}, {std::sqrt(35.0), std::sqrt(56.0)}},
      {"ReduceLogSumExp", 13, {{"axes", ais({1})}}, false, {2, 1},
       {std::log(std::exp(1.0) + std::exp(5.0) + std::exp(3.0)), std::log(std::exp(-4.0) + std::exp(2.0) + std::exp(6.0))}},
      {"ArgMax", 13, {{"axis", ai(1)}}, false, {2, 1}, {1, 2}},
      {"ArgMin", 13, {{"axis", ai(0)}, {"keepdims", ai(0)}}, false, {3}, {1, 1, 0}},
  };
  Tensor axes = I64({1}, {1});
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION(std::string(c.op) + " case " + std::to_string(i)) {
      std::vector<const Tensor*> in{&x};
      if (c.axes_input) in.push_back(&axes);
      auto out = run_ok(make_node(c.op, c.opset, in.size(), c.attrs), in);
      bool arg = std::string(c.op).rfind("Arg", 0) == 0;
      check_values(out[0], arg ? DataType::kInt64 : DataType::kFloat32, c.shape, c.want);
    }
  }
  Tensor ties = F({4}, {1, 3, 3, 0});
  check_values(run_ok(make_node("ArgMax", 13, 1, {{"select_last_index", ai(1)}}), {&ties})[0], DataType::kInt64, {1}, {2});
  check_values(run_ok(make_node("ArgMax", 13, 1), {&ties})[0], DataType::kInt64, {1}, {1});
  Tensor empty_axes = I64({0}, {});
  check_values(run_ok(make_node("ReduceSum", 13, 2, {{"noop_with_empty_axes", ai(1)}}), {&x, &empty_axes})[0],
               DataType::kFloat32, {2, 3}, values(x));
}

TEST_CASE("cpu: invalid nodes give errors that name the node", "[cpu]") {
  Tensor x4 = iota({1, 3, 5, 5}), w_bad = iota({2, 2, 3, 3}), w = iota({2, 3, 3, 3});
  Tensor m23 = iota({2, 3}), m23b = iota({2, 3}), v5 = iota({5});
  Tensor shape_bad = I64({2}, {4, 4}), shape_two_neg = I64({2}, {-1, -1});
  Tensor idx_bad = I64({1}, {7});
  Tensor i32 = T(DataType::kInt32, {2}, {1, 2});
  Tensor bias_bad = iota({3});
  struct Case { ir::Node node; std::vector<const Tensor*> in; const char* expect; };
  std::vector<Case> cases = {
      {make_node("Conv", 11, 2), {&x4, &w_bad}, "channels"},
      {make_node("Conv", 11, 3), {&x4, &w, &bias_bad}, "B"},
      {make_node("Conv", 11, 2, {{"group", ai(2)}}), {&x4, &w}, "channels"},
      {make_node("Conv", 11, 2, {{"strides", ais({0, 1})}}), {&x4, &w}, "positive"},
      {make_node("Conv", 11, 2, {{"pads", ais({1, 1})}}), {&x4, &w}, "pads"},
      {make_node("Conv", 11, 2, {{"auto_pad", as("SAME_MIDDLE")}}), {&x4, &w}, "auto_pad"},
      {make_node("Conv", 11, 1), {&x4}, "input"},
      {make_node("MaxPool", 12, 1, {{"kernel_shape", ais({7, 7})}}), {&x4}, "smaller than the kernel"},
      {make_node("MaxPool", 12, 1), {&x4}, "kernel_shape"},
      {make_node("Add", 13, 2), {&m23, &v5}, "cannot be broadcast"},
      {make_node("Add", 13, 2), {&m23, &i32}, "int32"},
      {make_node("MatMul", 13, 2), {&m23, &m23b}, "inner dimensions"},
      {make_node("Gemm", 13, 2), {&m23, &m23b}, "inner dimensions"},
      {make_node("Reshape", 13, 2), {&m23, &shape_bad}, "cannot reshape"},
      {make_node("Reshape", 13, 2), {&m23, &shape_two_neg}, "more than one -1"},
      {make_node("Gather", 13, 2), {&m23, &idx_bad}, "out of range"},
      {make_node("Gather", 13, 2, {{"axis", ai(2)}}), {&m23, &idx_bad}, "axis 2"},
      {make_node("Softmax", 13, 1, {{"axis", ai(3)}}), {&m23}, "axis 3"},
      {make_node("Flatten", 9, 1, {{"axis", ai(-1)}}), {&m23}, "axis -1"},
      {make_node("Transpose", 13, 1, {{"perm", ais({0, 0})}}), {&m23}, "perm"},
      {make_node("Squeeze", 11, 1, {{"axes", ais({1})}}), {&m23}, "size is not 1"},
      {make_node("Concat", 13, 2, {{"axis", ai(0)}}), {&m23, &v5}, "ranks"},
      {make_node("Concat", 13, 2), {&m23, &m23b}, "axis"},
      {make_node("Split", 13, 1, {{"axis", ai(1)}}, 2), {&m23}, "split evenly"},
      {make_node("Cast", 13, 1), {&m23}, "'to'"},
      {make_node("Relu", 14, 1), {nullptr}, "absent"},
      {make_node("BatchNormalization", 15, 5), {&x4, &v5, &v5, &v5, &v5}, "expected 3 elements"},
      {make_node("Expand", 13, 2), {&m23, &shape_bad}, "cannot be broadcast"},
      {make_node("Where", 16, 3), {&m23, &m23, &m23}, "bool"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    SECTION(c.node.op_type + " error case " + std::to_string(i)) {
      std::vector<Tensor> out;
      Status st = run(c.node, c.in, &out);
      INFO(st.message());
      REQUIRE_FALSE(st.ok());
      CHECK(st.code() != StatusCode::kInternal);
      CHECK_THAT(st.message(), Catch::Contains("'n_" + c.node.op_type + "'") && Catch::Contains(c.expect));
    }
  }
}

TEST_CASE("cpu: shape inference with symbolic dims", "[cpu]") {
  auto sym = [](std::vector<std::pair<int64_t, const char*>> dims, DataType dt = DataType::kFloat32) {
    ir::ValueInfo v;
    v.dtype = dt;
    v.has_shape = true;
    for (auto& [val, s] : dims) v.dims.push_back(ir::Dim{val, s});
    return v;
  };
  auto infer = [](const ir::Node& node, std::vector<const ir::ValueInfo*> in, std::vector<const Tensor*> c = {}) {
    c.resize(in.size(), nullptr);
    std::vector<ir::ValueInfo> out(node.outputs.size());
    InferFn f = find_infer(node);
    REQUIRE(f);
    Status st = f(node, in, c, out);
    INFO(st.message());
    REQUIRE(st.ok());
    return out[0].describe();
  };
  ir::ValueInfo x = sym({{-1, "batch"}, {3, ""}, {224, ""}, {224, ""}});
  ir::ValueInfo w = sym({{64, ""}, {3, ""}, {3, ""}, {3, ""}});
  CHECK(infer(make_node("Conv", 11, 2, {{"strides", ais({2, 2})}}), {&x, &w}) == "float32[batch,64,111,111]");
  CHECK(infer(make_node("MaxPool", 12, 1, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}), {&x}) ==
        "float32[batch,3,112,112]");
  CHECK(infer(make_node("GlobalAveragePool", 1, 1), {&x}) == "float32[batch,3,1,1]");
  ir::ValueInfo b = sym({{224, ""}});
  CHECK(infer(make_node("Add", 13, 2), {&x, &b}) == "float32[batch,3,224,224]");
  ir::ValueInfo one = sym({{1, ""}, {-1, "c"}});
  ir::ValueInfo other = sym({{-1, "n"}, {-1, "c"}});
  CHECK(infer(make_node("Mul", 13, 2), {&one, &other}) == "float32[n,c]");
  CHECK(infer(make_node("Flatten", 13, 1), {&x}) == "float32[batch,150528]");
  Tensor shape = I64({2}, {0, -1});
  ir::ValueInfo shape_info = ir::ValueInfo::of(shape);
  CHECK(infer(make_node("Reshape", 13, 2), {&x, &shape_info}, {nullptr, &shape}) == "float32[batch,?]");
  CHECK(infer(make_node("Reshape", 13, 2), {&x, &shape_info}) == "float32[?,?]");
  CHECK(infer(make_node("Shape", 13, 1), {&x}) == "int64[4]");
  ir::ValueInfo mm_a = sym({{-1, "batch"}, {-1, "seq"}, {64, ""}});
  ir::ValueInfo mm_b = sym({{64, ""}, {10, ""}});
  CHECK(infer(make_node("MatMul", 13, 2), {&mm_a, &mm_b}) == "float32[batch,seq,10]");
  CHECK(infer(make_node("Transpose", 13, 1, {{"perm", ais({1, 0, 2})}}), {&mm_a}) == "float32[seq,batch,64]");
  CHECK(infer(make_node("Squeeze", 11, 1), {&x}) == "float32[?]");  // batch might be 1
  CHECK(infer(make_node("Unsqueeze", 11, 1, {{"axes", ais({0})}}), {&mm_a}) == "float32[1,batch,seq,64]");
  ir::ValueInfo c1 = sym({{-1, "batch"}, {16, ""}}), c2 = sym({{-1, "batch"}, {8, ""}});
  CHECK(infer(make_node("Concat", 13, 2, {{"axis", ai(1)}}), {&c1, &c2}) == "float32[batch,24]");
  ir::ValueInfo gb = sym({{10, ""}, {16, ""}});
  CHECK(infer(make_node("Gemm", 13, 2, {{"transB", ai(1)}}), {&c1, &gb}) == "float32[batch,10]");
  CHECK(infer(make_node("ReduceMean", 13, 1, {{"axes", ais({1})}}), {&c1}) == "float32[batch,1]");
  CHECK(infer(make_node("Cast", 13, 1, {{"to", ai(10)}}), {&c1}) == "float16[batch,16]");
  Tensor idx = I64({3}, {0, 1, 2});
  ir::ValueInfo idx_info = ir::ValueInfo::of(idx);
  CHECK(infer(make_node("Gather", 13, 2, {{"axis", ai(1)}}), {&c1, &idx_info}) == "float32[batch,3]");
  // A mismatch between known dims is an error even with symbols around.
  ir::ValueInfo w_bad = sym({{64, ""}, {4, ""}, {3, ""}, {3, ""}});
  std::vector<ir::ValueInfo> out(1);
  ir::Node conv = make_node("Conv", 11, 2);
  Status st = find_infer(conv)(conv, {&x, &w_bad}, {nullptr, nullptr}, out);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("n_Conv"));
}

TEST_CASE("cpu: legacy (opset < 7) broadcast with axis", "[cpu]") {
  Tensor a = F({2, 3, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});
  Tensor b = F({3}, {10, 20, 30});
  check_values(run_ok(make_node("Add", 6, 2, {{"broadcast", ai(1)}, {"axis", ai(1)}}), {&a, &b})[0], DataType::kFloat32,
               {2, 3, 2}, {10, 10, 20, 20, 30, 30, 11, 11, 21, 21, 31, 31});
  Tensor c = F({2}, {1, 2});
  check_values(run_ok(make_node("Mul", 6, 2, {{"broadcast", ai(1)}}), {&a, &c})[0], DataType::kFloat32, {2, 3, 2},
               {0, 0, 0, 0, 0, 0, 1, 2, 1, 2, 1, 2});
}

TEST_CASE("cpu: extra ops", "[cpu]") {
  SECTION("ConvTranspose with strides, pads and output_padding") {
    Tensor x = iota({1, 1, 3}), w = F({1, 2, 3}, {1, 1, 1, 1, 0, -1});
    // Full output (stride 1): y[c][o] = sum_i x[i] w[c][o-i].
    auto out = run_ok(make_node("ConvTranspose", 11, 2), {&x, &w});
    check_values(out[0], DataType::kFloat32, {1, 2, 5}, {0, 1, 3, 3, 2, 0, 1, 2, -1, -2});
    out = run_ok(make_node("ConvTranspose", 11, 2, {{"strides", ais({2})}, {"pads", ais({1, 0})}, {"output_padding", ais({1})}}), {&x, &w});
    // stride 2 full length (3-1)*2+3+1 = 8, first pixel cropped.
    check_values(out[0], DataType::kFloat32, {1, 2, 7}, {0, 1, 1, 3, 2, 2, 0, 0, 1, 0, 1, 0, -2, 0});
  }
  SECTION("Resize / Upsample") {
    Tensor x = F({1, 1, 2, 2}, {1, 2, 3, 4});
    Tensor scales = F({4}, {1, 1, 2, 2});
    auto out = run_ok(make_node("Resize", 13, 3, {{"mode", as("nearest")}}), {&x, nullptr, &scales});
    check_values(out[0], DataType::kFloat32, {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
    Tensor sizes = I64({4}, {1, 1, 1, 4});
    out = run_ok(make_node("Resize", 13, 4, {{"mode", as("linear")}, {"coordinate_transformation_mode", as("align_corners")}}),
                 {&x, nullptr, nullptr, &sizes});
    check_values(out[0], DataType::kFloat32, {1, 1, 1, 4}, {1, 4.0 / 3, 5.0 / 3, 2});
    ir::Node up = make_node("Upsample", 9, 2, {{"mode", as("nearest")}});
    Tensor s2 = F({4}, {1, 1, 1, 2});
    check_values(run_ok(up, {&x, &s2})[0], DataType::kFloat32, {1, 1, 2, 4}, {1, 1, 2, 2, 3, 3, 4, 4});
  }
  SECTION("index ops") {
    Tensor data = iota({2, 3});
    Tensor idx = I64({2, 2}, {2, 0, -1, 1});
    check_values(run_ok(make_node("GatherElements", 13, 2, {{"axis", ai(1)}}), {&data, &idx})[0], DataType::kFloat32,
                 {2, 2}, {2, 0, 5, 4});
    Tensor upd = F({2, 2}, {10, 20, 30, 40});
    check_values(run_ok(make_node("ScatterElements", 13, 3, {{"axis", ai(1)}}), {&data, &idx, &upd})[0],
                 DataType::kFloat32, {2, 3}, {20, 1, 10, 3, 40, 30});
    check_values(run_ok(make_node("ScatterElements", 16, 3, {{"axis", ai(1)}, {"reduction", as("add")}}), {&data, &idx, &upd})[0],
                 DataType::kFloat32, {2, 3}, {20, 1, 12, 3, 44, 35});
    Tensor nd = I64({2, 2}, {1, 2, 0, 0});
    check_values(run_ok(make_node("GatherND", 13, 2), {&data, &nd})[0], DataType::kFloat32, {2}, {5, 0});
    Tensor rows = I64({1, 1}, {1});
    Tensor row_upd = F({1, 3}, {7, 8, 9});
    check_values(run_ok(make_node("ScatterND", 13, 3), {&data, &rows, &row_upd})[0], DataType::kFloat32, {2, 3},
                 {0, 1, 2, 7, 8, 9});
    Tensor hot = I64({3}, {0, 2, -1}), depth = F({}, {3}), vals = F({2}, {0, 5});
    check_values(run_ok(make_node("OneHot", 11, 3), {&hot, &depth, &vals})[0], DataType::kFloat32, {3, 3},
                 {5, 0, 0, 0, 0, 5, 0, 0, 5});
    std::vector<Tensor> out;
    Tensor bad = I64({2, 2}, {3, 0, 0, 0});
    Status st = run(make_node("GatherElements", 13, 2, {{"axis", ai(1)}}), {&data, &bad}, &out);
    CHECK_THAT(st.message(), Catch::Contains("n_GatherElements") && Catch::Contains("out of range"));
    // batch_dims pairs data's leading dims with indices'; three index batches
    // over two data batches would read past data (found by fuzzing).
    Tensor cube = iota({2, 2, 2}), three = I64({3, 1}, {0, 1, 0});
    st = run(make_node("GatherND", 13, 2, {{"batch_dims", ai(1)}}), {&cube, &three}, &out);
    CHECK_THAT(st.message(), Catch::Contains("n_GatherND") && Catch::Contains("differ in batch dim 0"));
    Tensor two = I64({2, 1}, {1, 0});
    check_values(run_ok(make_node("GatherND", 13, 2, {{"batch_dims", ai(1)}}), {&cube, &two})[0], DataType::kFloat32,
                 {2, 2}, {2, 3, 4, 5});
  }
  SECTION("rearranging and selecting") {
    Tensor x = iota({1, 4, 1, 1});
    check_values(run_ok(make_node("DepthToSpace", 13, 1, {{"blocksize", ai(2)}}), {&x})[0], DataType::kFloat32, {1, 1, 2, 2},
                 {0, 1, 2, 3});
    Tensor s = iota({1, 1, 2, 2});
    check_values(run_ok(make_node("SpaceToDepth", 13, 1, {{"blocksize", ai(2)}}), {&s})[0], DataType::kFloat32, {1, 4, 1, 1},
                 {0, 1, 2, 3});
    Tensor m = iota({3, 3}, 1);
    check_values(run_ok(make_node("Trilu", 14, 1), {&m})[0], DataType::kFloat32, {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9});
    Tensor k = I64({}, {-1});
    check_values(run_ok(make_node("Trilu", 14, 2, {{"upper", ai(0)}}), {&m, &k})[0], DataType::kFloat32, {3, 3},
                 {0, 0, 0, 4, 0, 0, 7, 8, 0});
    Tensor v = F({4}, {1, 2, 3, 4});
    Tensor axis = I64({}, {0});
    check_values(run_ok(make_node("CumSum", 14, 2), {&v, &axis})[0], DataType::kFloat32, {4}, {1, 3, 6, 10});
    check_values(run_ok(make_node("CumSum", 14, 2, {{"exclusive", ai(1)}, {"reverse", ai(1)}}), {&v, &axis})[0],
                 DataType::kFloat32, {4}, {9, 7, 4, 0});
    Tensor t = F({5}, {3, 1, 4, 1, 5});
    Tensor kk = I64({1}, {3});
    auto top = run_ok(make_node("TopK", 11, 2, {}, 2), {&t, &kk});
    check_values(top[0], DataType::kFloat32, {3}, {5, 4, 3});
    check_values(top[1], DataType::kInt64, {3}, {4, 2, 0});
    top = run_ok(make_node("TopK", 11, 2, {{"largest", ai(0)}}, 2), {&t, &kk});
    check_values(top[1], DataType::kInt64, {3}, {1, 3, 0});
    Tensor nz = F({2, 2}, {1, 0, 0, 3});
    check_values(run_ok(make_node("NonZero", 13, 1), {&nz})[0], DataType::kInt64, {2, 2}, {0, 1, 0, 1});
    Tensor cond = T(DataType::kBool, {2}, {0, 1});
    check_values(run_ok(make_node("Compress", 11, 2, {{"axis", ai(0)}}), {&nz, &cond})[0], DataType::kFloat32, {1, 2}, {0, 3});
    check_values(run_ok(make_node("EyeLike", 9, 1, {{"k", ai(1)}}), {&nz})[0], DataType::kFloat32, {2, 2}, {0, 1, 0, 0});
    check_values(run_ok(make_node("Shrink", 9, 1, {{"lambd", af(1.5f)}, {"bias", af(1.f)}}), {&t})[0], DataType::kFloat32, {5},
                 {2, 0, 3, 0, 4});
    // An integer input with a bias past its range saturates (the fuzzer's
    // find: a double of 1.28e38 cast to int64 is undefined).
    Tensor ints = I64({3}, {-5, 0, 5});
    check_values(run_ok(make_node("Shrink", 9, 1, {{"lambd", af(1.f)}, {"bias", af(1.27606e38f)}}), {&ints})[0],
                 DataType::kInt64, {3},
                 {static_cast<double>(std::numeric_limits<int64_t>::max()), 0,
                  static_cast<double>(std::numeric_limits<int64_t>::lowest())});
  }
  SECTION("losses") {
    Tensor x = F({2, 3}, {-1, -2, -3, -4, -5, -6});
    Tensor target = I64({2}, {0, 2});
    check_values(run_ok(make_node("NegativeLogLikelihoodLoss", 13, 2), {&x, &target})[0], DataType::kFloat32, {}, {3.5});
    check_values(run_ok(make_node("NegativeLogLikelihoodLoss", 13, 2, {{"reduction", as("none")}, {"ignore_index", ai(2)}}),
                        {&x, &target})[0],
                 DataType::kFloat32, {2}, {1, 0});
    Tensor scores = F({1, 2}, {0, 0});
    Tensor label = I64({1}, {1});
    auto out = run_ok(make_node("SoftmaxCrossEntropyLoss", 13, 2, {}, 2), {&scores, &label});
    check_values(out[0], DataType::kFloat32, {}, {std::log(2.0)});
    check_values(out[1], DataType::kFloat32, {1, 2}, {-std::log(2.0), -std::log(2.0)});
  }
}

TEST_CASE("cpu: quantization, linear algebra, detection and sampling ops", "[cpu]") {
  SECTION("QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear") {
    Tensor x = F({4}, {0, 1.5f, -3, 1000});
    Tensor scale = F({}, {0.5f});
    Tensor zp = T(DataType::kUint8, {}, {10});
    // round(x / s) + zp with ties to even, saturated to uint8.
    check_values(run_ok(make_node("QuantizeLinear", 13, 3), {&x, &scale, &zp})[0], DataType::kUint8, {4}, {10, 13, 4, 255});
    Tensor q = T(DataType::kInt8, {2, 2}, {-1, 2, 3, 4});
    Tensor axis_scale = F({2}, {1, 10});
    Tensor axis_zp = T(DataType::kInt8, {2}, {0, 1});
    check_values(run_ok(make_node("DequantizeLinear", 13, 3, {{"axis", ai(0)}}), {&q, &axis_scale, &axis_zp})[0],
                 DataType::kFloat32, {2, 2}, {-1, 2, 20, 30});
    Tensor d = F({3}, {0, 2, -3});
    auto out = run_ok(make_node("DynamicQuantizeLinear", 11, 1, {}, 3), {&d});
    check_values(out[1], DataType::kFloat32, {}, {5.0 / 255});
    check_values(out[2], DataType::kUint8, {}, {153});
    check_values(out[0], DataType::kUint8, {3}, {153, 255, 0});
    Tensor a = T(DataType::kUint8, {1, 2}, {3, 4}), b = T(DataType::kUint8, {2, 1}, {1, 2}), azp = T(DataType::kUint8, {}, {1});
    check_values(run_ok(make_node("MatMulInteger", 10, 3), {&a, &b, &azp})[0], DataType::kInt32, {1, 1}, {2 * 1 + 3 * 2});
  }
  SECTION("Det and Einsum") {
    Tensor m = F({2, 2, 2}, {1, 2, 3, 4, 2, 0, 0, 3});
    check_values(run_ok(make_node("Det", 11, 1), {&m})[0], DataType::kFloat32, {2}, {-2, 6});
    Tensor a = iota({2, 3}, 1), b = iota({3, 2}, 1);
    check_values(run_ok(make_node("Einsum", 12, 2, {{"equation", as("ij,jk->ik")}}), {&a, &b})[0], DataType::kFloat32,
                 {2, 2}, {22, 28, 49, 64});
    check_values(run_ok(make_node("Einsum", 12, 1, {{"equation", as("ij->ji")}}), {&a})[0], DataType::kFloat32, {3, 2},
                 {1, 4, 2, 5, 3, 6});
    check_values(run_ok(make_node("Einsum", 12, 1, {{"equation", as("ij")}}), {&a})[0], DataType::kFloat32, {2, 3},
                 values(a));
    Tensor sq = iota({2, 2, 2});
    check_values(run_ok(make_node("Einsum", 12, 1, {{"equation", as("...ii->...i")}}), {&sq})[0], DataType::kFloat32,
                 {2, 2}, {0, 3, 4, 7});
  }
  SECTION("windows") {
    Tensor n = I64({}, {4});
    check_values(run_ok(make_node("HannWindow", 17, 1), {&n})[0], DataType::kFloat32, {4}, {0, 0.5, 1, 0.5});
    check_values(run_ok(make_node("HannWindow", 17, 1, {{"periodic", ai(0)}}), {&n})[0], DataType::kFloat32, {4},
                 {0, 0.75, 0.75, 0});
  }
  SECTION("BatchNormalization training mode") {
    Tensor x = F({2, 1, 1, 1}, {1, 3});
    Tensor s = F({1}, {1}), b = F({1}, {0}), mean = F({1}, {0}), var = F({1}, {1});
    auto out = run_ok(make_node("BatchNormalization", 15, 5, {{"training_mode", ai(1)}, {"epsilon", af(0.f)}}, 3),
                      {&x, &s, &b, &mean, &var});
    check_values(out[0], DataType::kFloat32, {2, 1, 1, 1}, {-1, 1});
    check_values(out[1], DataType::kFloat32, {1}, {0.2});
    check_values(out[2], DataType::kFloat32, {1}, {1.0});
  }
  SECTION("Unique") {
    Tensor x = F({6}, {2, 1, 1, 3, 4, 3});
    auto out = run_ok(make_node("Unique", 11, 1, {}, 4), {&x});
    check_values(out[0], DataType::kFloat32, {4}, {1, 2, 3, 4});
    check_values(out[1], DataType::kInt64, {4}, {1, 0, 3, 4});
    check_values(out[2], DataType::kInt64, {6}, {1, 0, 0, 2, 3, 2});
    check_values(out[3], DataType::kInt64, {4}, {2, 1, 2, 1});
    out = run_ok(make_node("Unique", 11, 1, {{"sorted", ai(0)}}, 1), {&x});
    check_values(out[0], DataType::kFloat32, {4}, {2, 1, 3, 4});
  }
  SECTION("NonMaxSuppression") {
    Tensor boxes = F({1, 3, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3});
    Tensor scores = F({1, 1, 3}, {0.9f, 0.8f, 0.7f});
    Tensor max_out = I64({1}, {3}), iou = F({1}, {0.5f});
    check_values(run_ok(make_node("NonMaxSuppression", 11, 4), {&boxes, &scores, &max_out, &iou})[0], DataType::kInt64,
                 {2, 3}, {0, 0, 0, 0, 0, 2});
    // torchvision's detection exports pass INT64_MAX for "no limit": read as
    // an integer, not through a double (which overflowed to "keep none").
    Tensor no_limit = I64({1}, {std::numeric_limits<int64_t>::max()});
    check_values(run_ok(make_node("NonMaxSuppression", 11, 4), {&boxes, &scores, &no_limit, &iou})[0],
                 DataType::kInt64, {2, 3}, {0, 0, 0, 0, 0, 2});
  }
  SECTION("GridSample and MaxUnpool") {
    Tensor x = iota({1, 1, 2, 2});
    Tensor grid = F({1, 1, 2, 2}, {-1, -1, 0, 0});
    check_values(run_ok(make_node("GridSample", 16, 2, {{"align_corners", ai(1)}}), {&x, &grid})[0], DataType::kFloat32,
                 {1, 1, 1, 2}, {0, 1.5});
    // An empty X (found by the fuzzer: reflection read X[-1]): zeros samples
    // nothing, border and reflection have no pixel to take.
    Tensor empty(DataType::kFloat32, {1, 1, 0, 2});
    check_values(run_ok(make_node("GridSample", 16, 2), {&empty, &grid})[0], DataType::kFloat32, {1, 1, 1, 2}, {0, 0});
    for (const char* pad : {"border", "reflection"}) {
      std::vector<Tensor> out;
      Status st = run(make_node("GridSample", 16, 2, {{"padding_mode", as(pad)}}), {&empty, &grid}, &out);
      REQUIRE_FALSE(st.ok());
      CHECK_THAT(st.message(), Catch::Contains("no pixel to take in an empty X"));
    }
    Tensor v = F({1, 1, 1, 1}, {7});
    Tensor idx = I64({1, 1, 1, 1}, {3});
    check_values(run_ok(make_node("MaxUnpool", 11, 2, {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}}), {&v, &idx})[0],
                 DataType::kFloat32, {1, 1, 2, 2}, {0, 0, 0, 7});
  }
}

TEST_CASE("cpu: RNN, GRU, LSTM single steps", "[cpu]") {
  Tensor x = F({2, 1, 1}, {1, 2});  // seq 2, batch 1, input 1
  SECTION("RNN forward and reverse") {
    Tensor w = F({1, 1, 1}, {0.5f}), r = F({1, 1, 1}, {1});
    auto out = run_ok(make_node("RNN", 14, 3, {{"hidden_size", ai(1)}}, 2), {&x, &w, &r});
    const double h1 = std::tanh(0.5), h2 = std::tanh(1.0 + h1);
    check_values(out[0], DataType::kFloat32, {2, 1, 1, 1}, {h1, h2});
    check_values(out[1], DataType::kFloat32, {1, 1, 1}, {h2});
    out = run_ok(make_node("RNN", 14, 3, {{"hidden_size", ai(1)}, {"direction", as("reverse")}}, 2), {&x, &w, &r});
    const double g2 = std::tanh(1.0), g1 = std::tanh(0.5 + g2);
    check_values(out[0], DataType::kFloat32, {2, 1, 1, 1}, {g1, g2});
  }
  SECTION("GRU with zero recurrence") {
    Tensor w = F({1, 3, 1}, {0, 0, 1}), r = F({1, 3, 1}, {0, 0, 0});
    auto out = run_ok(make_node("GRU", 14, 3, {{"hidden_size", ai(1)}}, 2), {&x, &w, &r});
    // z = sigmoid(0) = 0.5; h = 0.5 * tanh(x) + 0.5 * h_prev.
    const double h1 = 0.5 * std::tanh(1.0), h2 = 0.5 * std::tanh(2.0) + 0.5 * h1;
    check_values(out[1], DataType::kFloat32, {1, 1, 1}, {h2});
  }
  SECTION("LSTM cell state") {
    Tensor w = F({1, 4, 1}, {0, 0, 0, 1}), r = F({1, 4, 1}, {0, 0, 0, 0});
    auto out = run_ok(make_node("LSTM", 14, 3, {{"hidden_size", ai(1)}}, 3), {&x, &w, &r});
    // i = o = f = 0.5; c1 = 0.5 tanh(1); c2 = 0.5 c1 + 0.5 tanh(2); h = 0.5 tanh(c).
    const double c1 = 0.5 * std::tanh(1.0), c2 = 0.5 * c1 + 0.5 * std::tanh(2.0);
    check_values(out[1], DataType::kFloat32, {1, 1, 1}, {0.5 * std::tanh(c2)});
    check_values(out[2], DataType::kFloat32, {1, 1, 1}, {c2});
  }
}

namespace {

// The ONNX definitions of RNN / GRU / LSTM, step by step in double, with the
// default activations: what the kernel (its products on the SIMD GEMM) must match.
struct RecurrentCase {
  std::string op;
  std::string direction;
  bool layout, linear_before_reset;
};
std::vector<std::vector<double>> recurrent_reference(const RecurrentCase& c, const Tensor& x, const Tensor& w,
                                                     const Tensor& r, const Tensor& bias, const Tensor& h0,
                                                     const Tensor& c0, const std::vector<int64_t>& lens) {
  const int64_t D = w.shape()[0], H = r.shape()[2], I = x.shape()[2];
  const int64_t S = x.shape()[c.layout ? 1 : 0], B = x.shape()[c.layout ? 0 : 1];
  const int64_t G = c.op == "LSTM" ? 4 : c.op == "GRU" ? 3 : 1;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  std::vector<double> y(S * D * B * H, 0.0), yh(D * B * H), yc(D * B * H);
  auto y_at = [&](int64_t t, int64_t d, int64_t b, int64_t h) {
    return c.layout ? ((b * S + t) * D + d) * H + h : ((t * D + d) * B + b) * H + h;
  };
  auto st_at = [&](int64_t d, int64_t b, int64_t h) { return c.layout ? (b * D + d) * H + h : (d * B + b) * H + h; };
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> hp(H), cp(H);
      for (int64_t h = 0; h < H; ++h) hp[h] = h0.get_as_double((d * B + b) * H + h), cp[h] = c0.get_as_double((d * B + b) * H + h);
      for (int64_t s = 0; s < lens[b]; ++s) {
        const int64_t t = (c.direction == "reverse" || d == 1) ? lens[b] - 1 - s : s;
        auto xw = [&](int64_t row) {
          double a = bias.get_as_double(d * 2 * G * H + row);
          for (int64_t i = 0; i < I; ++i)
            a += x.get_as_double(c.layout ? (b * S + t) * I + i : (t * B + b) * I + i) * w.get_as_double((d * G * H + row) * I + i);
          return a;
        };
        auto hr = [&](int64_t row, const std::vector<double>& v) {
          double a = 0;
          for (int64_t k = 0; k < H; ++k) a += v[k] * r.get_as_double((d * G * H + row) * H + k);
          return a;
        };
        auto rb = [&](int64_t row) { return bias.get_as_double(d * 2 * G * H + G * H + row); };
        std::vector<double> hn(H);
        for (int64_t h = 0; h < H; ++h) {
          if (c.op == "RNN") {
            hn[h] = std::tanh(xw(h) + rb(h) + hr(h, hp));
          } else if (c.op == "GRU") {
            const double z = sig(xw(h) + rb(h) + hr(h, hp)), rr = sig(xw(H + h) + rb(H + h) + hr(H + h, hp));
            double cand;
            if (c.linear_before_reset) {
              cand = std::tanh(xw(2 * H + h) + rr * (hr(2 * H + h, hp) + rb(2 * H + h)));
            } else {
              std::vector<double> rh(H);
              for (int64_t k = 0; k < H; ++k) rh[k] = sig(xw(H + k) + rb(H + k) + hr(H + k, hp)) * hp[k];
              cand = std::tanh(xw(2 * H + h) + hr(2 * H + h, rh) + rb(2 * H + h));
            }
            hn[h] = (1 - z) * cand + z * hp[h];
          } else {
            const double i = sig(xw(h) + rb(h) + hr(h, hp)), o = sig(xw(H + h) + rb(H + h) + hr(H + h, hp));
            const double f = sig(xw(2 * H + h) + rb(2 * H + h) + hr(2 * H + h, hp));
            const double g = std::tanh(xw(3 * H + h) + rb(3 * H + h) + hr(3 * H + h, hp));
            cp[h] = f * cp[h] + i * g;
            hn[h] = o * std::tanh(cp[h]);
          }
        }
        hp = hn;
        for (int64_t h = 0; h < H; ++h) y[y_at(t, d, b, h)] = hp[h];
      }
      for (int64_t h = 0; h < H; ++h) yh[st_at(d, b, h)] = hp[h], yc[st_at(d, b, h)] = cp[h];
    }
  return {y, yh, yc};
}

}  // namespace

TEST_CASE("cpu: RNN, GRU, LSTM against their definitions (directions, layouts, lengths)", "[cpu]") {
  // H = 37 and I = 70: no multiple of the GEMM's vector widths; batch 2 with
  // a shorter second sequence.
  const int64_t S = 3, B = 2, I = 70, H = 37;
  const std::vector<RecurrentCase> cases = {
      {"LSTM", "forward", false, false}, {"LSTM", "bidirectional", true, false}, {"LSTM", "reverse", false, false},
      {"GRU", "forward", false, false},  {"GRU", "bidirectional", false, true},  {"GRU", "reverse", true, false},
      {"RNN", "bidirectional", true, false},
  };
  unsigned seed = 40;
  for (const RecurrentCase& c : cases) {
    INFO(c.op << " " << c.direction << " layout " << c.layout << " linear_before_reset " << c.linear_before_reset);
    const int64_t D = c.direction == "bidirectional" ? 2 : 1, G = c.op == "LSTM" ? 4 : c.op == "GRU" ? 3 : 1;
    Tensor x = random(c.layout ? Shape{B, S, I} : Shape{S, B, I}, ++seed);
    Tensor w = random({D, G * H, I}, ++seed), r = random({D, G * H, H}, ++seed), bias = random({D, 2 * G * H}, ++seed);
    Tensor h0 = random(c.layout ? Shape{B, D, H} : Shape{D, B, H}, ++seed);
    Tensor c0 = random(c.layout ? Shape{B, D, H} : Shape{D, B, H}, ++seed);
    // The reference reads the states as [D, B, H]; with layout 1 they are [B, D, H].
    Tensor h0_dbh = c.layout ? random({D, B, H}, 0) : h0, c0_dbh = c.layout ? random({D, B, H}, 0) : c0;
    if (c.layout)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) {
            h0_dbh.data<float>()[(d * B + b) * H + h] = h0.data<float>()[(b * D + d) * H + h];
            c0_dbh.data<float>()[(d * B + b) * H + h] = c0.data<float>()[(b * D + d) * H + h];
          }
    Tensor lens = T(DataType::kInt32, {B}, {3, 2});
    Attrs attrs = {{"hidden_size", ai(H)}, {"direction", as(c.direction)}, {"layout", ai(c.layout)}};
    if (c.op == "GRU") attrs["linear_before_reset"] = ai(c.linear_before_reset);
    const size_t n_out = c.op == "LSTM" ? 3 : 2;
    std::vector<const Tensor*> in = {&x, &w, &r, &bias, &lens, &h0};
    if (c.op == "LSTM") in.push_back(&c0);
    auto out = run_ok(make_node(c.op, 14, in.size(), attrs, n_out), in);
    const auto want = recurrent_reference(c, x, w, r, bias, h0_dbh, c0_dbh, {3, 2});
    const std::vector<Shape> shapes = {c.layout ? Shape{B, S, D, H} : Shape{S, D, B, H},
                                       c.layout ? Shape{B, D, H} : Shape{D, B, H}, c.layout ? Shape{B, D, H} : Shape{D, B, H}};
    for (size_t k = 0; k < n_out; ++k) check_values(out[k], DataType::kFloat32, shapes[k], want[k], 1e-4);
  }
}
