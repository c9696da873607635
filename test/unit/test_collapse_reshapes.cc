// passes::collapse_reshapes and passes::fold_matmul_scale: what a decode
// step's attention leaves of its head splits and its score scaling, with
// the same results (CPU kernels, and a GPU session against a CPU one).
#include <catch2/catch.hpp>

#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
using glint::test::random_floats;
namespace ir = glint::ir;

TEST_CASE("collapse_reshapes makes chains of re-shaping nodes one Reshape", "[passes][collapse_reshapes]") {
  struct Case {
    const char* what;
    std::vector<int64_t> x;  // the input's shape ({-1, ...}: a symbolic first dim)
    // Each link: op, and its Reshape target / Transpose perm / axes.
    std::vector<std::pair<std::string, std::vector<int64_t>>> chain;
    bool middle_is_output;  // the first link's output is also a graph output
    std::vector<int64_t> first, y;  // the first link's output shape, the chain's
    std::vector<std::string> ops_after;
  };
  const std::vector<Case> cases = {
      {"a head split: Reshape, then a Transpose moving a dim of 1", {1, 1, 12},
       {{"Reshape", {1, 1, 3, 4}}, {"Transpose", {0, 2, 1, 3}}}, false, {1, 1, 3, 4}, {1, 3, 1, 4}, {"Reshape"}},
      {"heads joined: the Transpose back, then a Reshape", {1, 3, 1, 4},
       {{"Transpose", {0, 2, 1, 3}}, {"Reshape", {1, 1, 12}}}, false, {1, 1, 3, 4}, {1, 1, 12}, {"Reshape"}},
      {"Unsqueeze, Squeeze, Flatten", {2, 3}, {{"Unsqueeze", {0, 3}}, {"Squeeze", {3}}, {"Flatten", {}}}, false,
       {1, 2, 3, 1}, {1, 6}, {"Reshape"}},
      {"a lone order-keeping Transpose", {2, 1, 3}, {{"Transpose", {1, 0, 2}}}, false, {1, 2, 3}, {1, 2, 3},
       {"Reshape"}},
      {"a Transpose that moves data stays", {1, 2, 3, 4}, {{"Transpose", {0, 2, 1, 3}}}, false, {1, 3, 2, 4},
       {1, 3, 2, 4}, {"Transpose"}},
      {"a link that is also an output stays; the Transpose after it still becomes a Reshape", {1, 1, 12},
       {{"Reshape", {1, 1, 3, 4}}, {"Transpose", {0, 2, 1, 3}}}, true, {1, 1, 3, 4}, {1, 3, 1, 4},
       {"Reshape", "Reshape"}},
      {"a symbolic dim leaves the chain as it is", {-1, 1, 12},
       {{"Reshape", {-1, 1, 3, 4}}, {"Transpose", {0, 2, 1, 3}}}, false, {-1, 1, 3, 4}, {-1, 3, 1, 4},
       {"Reshape", "Transpose"}},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ModelBuilder b(13);
      b.input("x", onnx::TensorProto::FLOAT, c.x);  // -1: a symbolic dim
      std::string v = "x";
      for (size_t i = 0; i < c.chain.size(); ++i) {
        const auto& [op, arg] = c.chain[i];
        const std::string out = "v" + std::to_string(i);
        if (op == "Reshape") {
          b.initializer_i64("shape" + std::to_string(i), {static_cast<int64_t>(arg.size())}, arg);
          b.node("Reshape", {v, "shape" + std::to_string(i)}, {out});
        } else if (op == "Transpose") {
          ModelBuilder::attr_ints(b.node("Transpose", {v}, {out}), "perm", arg);
        } else if (op == "Flatten") {
          b.node("Flatten", {v}, {out});
        } else {  // Squeeze / Unsqueeze: axes an input from opset 13
          b.initializer_i64("axes" + std::to_string(i), {static_cast<int64_t>(arg.size())}, arg);
          b.node(op, {v, "axes" + std::to_string(i)}, {out});
        }
        if (i == 0 && c.middle_is_output) b.output(out, onnx::TensorProto::FLOAT, c.first);
        v = out;
      }
      b.output(v, onnx::TensorProto::FLOAT, c.y);
      const ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::collapse_reshapes(after).ok());
      std::vector<std::string> ops;
      for (const ir::Node& n : after.nodes) ops.push_back(n.op_type);
      CHECK(ops == c.ops_after);
      // No shape or axes constant of a replaced link stays behind.
      for (const auto& [name, t] : after.initializers) {
        bool read = false;
        for (const ir::Node& n : after.nodes)
          for (const std::string& in : n.inputs) read = read || in == name;
        CHECK(read);
      }
      std::vector<int64_t> shape = c.x;
      if (shape[0] < 0) shape[0] = 1;
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats(shape, random_floats(count, 3));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}

TEST_CASE("collapse_reshapes chains ONNX Reshapes only", "[passes][collapse_reshapes]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 1, 12});
  b.initializer_i64("heads", {4}, {1, 1, 3, 4});
  b.node("Reshape", {"x", "heads"}, {"v0"});
  ModelBuilder::attr_ints(b.node("Transpose", {"v0"}, {"y"}), "perm", {0, 2, 1, 3});
  b.output("y", onnx::TensorProto::FLOAT, {1, 3, 1, 4});
  ir::Graph g = glint::test::load_graph(b);
  g.nodes[0].domain = "com.example";  // a vendor's op of the same name: not a reshape glint knows
  REQUIRE(glint::passes::collapse_reshapes(g).ok());
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].domain == "com.example");
  CHECK(g.nodes[1].op_type == "Reshape");  // the Transpose alone still becomes one
  CHECK(g.nodes[1].inputs[0] == "v0");
}

TEST_CASE("fold_matmul_scale takes a constant factor into the product's alpha", "[passes][fold_matmul_scale]") {
  struct Case {
    const char* what;
    std::string op;       // Div or Mul
    bool constant_first;  // c op y instead of y op c
    std::vector<int64_t> c_shape;
    float c;
    bool also_output;  // the product is also a graph output
    float alpha;       // 0: nothing folds
  };
  const std::vector<Case> cases = {
      {"scores / sqrt(d)", "Div", false, {}, 8.f, false, 0.125f},
      {"a one-element [1] factor times the product", "Mul", true, {1}, 0.5f, false, 0.5f},
      {"a factor per column stays", "Mul", false, {5}, 2.f, false, 0.f},
      {"a constant divided by the product stays", "Div", true, {}, 8.f, false, 0.f},
      {"a divisor of 0 stays", "Div", false, {}, 0.f, false, 0.f},
      {"a product read elsewhere stays", "Div", false, {}, 8.f, true, 0.f},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ModelBuilder b(13);
      b.input("a", onnx::TensorProto::FLOAT, {2, 3, 4});
      b.input("b", onnx::TensorProto::FLOAT, {2, 4, 5});
      int64_t count = 1;
      for (int64_t d : c.c_shape) count *= d;
      b.initializer("c", c.c_shape, std::vector<float>(static_cast<size_t>(count), c.c));
      b.node("MatMul", {"a", "b"}, {"p"});
      b.node(c.op, c.constant_first ? std::vector<std::string>{"c", "p"} : std::vector<std::string>{"p", "c"}, {"y"});
      b.output("y", onnx::TensorProto::FLOAT, {2, 3, 5});
      if (c.also_output) b.output("p", onnx::TensorProto::FLOAT, {2, 3, 5});
      const ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::fold_matmul_scale(after).ok());
      if (c.alpha != 0.f) {
        REQUIRE(after.nodes.size() == 1);
        CHECK(after.nodes[0].op_type == "FusedMatMul");
        CHECK(after.nodes[0].outputs[0] == "y");
        CHECK(after.nodes[0].attr_float("alpha", 1.f) == c.alpha);
      } else {
        CHECK(after.nodes.size() == 2);
      }
      std::map<std::string, Tensor> feeds;
      feeds["a"] = Tensor::from_floats({2, 3, 4}, random_floats(24, 1));
      feeds["b"] = Tensor::from_floats({2, 4, 5}, random_floats(40, 2));
      if (c.c != 0.f) glint::test::check_same_outputs(before, after, feeds);
    }
  }
}

TEST_CASE("a decode step's attention: head reshapes collapse, the scale and mask join the product",
          "[passes][collapse_reshapes][fold_matmul_scale][gpu]") {
  // One token against a cache of 5, 3 heads of 4: q and k [1, 1, 12] split
  // into heads, the scores q k^T / 2 + mask, softmax, times v, heads joined.
  ModelBuilder b(13);
  b.input("q", onnx::TensorProto::FLOAT, {1, 1, 12});
  b.input("k", onnx::TensorProto::FLOAT, {1, 3, 5, 4});
  b.input("v", onnx::TensorProto::FLOAT, {1, 3, 5, 4});
  b.input("mask", onnx::TensorProto::FLOAT, {1, 1, 1, 5});
  b.initializer_i64("heads", {4}, {1, 1, 3, 4});
  b.initializer_i64("joined", {3}, {1, 1, 12});
  b.initializer("two", {}, {2.f});
  b.node("Reshape", {"q", "heads"}, {"q4"});
  ModelBuilder::attr_ints(b.node("Transpose", {"q4"}, {"qh"}), "perm", {0, 2, 1, 3});
  ModelBuilder::attr_ints(b.node("Transpose", {"k"}, {"kt"}), "perm", {0, 1, 3, 2});
  b.node("MatMul", {"qh", "kt"}, {"s"});
  b.node("Div", {"s", "two"}, {"scaled"});
  b.node("Add", {"scaled", "mask"}, {"masked"});
  ModelBuilder::attr_int(b.node("Softmax", {"masked"}, {"p"}), "axis", -1);
  b.node("MatMul", {"p", "v"}, {"o"});
  ModelBuilder::attr_ints(b.node("Transpose", {"o"}, {"ot"}), "perm", {0, 2, 1, 3});
  b.node("Reshape", {"ot", "joined"}, {"y"});
  b.output("y", onnx::TensorProto::FLOAT, {1, 1, 12});

  const ir::Graph before = glint::test::load_graph(b);
  const ir::Graph after = glint::test::optimized_with_fusions(before);
  std::vector<std::string> ops;
  for (const ir::Node& n : after.nodes) ops.push_back(n.op_type);
  CHECK(ops == std::vector<std::string>{"Reshape", "FusedMatMul", "Softmax", "MatMul", "Reshape"});
  const ir::Node* scores = glint::test::node_writing(after, "masked");
  REQUIRE(scores != nullptr);
  CHECK(scores->attr_float("alpha", 1.f) == 0.5f);
  CHECK(scores->attr_int("transB", 0) == 1);

  std::map<std::string, Tensor> feeds;
  feeds["q"] = Tensor::from_floats({1, 1, 12}, random_floats(12, 1));
  feeds["k"] = Tensor::from_floats({1, 3, 5, 4}, random_floats(60, 2));
  feeds["v"] = Tensor::from_floats({1, 3, 5, 4}, random_floats(60, 3));
  feeds["mask"] = Tensor::from_floats({1, 1, 1, 5}, {0.f, 0.f, 0.f, -1e4f, 0.f});
  glint::test::check_same_outputs(before, after, feeds);
  glint::test::check_gpu_session_matches_cpu(b.bytes(), feeds);
}
