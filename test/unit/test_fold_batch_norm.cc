// passes::fold_batch_norm: Conv / ConvTranspose + inference BatchNormalization
// become one Conv, whose outputs equal the pair's (on the CPU kernels), and
// the cases that must not fold stay as they are.
#include <catch2/catch.hpp>

#include "engine/core/compare.h"
#include "engine/runtime/session.h"
#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

// Why a case must not fold (kFolds: it must).
enum class Block { kFolds, kConvOutputIsGraphOutput, kConvOutputReadTwice, kMeanIsInput, kWeightIsInput,
                   kTrainingMode };

struct FoldCase {
  const char* what;
  const char* op;  // Conv or ConvTranspose
  int64_t c, m, group;
  bool bias;
  bool relu_after;  // BN's output read by a Relu (else it is the graph output)
  int opset;
  float epsilon;
  Block block;
};

const FoldCase kCases[] = {
    {"Conv with bias", "Conv", 3, 4, 1, true, false, 13, 1e-5f, Block::kFolds},
    {"Conv without bias, Relu after", "Conv", 3, 4, 1, false, true, 13, 1e-3f, Block::kFolds},
    {"grouped Conv", "Conv", 4, 6, 2, true, false, 9, 1e-5f, Block::kFolds},
    {"depthwise Conv", "Conv", 4, 4, 4, false, true, 15, 1e-5f, Block::kFolds},
    {"ConvTranspose with bias", "ConvTranspose", 3, 5, 1, true, false, 13, 1e-5f, Block::kFolds},
    {"grouped ConvTranspose without bias", "ConvTranspose", 4, 6, 2, false, true, 13, 1e-4f, Block::kFolds},
    {"conv output also a graph output", "Conv", 3, 4, 1, true, false, 13, 1e-5f, Block::kConvOutputIsGraphOutput},
    {"conv output read by another node", "Conv", 3, 4, 1, true, false, 13, 1e-5f, Block::kConvOutputReadTwice},
    {"BN mean not constant", "Conv", 3, 4, 1, true, false, 13, 1e-5f, Block::kMeanIsInput},
    {"conv weights not constant", "Conv", 3, 4, 1, true, false, 13, 1e-5f, Block::kWeightIsInput},
    {"BN in training mode", "Conv", 3, 4, 1, true, false, 15, 1e-5f, Block::kTrainingMode},
};

// x[1,c,5,5] -> op (3x3, pad 1) -> BN -> [Relu] -> y
ModelBuilder fold_model(const FoldCase& c) {
  using glint::test::random_floats;
  ModelBuilder b(c.opset);
  const bool transpose = std::string(c.op) == "ConvTranspose";
  b.input("x", onnx::TensorProto::FLOAT, {1, c.c, 5, 5});
  std::vector<int64_t> wdims = transpose ? std::vector<int64_t>{c.c, c.m / c.group, 3, 3}
                                         : std::vector<int64_t>{c.m, c.c / c.group, 3, 3};
  if (c.block == Block::kWeightIsInput) b.input("w", onnx::TensorProto::FLOAT, wdims);
  else b.initializer("w", wdims, random_floats(wdims[0] * wdims[1] * 9, 1));
  std::vector<std::string> conv_in = {"x", "w"};
  if (c.bias) {
    b.initializer("b", {c.m}, random_floats(c.m, 2));
    conv_in.push_back("b");
  }
  auto& conv = b.node(c.op, conv_in, {"c"}, "conv");
  ModelBuilder::attr_ints(conv, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(conv, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_int(conv, "group", c.group);
  b.initializer("gamma", {c.m}, random_floats(c.m, 3, 0.5f, 1.5f));
  b.initializer("beta", {c.m}, random_floats(c.m, 4));
  if (c.block == Block::kMeanIsInput) b.input("mean", onnx::TensorProto::FLOAT, {c.m});
  else b.initializer("mean", {c.m}, random_floats(c.m, 5));
  b.initializer("var", {c.m}, random_floats(c.m, 6, 0.1f, 2.f));
  auto& bn = b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"}, "bn");
  ModelBuilder::attr_float(bn, "epsilon", c.epsilon);
  if (c.block == Block::kTrainingMode) ModelBuilder::attr_int(bn, "training_mode", 1);
  std::string out = "bn";
  if (c.relu_after) {
    b.node("Relu", {"bn"}, {"y"}, "relu");
    out = "y";
  }
  if (c.block == Block::kConvOutputReadTwice) {
    b.node("Add", {"c", out}, {"sum"}, "add");
    out = "sum";
  }
  b.output(out, onnx::TensorProto::FLOAT, {1, c.m, 5, 5});
  if (c.block == Block::kConvOutputIsGraphOutput) b.output("c", onnx::TensorProto::FLOAT, {1, c.m, 5, 5});
  return b;
}

std::map<std::string, Tensor> feeds_for(const ir::Graph& g) {
  std::map<std::string, Tensor> feeds;
  uint32_t seed = 100;
  for (auto& name : g.inputs) {
    glint::Shape shape = g.info(name)->concrete();
    feeds[name] = Tensor::from_floats(shape, glint::test::random_floats(glint::shape_size(shape), seed++,
                                                                         name == "mean" ? -0.5f : -1.f));
  }
  return feeds;
}

}  // namespace

TEST_CASE("fold_batch_norm folds BN into the conv before it, and only where it may", "[passes][fold_batch_norm]") {
  for (const FoldCase& c : kCases) {
    SECTION(c.what) {
      ir::Graph before = glint::test::load_graph(fold_model(c));
      ir::Graph after = before;
      auto s = glint::passes::fold_batch_norm(after);
      INFO(s.message());
      REQUIRE(s.ok());
      REQUIRE(ir::check_references(after).ok());
      if (c.block != Block::kFolds) {
        CHECK(after.nodes.size() == before.nodes.size());
        CHECK(glint::test::count_ops(after, "BatchNormalization") == 1);
        CHECK(after.initializers.size() == before.initializers.size());
        if (c.block == Block::kTrainingMode) continue;  // the CPU kernels run inference only
      } else {
        CHECK(after.nodes.size() == before.nodes.size() - 1);
        CHECK(glint::test::count_ops(after, "BatchNormalization") == 0);
        // The conv took the BN's output name; its weights and bias are new
        // constants, and the replaced ones are gone.
        const ir::Node* conv = glint::test::node_writing(after, "bn");
        REQUIRE(conv != nullptr);
        CHECK(conv->op_type == c.op);
        CHECK(conv->attr_int("group", 1) == c.group);
        REQUIRE(conv->inputs.size() == 3);
        CHECK(after.is_constant(conv->inputs[1]));
        CHECK(after.is_constant(conv->inputs[2]));
        CHECK(after.initializers.at(conv->inputs[1]).shape() == before.initializers.at("w").shape());
        CHECK(after.initializers.at(conv->inputs[2]).shape() == glint::Shape{c.m});
        CHECK(after.initializers.size() == 2);
        CHECK_FALSE(after.values.count("c"));
      }
      glint::test::check_same_outputs(before, after, feeds_for(before));
    }
  }
}

TEST_CASE("fold_batch_norm folds a chain of two BNs and leaves shared weights alone", "[passes][fold_batch_norm]") {
  using glint::test::random_floats;
  // x -> conv_a(w) -> BN -> BN -> y1;  x -> conv_b(w) -> y2: w is shared.
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
  b.initializer("w", {3, 2, 1, 1}, random_floats(6, 1));
  b.node("Conv", {"x", "w"}, {"c"}, "conv_a");
  b.node("Conv", {"x", "w"}, {"y2"}, "conv_b");
  for (int i = 0; i < 2; ++i) {
    std::string k = std::to_string(i);
    b.initializer("g" + k, {3}, random_floats(3, 10 + i, 0.5f, 1.5f));
    b.initializer("b" + k, {3}, random_floats(3, 20 + i));
    b.initializer("m" + k, {3}, random_floats(3, 30 + i));
    b.initializer("v" + k, {3}, random_floats(3, 40 + i, 0.1f, 2.f));
    b.node("BatchNormalization", {i == 0 ? "c" : "bn0", "g" + k, "b" + k, "m" + k, "v" + k},
           {i == 0 ? "bn0" : "y1"});
  }
  b.output("y1", onnx::TensorProto::FLOAT, {1, 3, 4, 4});
  b.output("y2", onnx::TensorProto::FLOAT, {1, 3, 4, 4});
  ir::Graph before = glint::test::load_graph(b);
  ir::Graph after = before;
  REQUIRE(glint::passes::fold_batch_norm(after).ok());
  CHECK(after.nodes.size() == 2);
  CHECK(glint::test::node_writing(after, "y1")->name == "conv_a");
  CHECK(glint::test::node_writing(after, "y2")->inputs[1] == "w");
  CHECK(after.initializers.size() == 3);  // w, and conv_a's folded weights and bias
  glint::test::check_same_outputs(before, after, feeds_for(before));
}

TEST_CASE("fold_batch_norm leaves a BN the caller keeps", "[passes][fold_batch_norm]") {
  ir::Graph g = glint::test::load_graph(fold_model(kCases[0]));
  REQUIRE(glint::passes::fold_batch_norm(g, {"bn"}).ok());
  CHECK(glint::test::count_ops(g, "BatchNormalization") == 1);
}

TEST_CASE("a session folds BN at creation and still gives the unfolded result", "[passes][fold_batch_norm][session]") {
  const FoldCase& c = kCases[1];  // Conv without bias, Relu after
  ModelBuilder b = fold_model(c);
  ir::Graph before = glint::test::load_graph(b);
  auto feeds = feeds_for(before);
  auto want = glint::test::run_graph_on_cpu(before, feeds);
  std::string bytes = b.bytes();
  for (auto mode : {glint::BackendMode::kCpu, glint::BackendMode::kDefault}) {
    INFO("backend " << glint::backend_mode_name(mode));
    glint::SessionOptions o;
    o.backend = mode;
    auto s = glint::Session::create(bytes.data(), bytes.size(), o);
    INFO(s.status().message());
    REQUIRE(s.ok());
    CHECK(glint::test::count_ops((*s)->graph(), "BatchNormalization") == 0);
    auto out = (*s)->run(feeds);
    INFO(out.status().message());
    REQUIRE(out.ok());
    auto cmp = glint::compare_tensors(out->at("y"), want.at("y"), 0.0, 1e-4);
    INFO(cmp.mismatch);
    CHECK(cmp.equal);
  }
}

// passes::fold_conv_add: Conv + Add of a per-channel constant becomes the
// Conv's bias; other constants, and conv outputs read elsewhere, stay.
TEST_CASE("fold_conv_add takes a per-channel Add into the Conv's bias", "[passes][fold_conv_add]") {
  using glint::test::random_floats;
  struct Case {
    const char* what;
    std::vector<int64_t> add_shape;
    bool conv_bias, constant_first, conv_output_is_graph_output, folds;
  };
  const std::vector<Case> cases = {
      {"[M,1,1] after a Conv without bias", {4, 1, 1}, false, false, false, true},
      {"[1,M,1,1] after a Conv with bias, constant first", {1, 4, 1, 1}, true, true, false, true},
      {"a constant that varies over the pixels stays", {1, 4, 5, 5}, false, false, false, false},
      {"a constant over the width stays", {5}, false, false, false, false},
      {"the conv output is also a graph output", {4, 1, 1}, false, false, true, false},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      ModelBuilder b(13);
      b.input("x", onnx::TensorProto::FLOAT, {1, 3, 5, 5});
      b.initializer("w", {4, 3, 3, 3}, random_floats(4 * 3 * 9, 1));
      std::vector<std::string> conv_in = {"x", "w"};
      if (c.conv_bias) {
        b.initializer("b", {4}, random_floats(4, 2));
        conv_in.push_back("b");
      }
      ModelBuilder::attr_ints(b.node("Conv", conv_in, {"c"}, "conv"), "pads", {1, 1, 1, 1});
      int64_t n = 1;
      for (int64_t d : c.add_shape) n *= d;
      b.initializer("k", c.add_shape, random_floats(n, 3));
      b.node("Add", c.constant_first ? std::vector<std::string>{"k", "c"} : std::vector<std::string>{"c", "k"}, {"y"});
      b.output("y", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
      if (c.conv_output_is_graph_output) b.output("c", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
      ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::fold_conv_add(after).ok());
      CHECK(after.nodes.size() == (c.folds ? 1u : 2u));
      if (c.folds) {
        CHECK(after.nodes[0].outputs == std::vector<std::string>{"y"});
        CHECK(after.nodes[0].inputs.size() == 3);
        CHECK_FALSE(after.initializers.count("k"));
      }
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats({1, 3, 5, 5}, random_floats(75, 7));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}
