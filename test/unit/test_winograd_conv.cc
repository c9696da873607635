// passes::winograd_conv_weights: which Convs get Winograd weights, that a
// weight another node reads stays, and that the rewritten graph computes
// what the original does (the Winograd kernel against the im2col one).
#include <catch2/catch.hpp>

#include "engine/cpu/conv_winograd.h"
#include "engine/passes/passes.h"
#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;

TEST_CASE("winograd_conv_weights transforms the weights of 3x3 stride-1 convs", "[passes][winograd]") {
  using glint::test::random_floats;
  for (bool shared_with_neg : {false, true}) {
    SECTION(shared_with_neg ? "a weight another op reads stays" : "a weight two convs read is transformed once") {
      ModelBuilder b(13);
      b.input("x", onnx::TensorProto::FLOAT, {2, 8, 21, 23});
      b.initializer("w", {8, 8, 3, 3}, random_floats(576, 1, -0.15f, 0.15f));
      b.initializer("bias", {8}, random_floats(8, 2));
      b.initializer("w_s2", {8, 8, 3, 3}, random_floats(576, 3, -0.15f, 0.15f));
      ModelBuilder::attr_ints(b.node("Conv", {"x", "w", "bias"}, {"h"}), "pads", {1, 1, 1, 1});
      ModelBuilder::attr_ints(b.node("Conv", {"h", "w"}, {"y"}), "pads", {0, 1, 2, 0});
      // Stride 2: stays an im2col conv.
      ModelBuilder::attr_ints(b.node("Conv", {"y", "w_s2"}, {"z"}), "strides", {2, 2});
      b.output("z", onnx::TensorProto::FLOAT, {});
      // A 9 x 9 output: too few tiles (kWinogradMinOutputPixels), stays.
      b.input("s", onnx::TensorProto::FLOAT, {1, 8, 9, 9});
      b.initializer("w_small", {8, 8, 3, 3}, random_floats(576, 5, -0.15f, 0.15f));
      ModelBuilder::attr_ints(b.node("Conv", {"s", "w_small"}, {"t"}), "pads", {1, 1, 1, 1});
      b.output("t", onnx::TensorProto::FLOAT, {});
      if (shared_with_neg) {
        b.node("Neg", {"w"}, {"n"});
        b.output("n", onnx::TensorProto::FLOAT, {8, 8, 3, 3});
      }
      glint::ir::Graph before = glint::test::load_graph(b);
      glint::ir::Graph after = before;
      REQUIRE(glint::passes::winograd_conv_weights(after).ok());
      int winograd = 0;
      for (auto& n : after.nodes) {
        if (n.attr_int(glint::cpu::kWinogradAttr, 0) == 0) continue;
        ++winograd;
        CHECK(n.inputs[1] != "w");
        CHECK(after.initializers.at(n.inputs[1]).shape() == glint::Shape{16, 8, 8});
      }
      CHECK(winograd == (shared_with_neg ? 0 : 2));
      CHECK(after.initializers.count("w") == (shared_with_neg ? 1u : 0u));
      CHECK(after.initializers.count("w_s2") == 1u);
      CHECK(after.initializers.count("w_small") == 1u);
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats({2, 8, 21, 23}, random_floats(2 * 8 * 21 * 23, 4));
      feeds["s"] = Tensor::from_floats({1, 8, 9, 9}, random_floats(8 * 81, 6));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}
