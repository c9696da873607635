// passes::fuse_activations and engine/core/fused_activation: which
// producer + activation pairs fuse, what the producer carries afterwards, and
// that applying the fused activation to the producer's CPU output gives the
// unfused graph's result (run_graph_on_cpu applies them as the runtime does;
// the session tests cover the runtime itself).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "engine/core/compare.h"
#include "engine/gl/kernels/glsl_util.h"
#include "test/unit/graph_test_util.h"
#include "test/unit/test_util.h"

using glint::FusedActivation;
using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct ActCase {
  const char* what;
  const char* op;
  int opset;
  std::function<void(ModelBuilder&, onnx::NodeProto&)> setup;  // attributes / bound inputs
  FusedActivation want;
};

const std::vector<ActCase>& act_cases() {
  static const std::vector<ActCase> cases = {
      {"Relu", "Relu", 13, nullptr, {FusedActivation::kRelu, 0.f, 0.f}},
      {"Clip 0..6 (inputs)", "Clip", 13,
       [](ModelBuilder& b, onnx::NodeProto& n) {
         b.initializer("lo", {}, {0.f});
         b.initializer("hi", {}, {6.f});
         n.add_input("lo");
         n.add_input("hi");
       },
       {FusedActivation::kClip, 0.f, 6.f}},
      {"Clip max only (inputs)", "Clip", 13,
       [](ModelBuilder& b, onnx::NodeProto& n) {
         b.initializer("hi", {}, {0.25f});
         n.add_input("");
         n.add_input("hi");
       },
       {FusedActivation::kClip, -kInf, 0.25f}},
      {"Clip (attributes, opset 6)", "Clip", 6,
       [](ModelBuilder&, onnx::NodeProto& n) {
         ModelBuilder::attr_float(n, "min", -0.5f);
         ModelBuilder::attr_float(n, "max", 0.5f);
       },
       {FusedActivation::kClip, -0.5f, 0.5f}},
      {"LeakyRelu", "LeakyRelu", 13, [](ModelBuilder&, onnx::NodeProto& n) { ModelBuilder::attr_float(n, "alpha", 0.1f); },
       {FusedActivation::kLeakyRelu, 0.1f, 0.f}},
      {"LeakyRelu default alpha", "LeakyRelu", 13, nullptr, {FusedActivation::kLeakyRelu, 0.01f, 0.f}},
      {"Sigmoid", "Sigmoid", 13, nullptr, {FusedActivation::kSigmoid, 0.f, 0.f}},
      {"HardSigmoid", "HardSigmoid", 13,
       [](ModelBuilder&, onnx::NodeProto& n) {
         ModelBuilder::attr_float(n, "alpha", 0.3f);
         ModelBuilder::attr_float(n, "beta", 0.4f);
       },
       {FusedActivation::kHardSigmoid, 0.3f, 0.4f}},
      {"HardSigmoid defaults", "HardSigmoid", 13, nullptr, {FusedActivation::kHardSigmoid, 0.2f, 0.5f}},
      {"Tanh", "Tanh", 13, nullptr, {FusedActivation::kTanh, 0.f, 0.f}},
  };
  return cases;
}

// x -> producer -> p -> activation -> y (shapes chosen so every producer
// writes [2, 4, 3, 3] or [6, 4]).
ModelBuilder fuse_model(const std::string& producer, const ActCase& act) {
  using glint::test::random_floats;
  ModelBuilder b(act.opset);
  std::vector<int64_t> out;
  if (producer == "Conv" || producer == "ConvTranspose") {
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 3, 3});
    std::vector<int64_t> w = producer == "Conv" ? std::vector<int64_t>{4, 3, 3, 3} : std::vector<int64_t>{3, 4, 3, 3};
    b.initializer("w", w, random_floats(4 * 3 * 9, 1, -2.f, 2.f));
    b.initializer("b", {4}, random_floats(4, 2));
    auto& n = b.node(producer, {"x", "w", "b"}, {"p"}, "producer");
    ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
    out = {2, 4, 3, 3};
  } else {
    b.input("x", onnx::TensorProto::FLOAT, {6, 5});
    b.initializer("w", {5, 4}, random_floats(20, 1, -2.f, 2.f));
    if (producer == "Gemm") {
      b.initializer("b", {4}, random_floats(4, 2));
      b.node("Gemm", {"x", "w", "b"}, {"p"}, "producer");
    } else {
      b.node("MatMul", {"x", "w"}, {"p"}, "producer");
    }
    out = {6, 4};
  }
  auto& a = b.node(act.op, {"p"}, {"y"}, "act");
  if (act.setup) act.setup(b, a);
  b.output("y", onnx::TensorProto::FLOAT, out);
  return b;
}

std::map<std::string, Tensor> feeds_for(const ir::Graph& g) {
  std::map<std::string, Tensor> feeds;
  for (auto& name : g.inputs) {
    glint::Shape shape = g.info(name)->concrete();
    feeds[name] = Tensor::from_floats(shape, glint::test::random_floats(glint::shape_size(shape), 7, -2.f, 2.f));
  }
  return feeds;
}

void check_same_outputs(const ir::Graph& before, const ir::Graph& after) {
  glint::test::check_same_outputs(before, after, feeds_for(before));
}

}  // namespace

TEST_CASE("fuse_activations puts each activation on its Conv / Gemm / MatMul", "[passes][fuse_activation]") {
  for (const char* producer : {"Conv", "ConvTranspose", "Gemm", "MatMul"}) {
    for (const ActCase& act : act_cases()) {
      SECTION(std::string(producer) + " + " + act.what) {
        ir::Graph before = glint::test::load_graph(fuse_model(producer, act));
        ir::Graph after = before;
        auto s = glint::passes::fuse_activations(after);
        INFO(s.message());
        REQUIRE(s.ok());
        REQUIRE(after.nodes.size() == 1);
        const ir::Node& n = after.nodes[0];
        CHECK(n.op_type == producer);
        CHECK(n.outputs == std::vector<std::string>{"y"});
        FusedActivation got = glint::fused_activation_of(n);
        INFO("fused " << got.describe() << ", want " << act.want.describe());
        CHECK(got == act.want);
        CHECK_FALSE(after.values.count("p"));
        CHECK(after.values.count("y"));
        // The activation's bound constants are no longer read; optimize's
        // dead-node pass drops them.
        REQUIRE(glint::passes::remove_dead_nodes(after).ok());
        CHECK_FALSE(after.initializers.count("lo"));
        CHECK_FALSE(after.initializers.count("hi"));
        check_same_outputs(before, after);
      }
    }
  }
}

TEST_CASE("fuse_activations leaves pairs it must not fuse alone", "[passes][fuse_activation]") {
  const ActCase& relu = act_cases()[0];
  auto expect_unchanged = [](ModelBuilder& b) {
    ir::Graph before = glint::test::load_graph(b);
    ir::Graph after = before;
    REQUIRE(glint::passes::fuse_activations(after).ok());
    CHECK(after.nodes.size() == before.nodes.size());
    for (auto& n : after.nodes) CHECK(glint::fused_activation_of(n).kind == FusedActivation::kNone);
    check_same_outputs(before, after);
  };
  SECTION("the producer's output is also a graph output") {
    ModelBuilder b = fuse_model("Conv", relu);
    b.output("p", onnx::TensorProto::FLOAT, {2, 4, 3, 3});
    expect_unchanged(b);
  }
  SECTION("another node reads the producer's output") {
    ModelBuilder b = fuse_model("MatMul", relu);
    b.node("Neg", {"p"}, {"z"});
    b.output("z", onnx::TensorProto::FLOAT, {6, 4});
    expect_unchanged(b);
  }
  SECTION("Clip bounds that are not constant") {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {6, 5});
    b.input("lo", onnx::TensorProto::FLOAT, {});
    b.initializer("w", {5, 4}, glint::test::random_floats(20, 1));
    b.node("MatMul", {"x", "w"}, {"p"});
    b.node("Clip", {"p", "lo"}, {"y"});
    b.output("y", onnx::TensorProto::FLOAT, {6, 4});
    expect_unchanged(b);
  }
  SECTION("an activation after an op that is not a producer") {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {6, 5});
    b.node("Neg", {"x"}, {"p"});
    b.node("Relu", {"p"}, {"y"});
    b.output("y", onnx::TensorProto::FLOAT, {6, 5});
    expect_unchanged(b);
  }
  SECTION("an integer MatMul") {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::INT64, {2, 3});
    b.initializer_i64("w", {3, 2}, {1, -2, 3, -4, 5, -6});
    b.node("MatMul", {"x", "w"}, {"p"});
    b.node("Relu", {"p"}, {"y"});
    b.output("y", onnx::TensorProto::INT64, {2, 2});
    ir::Graph g = glint::test::load_graph(b);
    REQUIRE(glint::passes::fuse_activations(g).ok());
    CHECK(g.nodes.size() == 2);
  }
  SECTION("an activation the caller keeps (forced onto the CPU)") {
    ir::Graph g = glint::test::load_graph(fuse_model("Conv", relu));
    REQUIRE(glint::passes::fuse_activations(g, {"act"}).ok());
    CHECK(g.nodes.size() == 2);
  }
  SECTION("two activations in a row: only the first fuses") {
    ModelBuilder b = fuse_model("Gemm", relu);
    b.proto().mutable_graph()->mutable_output(0)->set_name("z");
    b.node("Sigmoid", {"y"}, {"z"});
    ir::Graph before = glint::test::load_graph(b);
    ir::Graph after = before;
    REQUIRE(glint::passes::fuse_activations(after).ok());
    REQUIRE(after.nodes.size() == 2);
    CHECK(glint::fused_activation_of(*glint::test::node_writing(after, "y")).kind == FusedActivation::kRelu);
    check_same_outputs(before, after);
  }
}

TEST_CASE("optimize fuses activations only when asked", "[passes][fuse_activation]") {
  ir::Graph g = glint::test::load_graph(fuse_model("Conv", act_cases()[0]));
  ir::Graph off = g;
  REQUIRE(glint::passes::optimize(off).ok());
  CHECK(off.nodes.size() == 2);
  glint::passes::OptimizeOptions o;
  o.fuse_activations = true;
  REQUIRE(glint::passes::optimize(g, o).ok());
  REQUIRE(g.nodes.size() == 1);
  CHECK(glint::fused_activation_of(g.nodes[0]).kind == FusedActivation::kRelu);
}

TEST_CASE("a model cannot set glint's internal attributes", "[loader][fuse_activation][bad-input]") {
  for (const char* name : {"glint.activation", "glint.anything"}) {
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {4});
    auto& n = b.node("Relu", {"x"}, {"y"});
    ModelBuilder::attr_float(n, name, 1.f);
    b.output("y", onnx::TensorProto::FLOAT, {4});
    std::string bytes = b.bytes();
    auto g = glint::onnx_loader::load_model(bytes.data(), bytes.size());
    REQUIRE_FALSE(g.ok());
    CHECK_THAT(g.status().message(), Catch::Contains(name) && Catch::Contains("reserved"));
  }
}

TEST_CASE("apply_fused_activation computes what the CPU activation kernels compute", "[fuse_activation]") {
  const std::vector<float> x = {-1e30f, -20.f, -3.f, -1.f, -0.25f, -0.f, 0.f, 0.1f, 0.5f, 2.f, 7.f, 20.f, 1e30f};
  for (const ActCase& act : act_cases()) {
    SECTION(act.what) {
      // The activation alone on the CPU kernel vs apply_fused_activation.
      ModelBuilder b(act.opset);
      b.input("x", onnx::TensorProto::FLOAT, {static_cast<int64_t>(x.size())});
      auto& n = b.node(act.op, {"x"}, {"y"});
      if (act.setup) act.setup(b, n);
      b.output("y", onnx::TensorProto::FLOAT, {static_cast<int64_t>(x.size())});
      ir::Graph g = glint::test::load_graph(b);
      Tensor in = Tensor::from_floats({static_cast<int64_t>(x.size())}, x);
      Tensor want = glint::test::run_graph_on_cpu(g, {{"x", in}}).at("y");
      std::vector<float> got = x;
      glint::apply_fused_activation(act.want, got.data(), static_cast<int64_t>(got.size()));
      auto cmp = glint::compare_tensors(Tensor::from_floats(want.shape(), got), want, 0.0, 0.0);
      INFO(cmp.mismatch);
      CHECK(cmp.equal);
    }
  }
}

TEST_CASE("fused activations as GLSL expressions", "[fuse_activation]") {
  struct GlslCase {
    FusedActivation a;
    const char* scalar;
    const char* vec4;
  };
  const GlslCase cases[] = {
      {{FusedActivation::kNone, 0, 0}, "v", "v"},
      {{FusedActivation::kRelu, 0, 0}, "max((v), 0.0)", "max((v), 0.0)"},
      {{FusedActivation::kClip, 0.f, 6.f}, "min(max((v), 0.0), 6.0)", "min(max((v), 0.0), 6.0)"},
      {{FusedActivation::kClip, -kInf, 0.5f}, "min((v), 0.5)", "min((v), 0.5)"},
      {{FusedActivation::kClip, -1.f, kInf}, "max((v), (-1.0))", "max((v), (-1.0))"},
      {{FusedActivation::kLeakyRelu, 0.1f, 0}, "((v) < 0.0 ? (v) * 0.100000001 : (v))",
       "mix((v), (v) * 0.100000001, lessThan((v), vec4(0.0)))"},
      {{FusedActivation::kSigmoid, 0, 0}, "(1.0 / (1.0 + exp(-(v))))", "(1.0 / (1.0 + exp(-(v))))"},
      {{FusedActivation::kHardSigmoid, 0.2f, 0.5f}, "clamp(0.200000003 * (v) + 0.5, 0.0, 1.0)",
       "clamp(0.200000003 * (v) + 0.5, 0.0, 1.0)"},
      {{FusedActivation::kTanh, 0, 0}, "tanh(clamp((v), -15.0, 15.0))", "tanh(clamp((v), -15.0, 15.0))"},
      {{FusedActivation::kGelu, 0, 0}, "(0.5 * (v) * (1.0 + glint_erf((v) * 0.7071067811865476)))",
       "(0.5 * (v) * (1.0 + glint_erf((v) * 0.7071067811865476)))"},
  };
  for (const GlslCase& c : cases) {
    INFO(c.a.describe());
    CHECK(glint::gl::fused_activation_glsl(c.a, "v") == c.scalar);
    CHECK(glint::gl::fused_activation_glsl(c.a, "v", /*vec4=*/true) == c.vec4);
  }
  // describe() names the parameters (it feeds cache keys and `glint info`).
  CHECK(FusedActivation{FusedActivation::kClip, 0.f, 6.f}.describe() == "Clip(0, 6)");
  CHECK(FusedActivation{FusedActivation::kLeakyRelu, 0.1f, 0.f}.describe() == "LeakyRelu(0.1)");
}

TEST_CASE("which Gelu nodes are fusable activations", "[fuse_activation]") {
  ir::Node n;
  n.op_type = "Gelu";
  n.opset = 20;
  CHECK(glint::activation_from_op(n).kind == FusedActivation::kGelu);
  n.opset = 13;  // no ONNX Gelu before opset 20: the node stays, and is refused as an unknown op
  CHECK(glint::activation_from_op(n).kind == FusedActivation::kNone);
  n.domain = "com.microsoft";
  n.opset = 1;
  CHECK(glint::activation_from_op(n).kind == FusedActivation::kGelu);
  n.domain = "";
  n.opset = 20;
  n.attrs["approximate"] = glint::test::as("tanh");
  CHECK(glint::activation_from_op(n).kind == FusedActivation::kNone);
}

TEST_CASE("Gelu fuses into MatMul products alone, after their bias", "[passes][fuse_activation][gpu]") {
  using glint::test::random_floats;
  struct GeluCase {
    const char* what;
    const char* producer;  // MatMul or Conv
    const char* domain;    // of the Gelu
    int opset;
    const char* approximate;  // ONNX Gelu's attribute, or nullptr
    bool fuses;
  };
  const GeluCase cases[] = {
      {"com.microsoft Gelu after a MatMul and its bias", "MatMul", "com.microsoft", 13, nullptr, true},
      {"ONNX Gelu (opset 20)", "MatMul", "", 20, nullptr, true},
      {"ONNX Gelu's tanh approximation stays", "MatMul", "", 20, "tanh", false},
      {"Gelu after a Conv stays", "Conv", "com.microsoft", 13, nullptr, false},
  };
  for (const GeluCase& c : cases) {
    SECTION(c.what) {
      ModelBuilder b(c.opset);
      if (std::string(c.domain) == "com.microsoft") {
        auto* o = b.proto().add_opset_import();
        o->set_domain("com.microsoft");
        o->set_version(1);
      }
      std::vector<int64_t> out;
      if (std::string(c.producer) == "MatMul") {
        // [2, 3, 37] x [37, 21] + bias [21]: rows not a multiple of 4 wide.
        b.input("x", onnx::TensorProto::FLOAT, {2, 3, 37});
        b.initializer("w", {37, 21}, random_floats(37 * 21, 1, -0.5f, 0.5f));
        b.initializer("bias", {21}, random_floats(21, 2));
        b.node("MatMul", {"x", "w"}, {"p"});
        b.node("Add", {"p", "bias"}, {"pb"});
        out = {2, 3, 21};
      } else {
        b.input("x", onnx::TensorProto::FLOAT, {1, 3, 4, 4});
        b.initializer("w", {5, 3, 1, 1}, random_floats(15, 1));
        b.node("Conv", {"x", "w"}, {"pb"});
        out = {1, 5, 4, 4};
      }
      auto& g = b.node("Gelu", {"pb"}, {"y"});
      g.set_domain(c.domain);
      if (c.approximate) {
        auto* a = g.add_attribute();
        a->set_name("approximate");
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(c.approximate);
      }
      b.output("y", onnx::TensorProto::FLOAT, out);
      const ir::Graph before = glint::test::load_graph(b);
      const ir::Graph after = glint::test::optimized_with_fusions(before);
      const ir::Node* y = glint::test::node_writing(after, "y");
      REQUIRE(y != nullptr);
      if (c.fuses) {
        REQUIRE(after.nodes.size() == 1);
        CHECK(glint::fused_activation_of(*y).kind == FusedActivation::kGelu);
        CHECK(glint::fused_activation_of(*y).describe() == "Gelu");
        CHECK(glint::fused_addend_count(*y) == 1);
      } else {
        CHECK(y->op_type == "Gelu");
      }
      const glint::Shape x_shape = before.info("x")->concrete();
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats(x_shape, random_floats(glint::shape_size(x_shape), 3, -3.f, 3.f));
      glint::test::check_same_outputs(before, after, feeds);
      glint::test::check_gpu_session_matches_cpu(b.bytes(), feeds);
    }
  }
}
