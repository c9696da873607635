// passes::fuse_matmul_add and the MatMul kernels that read fused addends:
// which MatMul + Add pairs fuse, what the product carries afterwards, that
// the CPU result equals the unfused graph's bit for bit, and that every GPU
// product path (one output a fragment, packed rows, conv tiles, batched
// tiles) gives the CPU's result in a session with every node on the GPU.
#include <catch2/catch.hpp>

#include "engine/core/compare.h"
#include "engine/runtime/session.h"
#include "test/unit/graph_test_util.h"

using glint::FusedActivation;
using glint::Shape;
using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

namespace {

struct MatMulAddCase {
  const char* what;
  Shape a, b;             // the product's operands (B a constant unless b_input)
  Shape bias;             // the first Add's other operand, a constant ([] : no first Add)
  bool bias_first;        // Add(bias, y) instead of Add(y, bias)
  bool residual;          // a second Add of an input of the output's shape
  const char* after;      // an activation after the Adds, or nullptr
  bool b_input = false;   // B is a graph input
  bool transpose_b = false;  // B reaches the MatMul through a Transpose (FusedMatMul transB)
};

const std::vector<MatMulAddCase>& matmul_add_cases() {
  static const std::vector<MatMulAddCase> cases = {
      {"a decode step's linear layer: one row, bias and residual", {1, 1, 24}, {24, 16}, {16}, false, true, nullptr},
      {"an encoder's linear layer: 20 rows (conv tiles), bias and residual", {1, 20, 24}, {24, 16}, {16}, false, true,
       nullptr},
      {"bias first, no residual", {5, 12}, {12, 10}, {10}, true, false, nullptr},
      {"Relu after the Adds", {6, 8}, {8, 12}, {12}, false, true, "Relu"},
      {"B through a Transpose (FusedMatMul transB)", {6, 8}, {10, 8}, {10}, false, false, nullptr, true, true},
      {"batched products, an addend broadcast over the batch", {2, 16, 8}, {2, 8, 16}, {16}, false, true, nullptr,
       true},
      {"a 1-D B", {3, 5}, {5}, {3}, false, false, nullptr},
      {"an addend along the rows ([rows, 1])", {6, 8}, {8, 12}, {6, 1}, false, false, nullptr},
      {"a residual alone", {4, 9}, {9, 8}, {}, false, true, nullptr},
  };
  return cases;
}

Shape product_shape(const MatMulAddCase& c) {
  Shape b = c.b;
  if (c.transpose_b) std::swap(b[0], b[1]);
  Shape y(c.a.begin(), c.a.end() - 1);
  if (b.size() >= 2) y.push_back(b.back());
  return y;
}

// a -> MatMul(a, B) -> (Add bias) -> (Add residual r) -> (activation) -> y.
ModelBuilder matmul_add_model(const MatMulAddCase& c) {
  using glint::test::random_floats;
  ModelBuilder m(13);
  const Shape y = product_shape(c);
  m.input("a", onnx::TensorProto::FLOAT, c.a);
  if (c.b_input)
    m.input("b", onnx::TensorProto::FLOAT, c.b);
  else
    m.initializer("b", c.b, random_floats(glint::shape_size(c.b), 3, -1.f, 1.f));
  std::string b = "b";
  if (c.transpose_b) {
    auto& t = m.node("Transpose", {"b"}, {"bt"});
    ModelBuilder::attr_ints(t, "perm", std::vector<int64_t>{1, 0});
    b = "bt";
  }
  m.node("MatMul", {"a", b}, {"p"}, "matmul");
  std::string v = "p";
  auto next = [&](const std::string& name) { return c.after == nullptr && name == "last" ? std::string("y") : name; };
  if (!c.bias.empty()) {
    m.initializer("bias", c.bias, random_floats(glint::shape_size(c.bias), 4));
    const std::string out = next(c.residual ? "s" : "last");
    m.node("Add", c.bias_first ? std::vector<std::string>{"bias", v} : std::vector<std::string>{v, "bias"}, {out},
           "add_bias");
    v = out;
  }
  if (c.residual) {
    m.input("r", onnx::TensorProto::FLOAT, y);
    const std::string out = next("last");
    m.node("Add", {"r", v}, {out}, "add_residual");
    v = out;
  }
  if (c.after) m.node(c.after, {v}, {"y"}, "act");
  m.output("y", onnx::TensorProto::FLOAT, y);
  return m;
}

std::map<std::string, Tensor> feeds_for(const MatMulAddCase& c) {
  using glint::test::random_floats;
  std::map<std::string, Tensor> feeds = {{"a", Tensor::from_floats(c.a, random_floats(glint::shape_size(c.a), 9, -2.f, 2.f))}};
  if (c.b_input) feeds.emplace("b", Tensor::from_floats(c.b, random_floats(glint::shape_size(c.b), 10, -1.f, 1.f)));
  const Shape y = product_shape(c);
  if (c.residual) feeds.emplace("r", Tensor::from_floats(y, random_floats(glint::shape_size(y), 11, -2.f, 2.f)));
  return feeds;
}

int adds_in(const MatMulAddCase& c) { return (c.bias.empty() ? 0 : 1) + (c.residual ? 1 : 0); }

}  // namespace

TEST_CASE("fuse_matmul_add puts a linear layer's Adds on its MatMul", "[passes][fuse_matmul_add]") {
  for (const MatMulAddCase& c : matmul_add_cases()) {
    SECTION(c.what) {
      ir::Graph before = glint::test::load_graph(matmul_add_model(c));
      ir::Graph after = glint::test::optimized_with_fusions(before);
      // One product writes y: the Adds, and an activation after them, are gone.
      REQUIRE(after.nodes.size() == 1);
      const ir::Node& mm = after.nodes[0];
      CHECK(mm.op_type == (c.transpose_b ? "FusedMatMul" : "MatMul"));
      CHECK(mm.outputs == std::vector<std::string>{"y"});
      CHECK(glint::fused_addend_count(mm) == adds_in(c));
      std::vector<std::string> addends(mm.inputs.begin() + 2, mm.inputs.end());
      std::vector<std::string> want;
      if (!c.bias.empty()) want.push_back("bias");
      if (c.residual) want.push_back("r");
      CHECK(addends == want);
      CHECK(glint::fused_activation_of(mm).kind == (c.after ? FusedActivation::kRelu : FusedActivation::kNone));
      // The same float additions in the same order: bit for bit.
      const auto feeds = feeds_for(c);
      auto want_out = glint::test::run_graph_on_cpu(before, feeds);
      auto got_out = glint::test::run_graph_on_cpu(after, feeds);
      auto cmp = glint::compare_tensors(got_out.at("y"), want_out.at("y"), 0.0, 0.0);
      INFO(cmp.mismatch << " max |diff| " << cmp.max_abs_diff);
      CHECK(cmp.equal);
    }
  }
}

TEST_CASE("fuse_matmul_add fuses over a free batch dim", "[passes][fuse_matmul_add]") {
  // x [N, 5, 8] (N symbolic) -> MatMul [8, 6] -> + bias [6] -> + x2 [N, 5, 6]:
  // the bias broadcasts whatever N is, and the residual has N of the same
  // symbol. An addend [3, 5, 6] could grow the sum where N is 1: not fused.
  using glint::test::random_floats;
  for (const bool same_symbol : {true, false}) {
    ModelBuilder m(13);
    m.input("x", onnx::TensorProto::FLOAT, {-1, 5, 8});
    m.initializer("w", {8, 6}, random_floats(48, 3));
    m.initializer("bias", {6}, random_floats(6, 4));
    m.node("MatMul", {"x", "w"}, {"p"});
    m.node("Add", {"p", "bias"}, {"s"});
    if (same_symbol) {
      m.input("r", onnx::TensorProto::FLOAT, {-1, 5, 6});
    } else {
      m.input("r", onnx::TensorProto::FLOAT, {3, 5, 6});
    }
    m.node("Add", {"s", "r"}, {"y"});
    m.output("y", onnx::TensorProto::FLOAT, {-1, 5, 6});
    INFO((same_symbol ? "residual [N, 5, 6]" : "residual [3, 5, 6]"));
    ir::Graph before = glint::test::load_graph(m);
    ir::Graph after = glint::test::optimized_with_fusions(before);
    REQUIRE(after.nodes.size() == (same_symbol ? 1u : 2u));
    CHECK(glint::fused_addend_count(*glint::test::node_writing(after, same_symbol ? "y" : "s")) ==
          (same_symbol ? 2 : 1));
    const Shape xs = {3, 5, 8}, rs = {3, 5, 6};
    const std::map<std::string, Tensor> feeds = {{"x", Tensor::from_floats(xs, random_floats(120, 9, -2.f, 2.f))},
                                                 {"r", Tensor::from_floats(rs, random_floats(90, 11, -2.f, 2.f))}};
    glint::test::check_same_outputs(before, after, feeds);
    // Sessions, where the shapes become concrete at run time.
    const auto placements = glint::test::check_gpu_session_matches_cpu(m.bytes(), feeds);
    CHECK(placements.size() == (same_symbol ? 1u : 2u));
  }
}

TEST_CASE("fuse_matmul_add leaves Adds it must not fuse", "[passes][fuse_matmul_add]") {
  // After p = MatMul(a [3, 4], b [4, 5]) with c [5] beside: the nodes that
  // read p, the graph's outputs, and what the pass must leave.
  struct Unfused {
    const char* what;
    onnx::TensorProto::DataType dtype;
    std::vector<std::vector<std::string>> adds;  // {x, y, out}: out = x + y
    std::vector<std::string> outputs;            // of shape [3, 5] unless "g"-grown
    std::set<std::string> keep;
    size_t nodes;
    int addends;
  };
  const Unfused cases[] = {
      {"the product is also a graph output", onnx::TensorProto::FLOAT, {{"p", "c", "y"}}, {"y", "p"}, {}, 2, 0},
      {"the Add's other operand would grow the product's shape", onnx::TensorProto::FLOAT, {{"p", "g", "y"}}, {"y"}, {},
       2, 0},
      {"an integer product", onnx::TensorProto::INT32, {{"p", "c", "y"}}, {"y"}, {}, 2, 0},
      {"p + p", onnx::TensorProto::FLOAT, {{"p", "p", "y"}}, {"y"}, {}, 2, 0},
      {"a third Add after two fused ones stays a node", onnx::TensorProto::FLOAT,
       {{"p", "c", "s1"}, {"s1", "c", "s2"}, {"s2", "c", "y"}}, {"y"}, {}, 2, 2},
      {"an Add the caller keeps (forced onto the CPU)", onnx::TensorProto::FLOAT, {{"p", "c", "y"}}, {"y"}, {"y"}, 2, 0},
  };
  for (const Unfused& c : cases) {
    SECTION(c.what) {
      ModelBuilder m(13);
      m.input("a", c.dtype, {3, 4});
      m.input("b", c.dtype, {4, 5});
      m.input("c", c.dtype, {5});
      m.input("g", c.dtype, {2, 3, 5});
      m.node("MatMul", {"a", "b"}, {"p"}, "matmul");
      for (const auto& add : c.adds) m.node("Add", {add[0], add[1]}, {add[2]}, add[2]);
      const bool grown = c.adds.back()[1] == "g";
      for (const std::string& out : c.outputs) m.output(out, c.dtype, grown ? std::vector<int64_t>{2, 3, 5} : std::vector<int64_t>{3, 5});
      ir::Graph g = glint::test::load_graph(m);
      REQUIRE(glint::passes::fuse_matmul_add(g, c.keep).ok());
      int addends = 0;
      for (auto& n : g.nodes) addends += glint::fused_addend_count(n);
      CHECK(g.nodes.size() == c.nodes);
      CHECK(addends == c.addends);
    }
  }
}

TEST_CASE("a model's MatMul with a third input is refused", "[fuse_matmul_add][bad-input]") {
  ModelBuilder m(13);
  m.input("a", onnx::TensorProto::FLOAT, {3, 4});
  m.input("b", onnx::TensorProto::FLOAT, {4, 5});
  m.input("c", onnx::TensorProto::FLOAT, {5});
  m.node("MatMul", {"a", "b", "c"}, {"y"}, "matmul3");
  m.output("y", onnx::TensorProto::FLOAT, {3, 5});
  std::string bytes = m.bytes();
  auto s = glint::Session::create(bytes.data(), bytes.size(), {});
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Contains("matmul3") && Catch::Contains("at most 2 inputs"));
}

TEST_CASE("the GPU MatMul kernels add fused addends as the CPU does", "[session][gpu][fuse_matmul_add]") {
  for (const MatMulAddCase& c : matmul_add_cases()) {
    SECTION(c.what) {
      const auto placements = glint::test::check_gpu_session_matches_cpu(matmul_add_model(c).bytes(), feeds_for(c));
      REQUIRE(placements.size() == 1);  // the product alone, the Adds fused
      CHECK(placements[0].gpu);
    }
  }
}

TEST_CASE("a CPU session with fused addends and packed weights matches the unfused graph",
          "[session][fuse_matmul_add]") {
  for (const MatMulAddCase& c : matmul_add_cases()) {
    SECTION(c.what) {
      const std::string bytes = matmul_add_model(c).bytes();
      glint::SessionOptions opts;
      opts.backend = glint::BackendMode::kCpu;
      auto session = glint::Session::create(bytes.data(), bytes.size(), opts);
      INFO(session.status().message());
      REQUIRE(session.ok());
      const auto feeds = feeds_for(c);
      auto got = session.value()->run(feeds);
      INFO(got.status().message());
      REQUIRE(got.ok());
      auto want = glint::test::run_graph_on_cpu(glint::test::load_graph(matmul_add_model(c)), feeds);
      auto cmp = glint::compare_tensors(got->at("y"), want.at("y"), 1e-6, 1e-5);
      INFO(cmp.mismatch << " max |diff| " << cmp.max_abs_diff);
      CHECK(cmp.equal);
    }
  }
}
