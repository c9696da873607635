// For the graph-pass tests: a model built in memory loaded as an ir::Graph,
// run on the CPU kernels without a Session (whose optimize would rewrite a
// graph and its rewritten form the same way).
#pragma once
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/core/compare.h"
#include "engine/ops/fused_activation.h"
#include "engine/ir/graph.h"
#include "engine/onnx/loader.h"
#include "engine/passes/passes.h"
#include "engine/runtime/runner.h"
#include "engine/runtime/session.h"
#include "test/unit/model_builder.h"
#include "test/unit/random_util.h"

namespace glint::test {

// Loaded, Constant nodes made initializers, shapes inferred: what a pass
// sees inside optimize().
inline ir::Graph load_graph(const ModelBuilder& b) {
  std::string bytes = b.bytes();
  auto g = onnx_loader::load_model(bytes.data(), bytes.size());
  INFO(g.status().message());
  REQUIRE(g.ok());
  REQUIRE(passes::constant_nodes_to_initializers(g.value()).ok());
  Status s = passes::infer_shapes(g.value());
  INFO(s.message());
  REQUIRE(s.ok());
  return std::move(g).value();
}

// Runs `g` on the CPU kernels through the runtime's one interpreter
// (engine/runtime/runner.h), fused activations applied as in a session.
inline std::map<std::string, Tensor> run_graph_on_cpu(const ir::Graph& g, const std::map<std::string, Tensor>& feeds) {
  std::map<std::string, Value> values;
  for (auto& [name, t] : feeds) values[name] = Value::of(t);
  auto out = run_graph(g, values, plan::Policy{BackendMode::kCpu, {}});
  INFO(out.status().message());
  REQUIRE(out.ok());
  std::map<std::string, Tensor> result;
  for (auto& [name, v] : out.value()) {
    REQUIRE(v.is_tensor());
    result[name] = v.tensor;
  }
  return result;
}

inline int count_ops(const ir::Graph& g, const std::string& op) {
  int k = 0;
  for (auto& n : g.nodes) k += n.op_type == op;
  return k;
}

inline const ir::Node* node_writing(const ir::Graph& g, const std::string& value) {
  for (auto& n : g.nodes)
    for (auto& o : n.outputs)
      if (o == value) return &n;
  return nullptr;
}

// `before` through passes::optimize with the runtime's fusions on.
inline ir::Graph optimized_with_fusions(const ir::Graph& before) {
  ir::Graph after = before;
  passes::OptimizeOptions o;
  o.fuse_activations = true;
  auto s = passes::optimize(after, o);
  INFO(s.message());
  REQUIRE(s.ok());
  return after;
}

// Runs `before` and `after` on the CPU kernels with the same feeds and
// checks every output of `before` agrees within 1e-5.
inline void check_same_outputs(const ir::Graph& before, const ir::Graph& after,
                               const std::map<std::string, Tensor>& feeds) {
  auto want = run_graph_on_cpu(before, feeds);
  auto got = run_graph_on_cpu(after, feeds);
  for (auto& [name, t] : want) {
    INFO("output " << name);
    REQUIRE(got.count(name));
    auto cmp = compare_tensors(got.at(name), t, 0.0, 1e-5);
    INFO(cmp.mismatch << " max |diff| " << cmp.max_abs_diff);
    CHECK(cmp.equal);
  }
}

// Runs model `bytes` in a CPU session and in a GPU-only session with the
// same feeds, checks every output agrees within 1e-5, and returns the GPU
// session's placements (for what ran where).
inline std::vector<NodePlacement> check_gpu_session_matches_cpu(const std::string& bytes,
                                                                const std::map<std::string, Tensor>& feeds) {
  SessionOptions cpu_opts;
  cpu_opts.backend = BackendMode::kCpu;
  auto cpu = Session::create(bytes.data(), bytes.size(), cpu_opts);
  INFO(cpu.status().message());
  REQUIRE(cpu.ok());
  auto want = cpu.value()->run(feeds);
  REQUIRE(want.ok());
  SessionOptions gpu_opts;
  gpu_opts.backend = BackendMode::kGpu;
  auto gpu = Session::create(bytes.data(), bytes.size(), gpu_opts);
  INFO(gpu.status().message());
  REQUIRE(gpu.ok());
  auto got = gpu.value()->run(feeds);
  INFO(got.status().message());
  REQUIRE(got.ok());
  for (const auto& [name, t] : want.value()) {
    INFO("output " << name);
    REQUIRE(got->count(name));
    auto c = compare_tensors(got->at(name), t, 1e-5, 1e-5);
    INFO(c.mismatch << " max |diff| " << c.max_abs_diff);
    CHECK(c.equal);
  }
  return gpu.value()->placements();
}

}  // namespace glint::test
