// For the graph-pass tests: a model built in memory loaded as an ir::Graph,
// and a plain interpreter that runs a graph on the CPU kernels, so a graph
// and its rewritten form can be compared without a Session (whose optimize
// would rewrite both the same way).
#pragma once
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/core/compare.h"
#include "engine/core/fused_activation.h"
#include "engine/ir/graph.h"
#include "engine/onnx/loader.h"
#include "engine/passes/passes.h"
#include "engine/runtime/registry.h"
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

// Runs every node on its CPU kernel in topological order. A node's fused
// activation is applied to its output 0 after the kernel unless the kernel
// applies it itself, as the runtime does.
inline std::map<std::string, Tensor> run_graph_on_cpu(const ir::Graph& g, const std::map<std::string, Tensor>& feeds) {
  std::map<std::string, Tensor> env = feeds;
  for (auto& [name, t] : g.initializers) env[name] = t;
  auto order = ir::topological_order(g);
  REQUIRE(order.ok());
  for (size_t idx : order.value()) {
    const ir::Node& n = g.nodes[idx];
    INFO(n.describe());
    const CpuCandidate* k = find_cpu_kernel(n);
    REQUIRE(k != nullptr);
    std::vector<const Tensor*> ins;
    for (auto& in : n.inputs) ins.push_back(in.empty() ? nullptr : &env.at(in));
    std::vector<Tensor> outs(n.outputs.size());
    Status s = k->run(n, ins, outs);
    INFO(s.message());
    REQUIRE(s.ok());
    const FusedActivation a = fused_activation_of(n);
    if (!k->applies(a, outs[0].dtype())) apply_fused_activation(a, outs[0]);
    for (size_t i = 0; i < outs.size(); ++i)
      if (n.has_output(i)) env[n.outputs[i]] = std::move(outs[i]);
  }
  std::map<std::string, Tensor> result;
  for (auto& o : g.outputs) result[o] = env.at(o);
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

}  // namespace glint::test
