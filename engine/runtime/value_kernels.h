// Kernels over whole values rather than tensors: sequence and optional ops,
// and control flow (If, Loop, Scan, SequenceMap), which run subgraphs. They
// always run on the CPU; their rows form a sibling table of the kernel
// registry (registry_values.inc).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/value.h"
#include "engine/ir/graph.h"

namespace glint {

// Looks a value up by name in the enclosing scopes; nullptr when unknown.
using ScopeLookup = std::function<const Value*(const std::string&)>;

// Runs a subgraph on the CPU kernels with its inputs bound in order, reading
// outer values through the scope of the node that owns the subgraph.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  virtual Result<std::vector<Value>> run(const ir::Graph& g, const std::vector<Value>& inputs) const = 0;
};

using ValueKernelFn = Status (*)(const ir::Node& node, const std::vector<const Value*>& inputs,
                                 std::vector<Value>& outputs, const SubgraphRunner& subgraphs);

struct ValueRow {
  const char* op;
  const char* domain;
  int since;
  int until;
  const char* name;
  ValueKernelFn run;
};

const std::vector<ValueRow>& value_kernel_table();
const ValueRow* find_value_kernel(const ir::Node& node);

// A SubgraphRunner whose subgraphs see `scope` as their enclosing scope.
std::unique_ptr<SubgraphRunner> make_subgraph_runner(ScopeLookup scope);

// Runs `g` on the CPU: inputs bound in order to g.inputs, outer names
// resolved through `outer`. Returns g.outputs' values in order.
Result<std::vector<Value>> run_graph_on_cpu(const ir::Graph& g, const std::vector<Value>& inputs,
                                            const ScopeLookup& outer);

namespace values {
// Shared tensor plumbing of the value kernels.
// The [begin, end) slice of `axis` (other axes whole).
Tensor slice_axis(const Tensor& t, int64_t axis, int64_t begin, int64_t end);
// Concatenates along `axis`; with `new_axis`, stacks along a new axis there.
Result<Tensor> concat_tensors(const std::vector<Tensor>& items, int64_t axis, bool new_axis);

// Sequence and optional ops (sequence_ops.cc).
Status sequence_construct(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_empty(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_at(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_insert(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_erase(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_length(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status split_to_sequence(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status concat_from_sequence(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status optional(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status optional_has_element(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status optional_get_element(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status identity(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
// Control flow (control_flow.cc).
Status if_(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status loop(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status scan(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
Status sequence_map(const ir::Node&, const std::vector<const Value*>&, std::vector<Value>&, const SubgraphRunner&);
}  // namespace values

}  // namespace glint
