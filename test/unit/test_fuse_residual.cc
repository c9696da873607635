// passes::fuse_residual_add and the Conv kernels that read a fused residual:
// which Conv + Add pairs fuse, what the Conv carries afterwards, that the
// CPU result equals the unfused graph's, and that every GPU Conv candidate
// (depthwise, vec4 with and without a planes tile, generic) gives the CPU's
// result in a session with every node on the GPU.
#include <catch2/catch.hpp>
#include <random>

#include "engine/core/compare.h"
#include "engine/runtime/session.h"
#include "test/unit/graph_test_util.h"

using glint::FusedActivation;
using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

struct ResidualCase {
  const char* what;
  int64_t channels, size;   // X [1, channels, size, size]
  int64_t kernel, group;    // W [channels, channels / group, kernel, kernel]
  bool bias;
  bool residual_first;      // Add(residual, conv) instead of Add(conv, residual)
  const char* after;        // an activation after the Add, or nullptr
  int64_t rank = 4;         // 3: a 1-D conv (the generic GPU kernel)
};

const std::vector<ResidualCase>& residual_cases() {
  static const std::vector<ResidualCase> cases = {
      {"1x1 (a MobileNetV2 projection)", 16, 7, 1, 1, true, false, nullptr},
      {"1x1, residual first, no bias", 16, 6, 1, 1, false, true, nullptr},
      {"3x3 + Relu after the Add (a ResNet block)", 8, 9, 3, 1, true, false, "Relu"},
      {"3x3 depthwise", 12, 10, 3, 12, true, false, nullptr},
      {"3 channels (no four-channel blocks)", 3, 5, 3, 1, true, true, "Relu"},
      {"1-D", 5, 9, 3, 1, true, false, nullptr, 3},
  };
  return cases;
}

// x -> Conv -> c; y = Add(c, x) (-> activation).
ModelBuilder residual_model(const ResidualCase& rc) {
  using glint::test::random_floats;
  ModelBuilder b(13);
  const int64_t C = rc.channels, S = rc.size, K = rc.kernel;
  std::vector<int64_t> x = {1, C, S}, w = {C, C / rc.group, K};
  if (rc.rank == 4) {
    x.push_back(S);
    w.push_back(K);
  }
  b.input("x", onnx::TensorProto::FLOAT, x);
  b.initializer("w", w, random_floats(glint::shape_size(w), 3, -1.f, 1.f));
  std::vector<std::string> conv_in = {"x", "w"};
  if (rc.bias) {
    b.initializer("b", {C}, random_floats(C, 4));
    conv_in.push_back("b");
  }
  auto& conv = b.node("Conv", conv_in, {"c"}, "conv");
  ModelBuilder::attr_ints(conv, "pads", std::vector<int64_t>(2 * (rc.rank - 2), K / 2));
  if (rc.group > 1) ModelBuilder::attr_int(conv, "group", rc.group);
  const std::string sum = rc.after ? "s" : "y";
  b.node("Add", rc.residual_first ? std::vector<std::string>{"x", "c"} : std::vector<std::string>{"c", "x"}, {sum},
         "add");
  if (rc.after) b.node(rc.after, {"s"}, {"y"}, "act");
  b.output("y", onnx::TensorProto::FLOAT, x);
  return b;
}

Tensor input_for(const ResidualCase& rc) {
  glint::Shape shape = {1, rc.channels, rc.size};
  if (rc.rank == 4) shape.push_back(rc.size);
  return Tensor::from_floats(shape, glint::test::random_floats(glint::shape_size(shape), 9, -2.f, 2.f));
}

}  // namespace

TEST_CASE("fuse_residual_add puts the Add on its Conv", "[passes][fuse_residual]") {
  for (const ResidualCase& rc : residual_cases()) {
    SECTION(rc.what) {
      ir::Graph before = glint::test::load_graph(residual_model(rc));
      ir::Graph after = glint::test::optimized_with_fusions(before);
      // One Conv writes y: the Add, and an activation after it, are gone.
      REQUIRE(after.nodes.size() == 1);
      const ir::Node& conv = after.nodes[0];
      CHECK(conv.op_type == "Conv");
      CHECK(conv.outputs == std::vector<std::string>{"y"});
      CHECK(glint::fused_residual_input(conv) == 3);
      REQUIRE(conv.inputs.size() == 4);
      CHECK(conv.inputs[3] == "x");
      CHECK(conv.has_input(2) == rc.bias);
      CHECK(glint::fused_activation_of(conv).kind ==
            (rc.after ? FusedActivation::kRelu : FusedActivation::kNone));
      glint::test::check_same_outputs(before, after, {{"x", input_for(rc)}});
    }
  }
}

TEST_CASE("fuse_residual_add leaves Adds it must not fuse", "[passes][fuse_residual]") {
  const ResidualCase& rc = residual_cases()[0];
  auto expect_unchanged = [&](ModelBuilder& b) {
    ir::Graph before = glint::test::load_graph(b);
    ir::Graph after = before;
    REQUIRE(glint::passes::fuse_residual_add(after).ok());
    REQUIRE(after.nodes.size() == before.nodes.size());
    for (auto& n : after.nodes) CHECK(glint::fused_residual_input(n) < 0);
    glint::test::check_same_outputs(before, after, {{"x", input_for(rc)}});
  };
  SECTION("the conv's output is also a graph output") {
    ModelBuilder b = residual_model(rc);
    b.output("c", onnx::TensorProto::FLOAT, {1, 16, 7, 7});
    expect_unchanged(b);
  }
  SECTION("the Add broadcasts") {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
    b.input("r", onnx::TensorProto::FLOAT, {1, 4, 1, 1});
    b.initializer("w", {4, 4, 1, 1}, glint::test::random_floats(16, 3));
    b.node("Conv", {"x", "w"}, {"c"});
    b.node("Add", {"c", "r"}, {"y"});
    b.output("y", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
    ir::Graph g = glint::test::load_graph(b);
    REQUIRE(glint::passes::fuse_residual_add(g).ok());
    CHECK(g.nodes.size() == 2);
  }
  SECTION("an activation between the Conv and the Add") {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
    b.initializer("w", {4, 4, 1, 1}, glint::test::random_floats(16, 3));
    b.node("Conv", {"x", "w"}, {"c"});
    b.node("Relu", {"c"}, {"r"});
    b.node("Add", {"r", "x"}, {"y"});
    b.output("y", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
    ir::Graph before = glint::test::load_graph(b);
    ir::Graph after = before;
    glint::passes::OptimizeOptions o;
    o.fuse_activations = true;
    REQUIRE(glint::passes::optimize(after, o).ok());
    REQUIRE(after.nodes.size() == 2);  // Conv + Relu, then the Add
    CHECK(glint::fused_residual_input(*glint::test::node_writing(after, "r")) < 0);
    glint::Shape shape = {1, 4, 5, 5};
    glint::test::check_same_outputs(
        before, after, {{"x", Tensor::from_floats(shape, glint::test::random_floats(100, 5, -2.f, 2.f))}});
  }
  SECTION("an Add the caller keeps (forced onto the CPU)") {
    ir::Graph g = glint::test::load_graph(residual_model(rc));
    REQUIRE(glint::passes::fuse_residual_add(g, {"add"}).ok());
    CHECK(g.nodes.size() == 2);
  }
}

TEST_CASE("a model's Conv with a fourth input is refused", "[fuse_residual][bad-input]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
  b.initializer("w", {4, 4, 1, 1}, glint::test::random_floats(16, 3));
  b.node("Conv", {"x", "w", "", "x"}, {"y"}, "conv4");
  b.output("y", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
  std::string bytes = b.bytes();
  auto s = glint::Session::create(bytes.data(), bytes.size(), {});
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Contains("conv4") && Catch::Contains("at most 3 inputs"));
}

TEST_CASE("the GPU Conv kernels add a fused residual as the CPU does", "[session][gpu][fuse_residual]") {
  for (const ResidualCase& rc : residual_cases()) {
    SECTION(rc.what) {
      const auto placements = glint::test::check_gpu_session_matches_cpu(residual_model(rc).bytes(), {{"x", input_for(rc)}});
      REQUIRE(placements.size() == 1);  // the Conv alone, residual fused
      CHECK(placements[0].gpu);
    }
  }
}
