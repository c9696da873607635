// The plan without a GL context: placement (with reasons and declined
// candidates), release points and transfers are plain data, so they are
// checked here against a described device instead of a real one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "engine/plan/plan.h"
#include "test/unit/graph_test_util.h"

namespace {

using glint::BackendMode;
namespace plan = glint::plan;
namespace ir = glint::ir;

// A desktop-class device (as llvmpipe and SwiftShader report).
plan::Device desktop() {
  plan::Device d;
  d.layout = glint::gl::LayoutPolicy{16384, 8};
  return d;
}

// x -> Conv(w) -> Relu -> Neg -> Exp -> e, every shape known.
glint::test::ModelBuilder small_model() {
  glint::test::ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
  b.initializer("w", {4, 4, 3, 3}, glint::test::random_floats(4 * 4 * 9, 1));
  auto& conv = b.node("Conv", {"x", "w"}, {"c"}, "conv");
  glint::test::ModelBuilder::attr_ints(conv, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("Neg", {"r"}, {"n"}, "neg");
  b.node("Exp", {"n"}, {"e"}, "exp");
  b.output("e", onnx::TensorProto::FLOAT, {1, 4, 5, 5});
  return b;
}

const plan::Step& step_of(const ir::Graph& g, const plan::Plan& p, const std::string& node) {
  for (auto& s : p.steps)
    if (g.nodes[s.node].name == node) return s;
  FAIL("no step for node " << node);
  return p.steps.front();
}

}  // namespace

TEST_CASE("plan: default placement puts every node with a GPU kernel on the GPU, with passes built") {
  ir::Graph g = glint::test::load_graph(small_model());
  auto p = plan::build_plan(g, {BackendMode::kDefault, {}}, desktop());
  INFO(p.status().message());
  REQUIRE(p.ok());
  REQUIRE(p->steps.size() == 4);
  for (auto& s : p->steps) {
    INFO(g.nodes[s.node].describe());
    CHECK(s.placement == plan::Placement::kGpu);
    CHECK(s.reason.empty());
    CHECK(!s.passes.empty());  // every shape is known: built at creation
  }
  CHECK(p->gpu_steps() == 4);
  CHECK(p->memory_budget > 0);
  // Uploads: the feed and the weights; no download between GPU steps.
  for (auto& t : p->transfers) CHECK(t.to_gpu);
}

TEST_CASE("plan: the cpu backend, a forced node and a device without GPU place on the CPU with a reason") {
  ir::Graph g = glint::test::load_graph(small_model());
  auto cpu = plan::build_plan(g, {BackendMode::kCpu, {}}, desktop());
  REQUIRE(cpu.ok());
  for (auto& s : cpu->steps) {
    CHECK(s.placement == plan::Placement::kCpu);
    CHECK(s.reason == "cpu backend");
  }
  CHECK(cpu->memory_budget > 0);

  auto forced = plan::build_plan(g, {BackendMode::kDefault, {"neg"}}, desktop());
  REQUIRE(forced.ok());
  CHECK(step_of(g, *forced, "neg").placement == plan::Placement::kCpu);
  CHECK(step_of(g, *forced, "neg").reason == "forced onto the CPU");
  CHECK(step_of(g, *forced, "exp").placement == plan::Placement::kGpu);
  // The forced node reads a GPU value (a download) and feeds a GPU node (an upload).
  int downloads = 0, uploads_of_n = 0;
  for (auto& t : forced->transfers) {
    if (!t.to_gpu) ++downloads;
    if (t.to_gpu && forced->names[t.value] == "n") ++uploads_of_n;
  }
  CHECK(downloads == 1);
  CHECK(uploads_of_n == 1);

  auto no_gpu = plan::build_plan(g, {BackendMode::kDefault, {}}, plan::Device{});
  REQUIRE(no_gpu.ok());
  CHECK(no_gpu->gpu_steps() == 0);
  CHECK(no_gpu->memory_budget == 0);
}

TEST_CASE("plan: a node every GPU candidate declines runs on the CPU, and glint info can say why") {
  glint::test::ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 4, 4, 4});
  b.initializer("w", {2, 2, 3, 3, 3}, glint::test::random_floats(2 * 2 * 27, 1));
  b.node("Conv", {"x", "w"}, {"y"}, "conv3d");
  b.output("y", onnx::TensorProto::FLOAT, {1, 2, 2, 2, 2});
  ir::Graph g = glint::test::load_graph(b);
  auto p = plan::build_plan(g, {BackendMode::kDefault, {}}, desktop());
  REQUIRE(p.ok());
  const plan::Step& s = step_of(g, *p, "conv3d");
  CHECK(s.placement == plan::Placement::kCpu);
  REQUIRE(!s.declined.empty());
  CHECK(s.declined.front().reason.find("3-D convolution") != std::string::npos);
  CHECK(s.reason.find("3-D convolution") != std::string::npos);

  auto gpu_only = plan::build_plan(g, {BackendMode::kGpu, {}}, desktop());
  REQUIRE(!gpu_only.ok());
  CHECK(gpu_only.status().message().find("conv3d") != std::string::npos);
  CHECK(gpu_only.status().message().find("gpu-only") != std::string::npos);
}

TEST_CASE("plan: each value is released once, after its last reader, and constants never") {
  ir::Graph g = glint::test::load_graph(small_model());
  auto p = plan::build_plan(g, {BackendMode::kDefault, {}}, desktop());
  REQUIRE(p.ok());
  std::multiset<std::string> released;
  for (size_t pos = 0; pos < p->steps.size(); ++pos)
    for (int id : p->steps[pos].release) {
      released.insert(p->names[id]);
      CHECK(!p->constant[id]);
      // No later step reads it.
      for (size_t later = pos + 1; later < p->steps.size(); ++later) {
        auto& ins = p->steps[later].inputs;
        CHECK(std::find(ins.begin(), ins.end(), id) == ins.end());
      }
    }
  // x, c, r and n are read; e (the output) is not; w is a constant.
  CHECK(released == std::multiset<std::string>{"x", "c", "r", "n"});
}

TEST_CASE("plan: an op no table row has names the node, op and domain") {
  glint::test::ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2});
  b.node("NoSuchOp", {"x"}, {"y"}, "mystery");
  b.output("y", onnx::TensorProto::FLOAT, {2});
  std::string bytes = b.bytes();
  auto g = glint::onnx_loader::load_model(bytes.data(), bytes.size());
  if (!g.ok()) {  // the loader may already refuse it
    CHECK(g.status().message().find("NoSuchOp") != std::string::npos);
    return;
  }
  auto p = plan::build_plan(g.value(), {BackendMode::kDefault, {}}, desktop());
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("NoSuchOp") != std::string::npos);
  CHECK(p.status().message().find("not implemented") != std::string::npos);
}
