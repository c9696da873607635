// passes::fuse_matmul_transpose: a MatMul reading a last-two-dims Transpose
// becomes FusedMatMul with transA / transB on that side and computes the
// same (CPU kernels, within 1e-5); other transposes, and transposes read
// elsewhere, stay.
#include <catch2/catch.hpp>

#include "engine/cpu/gemm.h"

#include "test/unit/graph_test_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace ir = glint::ir;

TEST_CASE("fuse_matmul_transpose reads a swapped operand in place", "[passes][fuse_matmul_transpose]") {
  using glint::test::random_floats;
  struct Case {
    const char* what;
    bool transpose_a, transpose_b;
    std::vector<int64_t> perm;  // of the transposes
    bool also_output;           // a transposed value is also a graph output
    bool fuses;
  };
  const std::vector<Case> cases = {
      {"Q K^T: B transposed", false, true, {0, 2, 1}, false, true},
      {"A transposed", true, false, {0, 2, 1}, false, true},
      {"both transposed", true, true, {0, 2, 1}, false, true},
      {"a batch transpose stays", false, true, {1, 0, 2}, false, false},
      {"a transposed value also read as an output stays", false, true, {0, 2, 1}, true, false},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      // A [2, 3, 4] x B [2, 4, 5] (before the transposes: their swapped shapes).
      auto swapped = [&](std::vector<int64_t> s, bool t) {
        if (!t) return s;
        std::vector<int64_t> r(3);
        for (int i = 0; i < 3; ++i) r[i] = s[c.perm[i]];
        return r;
      };
      // The stored shapes, chosen so the transposed ones are [2,3,4] / [2,4,5].
      const std::vector<int64_t> a_in = c.transpose_a ? std::vector<int64_t>{2, 4, 3} : std::vector<int64_t>{2, 3, 4};
      std::vector<int64_t> b_in = c.transpose_b ? std::vector<int64_t>{2, 5, 4} : std::vector<int64_t>{2, 4, 5};
      if (c.transpose_b && c.perm[0] == 1) b_in = {4, 2, 5};  // [1,0,2] of [4,2,5] is [2,4,5]
      ModelBuilder b(13);
      b.input("a", onnx::TensorProto::FLOAT, a_in);
      b.input("b", onnx::TensorProto::FLOAT, b_in);
      std::string a = "a", bb = "b";
      if (c.transpose_a) {
        ModelBuilder::attr_ints(b.node("Transpose", {"a"}, {"at"}), "perm", c.perm);
        a = "at";
      }
      if (c.transpose_b) {
        ModelBuilder::attr_ints(b.node("Transpose", {"b"}, {"bt"}), "perm", c.perm);
        bb = "bt";
      }
      b.node("MatMul", {a, bb}, {"y"});
      b.output("y", onnx::TensorProto::FLOAT, {2, 3, 5});
      if (c.also_output) b.output("bt", onnx::TensorProto::FLOAT, swapped(b_in, true));
      ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::fuse_matmul_transpose(after).ok());
      if (c.fuses) {
        REQUIRE(after.nodes.size() == 1);
        const ir::Node& n = after.nodes[0];
        CHECK(n.op_type == "FusedMatMul");
        CHECK(n.domain == "com.microsoft");
        CHECK(n.inputs == std::vector<std::string>{"a", "b"});
        CHECK(n.attr_int("transA", 0) == (c.transpose_a ? 1 : 0));
        CHECK(n.attr_int("transB", 0) == (c.transpose_b ? 1 : 0));
      } else {
        CHECK(after.nodes.size() == before.nodes.size());
        for (auto& n : after.nodes) CHECK(n.op_type != "FusedMatMul");
      }
      std::map<std::string, Tensor> feeds;
      int64_t na = 1, nb = 1;
      for (int64_t d : a_in) na *= d;
      for (int64_t d : b_in) nb *= d;
      feeds["a"] = Tensor::from_floats(a_in, random_floats(na, 5));
      feeds["b"] = Tensor::from_floats(b_in, random_floats(nb, 6));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}

TEST_CASE("transpose_matmul_weights stores constant MatMul weights transposed", "[passes][fuse_matmul_transpose]") {
  using glint::test::random_floats;
  for (bool shared_with_add : {false, true}) {
    SECTION(shared_with_add ? "a weight another op reads stays" : "a weight two MatMuls read is transposed once") {
      ModelBuilder b(13);
      b.input("x", onnx::TensorProto::FLOAT, {3, 6});
      b.initializer("w", {6, 6}, random_floats(36, 1));
      b.node("MatMul", {"x", "w"}, {"h"});
      b.node("MatMul", {"h", "w"}, {"y"});
      b.output("y", onnx::TensorProto::FLOAT, {3, 6});
      if (shared_with_add) {
        b.node("Neg", {"w"}, {"z"});
        b.output("z", onnx::TensorProto::FLOAT, {6, 6});
      }
      ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::transpose_matmul_weights(after).ok());
      int fused = 0;
      for (auto& n : after.nodes)
        if (n.op_type == "FusedMatMul") {
          ++fused;
          CHECK(n.attr_int("transB", 0) == 1);
          CHECK(n.inputs[1] != "w");
        }
      CHECK(fused == (shared_with_add ? 0 : 2));
      CHECK(after.initializers.count("w") == (shared_with_add ? 1u : 0u));
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats({3, 6}, random_floats(18, 2));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}

TEST_CASE("transpose_matmul_weights packs the weights of products with rows enough", "[passes][fuse_matmul_transpose]") {
  using glint::test::random_floats;
  struct PackCase {
    const char* what;
    std::vector<int64_t> x;  // A's shape; w is [x.back(), n]
    int64_t n;
    bool packed;
    std::vector<int64_t> x2 = {};  // a second MatMul reading w with this A
  };
  const std::vector<PackCase> cases = {
      {"5 rows, 16 columns", {5, 6}, 16, true},
      {"a batch of 2 x 4 rows, 24 columns", {2, 4, 6}, 24, true},
      {"3 rows: the GEMV reads rows", {3, 6}, 16, false},
      {"12 columns: not whole panels", {5, 6}, 12, false},
      {"a second product of 1 row", {5, 6}, 16, false, {1, 6}},
      {"two products of 7 and 4 rows", {7, 6}, 8, true, {4, 6}},
  };
  for (const PackCase& pc : cases) {
    SECTION(pc.what) {
      const int64_t k = pc.x.back();
      ModelBuilder b(13);
      b.input("x", onnx::TensorProto::FLOAT, pc.x);
      b.initializer("w", {k, pc.n}, random_floats(k * pc.n, 1));
      b.node("MatMul", {"x", "w"}, {"y"});
      std::vector<int64_t> y = pc.x;
      y.back() = pc.n;
      b.output("y", onnx::TensorProto::FLOAT, y);
      if (!pc.x2.empty()) {
        b.input("x2", onnx::TensorProto::FLOAT, pc.x2);
        b.node("MatMul", {"x2", "w"}, {"y2"});
        std::vector<int64_t> y2 = pc.x2;
        y2.back() = pc.n;
        b.output("y2", onnx::TensorProto::FLOAT, y2);
      }
      ir::Graph before = glint::test::load_graph(b);
      ir::Graph after = before;
      REQUIRE(glint::passes::transpose_matmul_weights(after).ok());
      for (auto& n : after.nodes) {
        REQUIRE(n.op_type == "FusedMatMul");
        CHECK(n.attr_int("transB", 0) == 1);
        CHECK(n.attr_int(glint::cpu::kPackedWeightsAttr, 0) == (pc.packed ? 1 : 0));
      }
      std::map<std::string, Tensor> feeds;
      feeds["x"] = Tensor::from_floats(pc.x, random_floats(glint::shape_size(pc.x), 2));
      if (!pc.x2.empty()) feeds["x2"] = Tensor::from_floats(pc.x2, random_floats(glint::shape_size(pc.x2), 3));
      glint::test::check_same_outputs(before, after, feeds);
    }
  }
}
