// passes::fold_body_constants: nodes inside If bodies (nested ones too) whose
// inputs are constants of an enclosing graph fold into the body's
// initializers; the weights only they read leave the outer graph, and the
// results do not change.
#include <catch2/catch.hpp>
#include <tuple>
#include <utility>

#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

// Fills body `g`: `out` = `op`(x, Slice(w, [begin, end) of axis 0)), reading x, w and
// the slice bounds from the enclosing graph; `name` prefixes its values.
void slice_body(onnx::GraphProto& g, const std::string& name, const std::string& op, const std::string& begin,
                const std::string& end, const std::string& out) {
  auto* s = g.add_node();
  s->set_op_type("Slice");
  for (const std::string& in : {std::string("w"), begin, end, std::string("axes")}) s->add_input(in);
  s->add_output(name + "_w");
  auto* n = g.add_node();
  n->set_op_type(op);
  n->add_input("x");
  n->add_input(name + "_w");
  n->add_output(out);
  ModelBuilder::graph_output(g, out, onnx::TensorProto::FLOAT);
}

// The else branch "else" of If `outer`: an inner If on inner_cond writing
// else_y, returned for its branches to be added.
onnx::NodeProto& inner_if(onnx::NodeProto& outer, const std::string& name = "") {
  onnx::GraphProto& else_g = ModelBuilder::attr_graph(outer, "else_branch", "else");
  auto* inner = else_g.add_node();
  inner->set_op_type("If");
  inner->set_name(name);
  inner->add_input("inner_cond");
  inner->add_output("else_y");
  ModelBuilder::graph_output(else_g, "else_y", onnx::TensorProto::FLOAT);
  return *inner;
}

int count_in_bodies(const ir::Graph& g, const std::string& op) {
  int k = 0;
  for (const ir::Node& n : g.nodes) {
    k += n.op_type == op;
    for (const auto& [name, a] : n.attrs)
      if (a.g) k += count_in_bodies(*a.g, op);
  }
  return k;
}

}  // namespace

TEST_CASE("fold_body_constants folds If bodies' nodes on outer constants", "[passes][fold_constants]") {
  // y = cond ? (x + w[0:2]) : (inner_cond ? x * w[2:4] : x - w[2:4]), w [4, 3].
  ModelBuilder b(13);
  b.input("cond", onnx::TensorProto::BOOL, {});
  b.input("inner_cond", onnx::TensorProto::BOOL, {});
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.initializer("w", {4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  b.initializer_i64("zero", {1}, {0});
  b.initializer_i64("two", {1}, {2});
  b.initializer_i64("four", {1}, {4});
  b.initializer_i64("axes", {1}, {0});
  onnx::NodeProto& outer = b.node("If", {"cond"}, {"y"});
  slice_body(ModelBuilder::attr_graph(outer, "then_branch", "then"), "then", "Add", "zero", "two", "then_y");
  onnx::NodeProto& inner = inner_if(outer);
  slice_body(ModelBuilder::attr_graph(inner, "then_branch", "inner_then"), "inner_then", "Mul", "two", "four",
             "inner_then_y");
  slice_body(ModelBuilder::attr_graph(inner, "else_branch", "inner_else"), "inner_else", "Sub", "two", "four",
             "inner_else_y");
  b.output("y", onnx::TensorProto::FLOAT, {2, 3});

  const ir::Graph before = glint::test::load_graph(b);
  REQUIRE(count_in_bodies(before, "Slice") == 3);
  ir::Graph after = before;
  auto s = glint::passes::optimize(after, glint::passes::OptimizeOptions{});
  INFO(s.message());
  REQUIRE(s.ok());

  CHECK(count_in_bodies(after, "Slice") == 0);
  CHECK(count_in_bodies(after, "Add") + count_in_bodies(after, "Mul") + count_in_bodies(after, "Sub") == 3);
  // The bodies read only x and inner_cond from outside now (else_branch's,
  // then then_branch's); w and the bounds are gone.
  const ir::Node* y = glint::test::node_writing(after, "y");
  REQUIRE(y != nullptr);
  CHECK(y->implicit_inputs == std::vector<std::string>{"inner_cond", "x", "x"});
  for (const char* name : {"w", "zero", "two", "four", "axes"}) CHECK(after.initializers.count(name) == 0);

  Tensor x(glint::DataType::kFloat32, {2, 3});
  for (int i = 0; i < 6; ++i) x.data<float>()[i] = 0.5f * static_cast<float>(i) - 1.f;
  for (int c = 0; c < 2; ++c)
    for (int ic = 0; ic < 2; ++ic) {
      INFO("cond " << c << " inner_cond " << ic);
      Tensor cond(glint::DataType::kBool, {}), inner_cond(glint::DataType::kBool, {});
      cond.data<uint8_t>()[0] = static_cast<uint8_t>(c);
      inner_cond.data<uint8_t>()[0] = static_cast<uint8_t>(ic);
      const std::map<std::string, Tensor> feeds = {{"cond", cond}, {"inner_cond", inner_cond}, {"x", x}};
      const auto got = glint::test::run_graph_on_cpu(after, feeds);
      for (int i = 0; i < 6; ++i) {
        const float xi = x.data<float>()[i];
        const float want = c ? xi + static_cast<float>(i) : ic ? xi * static_cast<float>(6 + i) : xi - static_cast<float>(6 + i);
        CHECK(got.at("y").data<float>()[i] == want);
      }
      glint::test::check_same_outputs(before, after, feeds);
    }
}

namespace {

// Fills body `g`: `out` = act(Conv(x, w, bias)), x, w and bias from outside; `name` prefixes its nodes.
void conv_act_body(onnx::GraphProto& g, const std::string& name, const std::string& act, const std::string& out) {
  auto* conv = g.add_node();
  conv->set_op_type("Conv");
  conv->set_name(name + "_conv");
  for (const char* in : {"x", "w", "bias"}) conv->add_input(in);
  conv->add_output(name + "_c");
  auto* a = g.add_node();
  a->set_op_type(act);
  a->set_name(name + "_act");
  a->add_input(name + "_c");
  a->add_output(out);
  ModelBuilder::graph_output(g, out, onnx::TensorProto::FLOAT);
}

}  // namespace

// passes::optimize_bodies: an activation after a Conv inside If bodies
// (nested too) fuses into it, over dtypes inferred with the outer values; a
// body whose own shapes contradict each other keeps its nodes and still
// loads (it fails only if it runs); the results do not change.
TEST_CASE("optimize_bodies fuses activations inside If bodies", "[passes][fuse_activation]") {
  // y = cond ? Relu(Conv(x)) : (inner ? Sigmoid(Conv(x)) : Relu(MatMul(a [2,3], b [4,5])))
  ModelBuilder b(13);
  b.input("cond", onnx::TensorProto::BOOL, {});
  b.input("inner_cond", onnx::TensorProto::BOOL, {});
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 5});
  std::vector<float> w(18), bias = {0.5f, -0.25f, 0.f};
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.125f * static_cast<float>(i % 7) - 0.375f;
  b.initializer("w", {3, 2, 3}, w);
  b.initializer("bias", {3}, bias);
  onnx::NodeProto& outer = b.node("If", {"cond"}, {"y"}, "outer_if");
  conv_act_body(ModelBuilder::attr_graph(outer, "then_branch", "then"), "then", "Relu", "then_y");
  onnx::NodeProto& inner = inner_if(outer, "inner_if");
  conv_act_body(ModelBuilder::attr_graph(inner, "then_branch", "inner_then"), "inner_then", "Sigmoid", "inner_then_y");
  onnx::GraphProto& broken = ModelBuilder::attr_graph(inner, "else_branch", "inner_else");
  for (auto [name, rows, cols] : {std::tuple{"a", 2, 3}, std::tuple{"b", 4, 5}}) {
    auto* t = broken.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(rows);
    t->add_dims(cols);
    for (int i = 0; i < rows * cols; ++i) t->add_float_data(1.f);
  }
  auto* mm = broken.add_node();
  mm->set_op_type("MatMul");
  mm->add_input("a");
  mm->add_input("b");
  mm->add_output("ab");
  auto* relu = broken.add_node();
  relu->set_op_type("Relu");
  relu->add_input("ab");
  relu->add_output("inner_else_y");
  ModelBuilder::graph_output(broken, "inner_else_y", onnx::TensorProto::FLOAT);
  b.output("y", onnx::TensorProto::FLOAT, {});

  const ir::Graph before = glint::test::load_graph(b);
  ir::Graph after = before;
  glint::passes::OptimizeOptions options;
  options.fuse_activations = true;
  REQUIRE(glint::passes::optimize(after, options).ok());
  auto s = glint::passes::optimize_bodies(after, options);
  INFO(s.message());
  REQUIRE(s.ok());
  // The Convs' Relu and Sigmoid are gone; the broken body keeps its Relu.
  CHECK(count_in_bodies(after, "Conv") == 2);
  CHECK(count_in_bodies(after, "Sigmoid") == 0);
  CHECK(count_in_bodies(after, "Relu") == 1);
  CHECK(count_in_bodies(after, "MatMul") == 1);

  Tensor x(glint::DataType::kFloat32, {1, 2, 5});
  for (int i = 0; i < 10; ++i) x.data<float>()[i] = 0.3f * static_cast<float>(i) - 1.2f;
  for (auto [c, ic] : {std::pair{1, 0}, std::pair{0, 1}}) {
    INFO("cond " << c << " inner_cond " << ic);
    Tensor cond(glint::DataType::kBool, {}), inner_cond(glint::DataType::kBool, {});
    cond.data<uint8_t>()[0] = static_cast<uint8_t>(c);
    inner_cond.data<uint8_t>()[0] = static_cast<uint8_t>(ic);
    glint::test::check_same_outputs(before, after, {{"cond", cond}, {"inner_cond", inner_cond}, {"x", x}});
  }
}
