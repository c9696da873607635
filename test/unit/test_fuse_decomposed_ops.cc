// passes::fuse_layer_norm and passes::fuse_gelu: which exported chains
// become one LayerNormalization / Gelu, and that the fused graph computes
// what the chain did (on the CPU kernels, within 1e-5); chains that must stay
// (wrong axis, a value read elsewhere, other constants) stay as they are.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

// Knobs of the LayerNorm chain torch.onnx writes; each case changes one.
struct LayerNormChain {
  int opset = 13;
  bool mul_square = false;  // Mul(d, d) instead of Pow(d, 2)
  bool affine = true;       // Mul by gamma, Add beta after the Div
  int64_t mean_axis = -1;   // the first ReduceMean's axis
  float exponent = 2.f;
  bool d_is_output = false;  // the deviation is also a graph output
};

// x [2, 5, 8] -> LayerNorm over the last axis -> y.
ModelBuilder layer_norm_model(const LayerNormChain& c) {
  using glint::test::random_floats;
  ModelBuilder b(c.opset);
  b.input("x", onnx::TensorProto::FLOAT, {2, 5, 8});
  auto mean = [&](const std::string& in, const std::string& out, int64_t axis) {
    if (c.opset >= 18) {
      b.initializer_i64(out + "_axes", {1}, {axis});
      b.node("ReduceMean", {in, out + "_axes"}, {out});
    } else {
      ModelBuilder::attr_ints(b.node("ReduceMean", {in}, {out}), "axes", {axis});
    }
  };
  mean("x", "m", c.mean_axis);
  b.node("Sub", {"x", "m"}, {"d"});
  if (c.mul_square) {
    b.node("Mul", {"d", "d"}, {"p"});
  } else {
    b.initializer("two", {}, {c.exponent});
    b.node("Pow", {"d", "two"}, {"p"});
  }
  mean("p", "v", -1);
  b.initializer("eps", {}, {1e-5f});
  b.node("Add", {"v", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"s"});
  b.node("Div", {"d", "s"}, {c.affine ? "n" : "y"});
  if (c.affine) {
    b.initializer("gamma", {8}, random_floats(8, 3, 0.5f, 1.5f));
    b.initializer("beta", {8}, random_floats(8, 4));
    b.node("Mul", {"n", "gamma"}, {"g"});
    b.node("Add", {"beta", "g"}, {"y"});
  }
  b.output("y", onnx::TensorProto::FLOAT, {2, 5, 8});
  if (c.d_is_output) b.output("d", onnx::TensorProto::FLOAT, {2, 5, 8});
  return b;
}

// x [3, 16] -> erf GELU -> y, in one of torch's orders.
struct GeluChain {
  bool half_first = false;       // (x * 0.5) * (1 + erf) instead of (x * (1 + erf)) * 0.5
  bool multiply_inverse = false;  // x * (1 / sqrt 2) instead of x / sqrt 2
  float half = 0.5f;
};

ModelBuilder gelu_model(const GeluChain& c) {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {3, 16});
  if (c.multiply_inverse) {
    b.initializer("k", {}, {static_cast<float>(std::sqrt(0.5))});
    b.node("Mul", {"x", "k"}, {"xs"});
  } else {
    b.initializer("k", {}, {static_cast<float>(std::sqrt(2.0))});
    b.node("Div", {"x", "k"}, {"xs"});
  }
  b.node("Erf", {"xs"}, {"e"});
  b.initializer("one", {}, {1.f});
  b.node("Add", {"e", "one"}, {"a"});
  b.initializer("half", {}, {c.half});
  if (c.half_first) {
    b.node("Mul", {"x", "half"}, {"h"});
    b.node("Mul", {"h", "a"}, {"y"});
  } else {
    b.node("Mul", {"x", "a"}, {"xa"});
    b.node("Mul", {"xa", "half"}, {"y"});
  }
  b.output("y", onnx::TensorProto::FLOAT, {3, 16});
  return b;
}

std::map<std::string, Tensor> feeds_for(const ir::Graph& g) {
  std::map<std::string, Tensor> feeds;
  for (auto& name : g.inputs) {
    glint::Shape shape = g.info(name)->concrete();
    feeds[name] = Tensor::from_floats(shape, glint::test::random_floats(glint::shape_size(shape), 11, -3.f, 3.f));
  }
  return feeds;
}

// A default chain with one knob changed.
template <class Chain>
Chain with(const std::function<void(Chain&)>& change) {
  Chain c;
  change(c);
  return c;
}
using LN = LayerNormChain;
using GC = GeluChain;

using Pass = std::function<glint::Status(ir::Graph&)>;

// Runs `pass` on the model; returns the graph after it, having checked that
// it computes what the graph before it did.
ir::Graph after_pass(const ModelBuilder& b, const Pass& pass) {
  ir::Graph before = glint::test::load_graph(b);
  ir::Graph after = before;
  auto s = pass(after);
  INFO(s.message());
  REQUIRE(s.ok());
  glint::test::check_same_outputs(before, after, feeds_for(before));
  return after;
}

const Pass kLayerNorm = [](ir::Graph& g) { return glint::passes::fuse_layer_norm(g); };
const Pass kGelu = [](ir::Graph& g) { return glint::passes::fuse_gelu(g); };

}  // namespace

TEST_CASE("fuse_layer_norm turns torch's LayerNorm chain into one LayerNormalization", "[passes][fuse_decomposed]") {
  struct Case {
    const char* what;
    LayerNormChain chain;
    size_t inputs;  // of the fused node: X, Scale[, B]
  };
  const std::vector<Case> cases = {
      {"Pow, affine", {}, 3},
      {"Mul square", with<LN>([](LN& c) { c.mul_square = true; }), 3},
      {"no affine (a Scale of ones is made)", with<LN>([](LN& c) { c.affine = false; }), 2},
      {"opset 18 (axes as an input)", with<LN>([](LN& c) { c.opset = 18; }), 3},
      {"first mean over axis 2 written positively", with<LN>([](LN& c) { c.mean_axis = 2; }), 3},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ir::Graph g = after_pass(layer_norm_model(c.chain), kLayerNorm);
      REQUIRE(g.nodes.size() == 1);
      const ir::Node& n = g.nodes[0];
      CHECK(n.op_type == "LayerNormalization");
      CHECK(n.outputs == std::vector<std::string>{"y"});
      CHECK(n.inputs.size() == c.inputs);
      CHECK(n.inputs[0] == "x");
      CHECK(n.attr_int("axis", 0) == -1);
      CHECK(n.attr_float("epsilon", 0.f) == 1e-5f);
      // The chain's own constants are gone.
      CHECK_FALSE(g.initializers.count("eps"));
      CHECK_FALSE(g.initializers.count("two"));
    }
  }
}

TEST_CASE("fuse_layer_norm leaves chains that are not a LayerNorm", "[passes][fuse_decomposed]") {
  struct Case {
    const char* what;
    LayerNormChain chain;
  };
  const std::vector<Case> cases = {
      {"the mean is over another axis", with<LN>([](LN& c) { c.mean_axis = 1; })},
      {"the square is a cube", with<LN>([](LN& c) { c.exponent = 3.f; })},
      {"the deviation is also a graph output", with<LN>([](LN& c) { c.d_is_output = true; })},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ModelBuilder b = layer_norm_model(c.chain);
      const size_t nodes = glint::test::load_graph(b).nodes.size();
      ir::Graph g = after_pass(b, kLayerNorm);
      CHECK(g.nodes.size() == nodes);
      for (auto& n : g.nodes) CHECK(n.op_type != "LayerNormalization");
    }
  }
}

TEST_CASE("fuse_gelu turns the erf GELU chain into com.microsoft Gelu", "[passes][fuse_decomposed]") {
  struct Case {
    const char* what;
    GeluChain chain;
    bool fused;
  };
  const std::vector<Case> cases = {
      {"(x * (1 + erf(x / sqrt 2))) * 0.5", {}, true},
      {"(x * 0.5) * (1 + erf(x / sqrt 2))", with<GC>([](GC& c) { c.half_first = true; }), true},
      {"x * (1 / sqrt 2) inside erf", with<GC>([](GC& c) { c.multiply_inverse = true; }), true},
      {"a factor other than 0.5 is not a GELU", with<GC>([](GC& c) { c.half = 0.4f; }), false},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ir::Graph g = after_pass(gelu_model(c.chain), kGelu);
      if (c.fused) {
        REQUIRE(g.nodes.size() == 1);
        CHECK(g.nodes[0].op_type == "Gelu");
        CHECK(g.nodes[0].domain == "com.microsoft");
        CHECK(g.nodes[0].inputs == std::vector<std::string>{"x"});
        CHECK(g.nodes[0].outputs == std::vector<std::string>{"y"});
      } else {
        CHECK(g.nodes.size() == 5);
      }
    }
  }
}
