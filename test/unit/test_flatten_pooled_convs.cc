// passes::flatten_pooled_convs: which pointwise Convs before global pools
// run over their pixels as one row, that the rewritten graph computes what
// the model did (CPU kernels), and that a GPU session, where the pass runs,
// agrees with a CPU session, where it does not.
#include <catch2/catch.hpp>

#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

struct PooledConvCase {
  const char* what;
  int64_t channels, out_channels, h, w;  // X [1, channels, h, w]
  int64_t kernel = 1, stride = 1;
  const char* activation = "Relu";       // between the Conv and the pools (fused), or nullptr
  bool max_pool_too = false;             // a GlobalMaxPool reads the conv beside the average
  bool also_read = false;                // an Add reads the conv's output too
  bool flattens = true;
};

const std::vector<PooledConvCase>& pooled_conv_cases() {
  static const std::vector<PooledConvCase> cases = {
      {"13x13, Relu, average pool (SqueezeNet's conv10)", 16, 24, 13, 13},
      {"7x7, no activation, average and max pools", 8, 12, 7, 7, 1, 1, nullptr, true},
      {"5 channels, 3x6", 5, 7, 3, 6},
      {"8x8: whole tiles already", 8, 8, 8, 8, 1, 1, "Relu", false, false, false},
      {"a 3x3 kernel", 8, 8, 13, 13, 3, 1, "Relu", false, false, false},
      {"stride 2", 8, 8, 13, 13, 1, 2, "Relu", false, false, false},
      {"an Add reads the conv's output too", 8, 8, 13, 13, 1, 1, "Relu", false, true, false},
      {"one row already", 8, 8, 1, 13, 1, 1, "Relu", false, false, false},
  };
  return cases;
}

ModelBuilder pooled_conv_model(const PooledConvCase& pc) {
  using glint::test::random_floats;
  ModelBuilder b(13);
  const int64_t C = pc.channels, M = pc.out_channels, K = pc.kernel;
  b.input("x", onnx::TensorProto::FLOAT, {1, C, pc.h, pc.w});
  b.initializer("w", {M, C, K, K}, random_floats(M * C * K * K, 3, -1.f, 1.f));
  b.initializer("b", {M}, random_floats(M, 4));
  auto& conv = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  ModelBuilder::attr_ints(conv, "pads", std::vector<int64_t>(4, K / 2));
  ModelBuilder::attr_ints(conv, "strides", {pc.stride, pc.stride});
  std::string y = "c";
  if (pc.activation) {
    b.node(pc.activation, {"c"}, {"a"}, "act");
    y = "a";
  }
  b.node("GlobalAveragePool", {y}, {"avg"}, "avg");
  b.output("avg", onnx::TensorProto::FLOAT, {1, M, 1, 1});
  if (pc.max_pool_too) {
    b.node("GlobalMaxPool", {y}, {"max"}, "max");
    b.output("max", onnx::TensorProto::FLOAT, {1, M, 1, 1});
  }
  if (pc.also_read) {
    b.node("Add", {y, y}, {"twice"}, "twice");
    const int64_t oh = (pc.h - 1) / pc.stride + 1, ow = (pc.w - 1) / pc.stride + 1;
    b.output("twice", onnx::TensorProto::FLOAT, {1, M, oh, ow});
  }
  return b;
}

Tensor input_for(const PooledConvCase& pc) {
  const glint::Shape shape = {1, pc.channels, pc.h, pc.w};
  return Tensor::from_floats(shape, glint::test::random_floats(glint::shape_size(shape), 9, -2.f, 2.f));
}

}  // namespace

TEST_CASE("flatten_pooled_convs runs pointwise convs before global pools as one row", "[passes][flatten_pooled_convs]") {
  for (const PooledConvCase& pc : pooled_conv_cases()) {
    SECTION(pc.what) {
      ir::Graph before = glint::test::load_graph(pooled_conv_model(pc));
      ir::Graph after = before;
      glint::passes::OptimizeOptions o;
      o.fuse_activations = true;
      o.flatten_pooled_convs = true;
      auto s = glint::passes::optimize(after, o);
      INFO(s.message());
      REQUIRE(s.ok());
      CHECK(glint::test::count_ops(after, "Reshape") == (pc.flattens ? 1 : 0));
      const ir::Node* conv = glint::test::node_writing(after, pc.activation ? "a" : "c");
      REQUIRE(conv != nullptr);
      CHECK(conv->op_type == "Conv");
      const ir::ValueInfo* y = after.info(conv->outputs[0]);
      REQUIRE(y != nullptr);
      if (pc.flattens) {
        CHECK(y->concrete() == glint::Shape{1, pc.out_channels, 1, pc.h * pc.w});
        const ir::Node* reshape = glint::test::node_writing(after, conv->inputs[0]);
        REQUIRE(reshape != nullptr);
        CHECK(reshape->op_type == "Reshape");
        CHECK(reshape->inputs[0] == "x");
      } else {
        CHECK(conv->inputs[0] == "x");
      }
      CHECK(after.info("avg")->concrete() == glint::Shape{1, pc.out_channels, 1, 1});
      glint::test::check_same_outputs(before, after, {{"x", input_for(pc)}});
    }
  }
}

TEST_CASE("a GPU session's flattened pooled conv gives the CPU's result", "[session][gpu][flatten_pooled_convs]") {
  for (const PooledConvCase& pc : pooled_conv_cases()) {
    if (!pc.flattens) continue;
    SECTION(pc.what) {
      int reshapes = 0;
      for (const auto& p : glint::test::check_gpu_session_matches_cpu(pooled_conv_model(pc).bytes(), {{"x", input_for(pc)}})) {
        CHECK(p.gpu);
        reshapes += p.op == "Reshape";
      }
      CHECK(reshapes == 1);
    }
  }
}
