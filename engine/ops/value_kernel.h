// The contract of kernels over whole values rather than tensors: sequence and
// optional ops, and control flow (If, Loop, Scan, SequenceMap), which run
// subgraphs. They run on the CPU (engine/cpu/sequence_ops.cc,
// control_flow.cc); a subgraph they run goes through the SubgraphRunner the
// runtime hands them (engine/runtime/runner.h: the same runner as the main
// graph's, so bodies are planned and placed like it).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/value.h"
#include "engine/ir/graph.h"

namespace glint {

// Looks a value up by name in the enclosing scopes; nullptr when unknown.
using ScopeLookup = std::function<const Value*(const std::string&)>;

// Runs a subgraph with its inputs bound in order, reading outer values
// through the scope of the node that owns the subgraph. Returns the
// subgraph's outputs in order.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  virtual Result<std::vector<Value>> run(const ir::Graph& g, const std::vector<Value>& inputs) const = 0;
};

using ValueKernelFn = Status (*)(const ir::Node& node, const std::vector<const Value*>& inputs,
                                 std::vector<Value>& outputs, const SubgraphRunner& subgraphs);

}  // namespace glint
