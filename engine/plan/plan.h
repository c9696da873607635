// The plan: everything decided about a graph before it runs, as plain data
// over integer value ids. build_plan(graph, policy, device) returns the
// execution order, each node's placement (GPU, CPU or value kernel) with the
// reason, the GPU candidates that declined and why, the GPU passes built
// where shapes are known at creation, release points (the values whose last
// reader a step is), the edges where a value crosses between GPU and CPU,
// and the texture memory budget. GL-free: placement is testable without a
// context (the device is described by its layout limits).
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/status.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/ir/graph.h"
#include "engine/registry/op_table.h"

namespace glint {

enum class BackendMode {
  kDefault,  // GPU kernels where they exist, CPU kernels for the rest
  kGpu,      // GPU only: creation fails if any node needs the CPU
  kCpu,      // CPU kernels only; no GL context is made
};
std::string backend_mode_name(BackendMode m);
Result<BackendMode> parse_backend_mode(const std::string& s);  // "default"|"gpu"|"cpu"

namespace plan {

struct Policy {
  BackendMode backend = BackendMode::kDefault;
  // Node names (or their first output's name) that must run on their CPU kernel.
  std::set<std::string> force_cpu;
};

// What the plan may assume of the GPU: nullopt layout limits = no GPU.
struct Device {
  std::optional<gl::LayoutPolicy> layout;
  bool gpu() const { return layout.has_value(); }
};

enum class Placement { kGpu, kCpu, kValue };
const char* placement_name(Placement p);  // "GPU", "CPU", "value"

struct Declined {
  std::string candidate;
  std::string reason;
};

constexpr int kNoValue = -1;

struct Step {
  size_t node = 0;  // index into graph.nodes
  Placement placement = Placement::kCpu;
  const OpRow* row = nullptr;  // null only for value ops with no row (never: build_plan fails)
  std::vector<const GpuCandidate*> gpu;  // the candidates for this node's opset, in order
  std::string kernel;  // the winning candidate's name
  std::string reason;  // why it is not on the GPU (empty on the GPU)
  std::vector<Declined> declined;  // GPU candidates asked before the winner (or all, on the CPU)
  // Passes of the winning GPU candidate when every shape was known at
  // creation (else empty: built at the first run), and the signature of
  // the context they were built for (kernel_context.h).
  std::vector<gl::ProgramInfo> passes;
  std::string passes_signature;
  std::vector<bool> passes_looked_at;  // the inputs whose values the kernel looked at (KernelContext::constant)
  std::vector<std::optional<gl::TensorDesc>> passes_inputs;  // the input descs they were built for
  std::vector<int> inputs;           // value ids, kNoValue for absent inputs
  std::vector<int> implicit_inputs;  // outer values a subgraph of this node reads
  std::vector<int> outputs;          // value ids, kNoValue for absent outputs
  std::vector<int> release;          // values no later step reads (freed after this one)
};

// A value crossing between devices: `value`, produced on one side, read by
// step `step` on the other (a download before a CPU step, an upload before a
// GPU one). Feeds and constants read by GPU steps are uploads too.
struct Transfer {
  int value = kNoValue;
  size_t step = 0;
  bool to_gpu = false;
};

struct Plan {
  std::vector<std::string> names;  // value id -> name
  std::unordered_map<std::string, int> ids;
  std::vector<bool> constant;  // by id: an initializer of this graph
  std::vector<bool> produced;  // by id: some node writes it
  std::vector<int> inputs;     // graph inputs, in order
  std::vector<int> outputs;    // graph outputs, in order
  // Ids read but defined by no input, initializer or node of this graph:
  // outer values a subgraph reads from its enclosing scopes.
  std::vector<int> outer;
  std::vector<Step> steps;  // in execution order
  std::vector<Transfer> transfers;
  // Initializers whose values are exact float16 values and that the GPU
  // holds as packed halves (layout policy half_weights).
  std::set<std::string> half_exact;
  // Texture bytes this graph's runs should need at most: 1.5 x (weights as
  // stored + the two largest activations live at any step); 0 without a GPU,
  // and 0 (no bound) when some value's size is known only at run time.
  int64_t memory_budget = 0;

  int id(const std::string& name) const {
    auto it = ids.find(name);
    return it == ids.end() ? kNoValue : it->second;
  }
  size_t gpu_steps() const;
};

// Fails when a node has no kernel at all, or cannot run where the policy
// demands (gpu-only and no GPU candidate accepts it; cpu and no CPU kernel),
// with a message naming the node, op, opset and input dtypes.
Result<Plan> build_plan(const ir::Graph& graph, const Policy& policy, const Device& device);

// The memory budget of `plan` over `graph` (build_plan fills it).
int64_t memory_budget(const ir::Graph& graph, const Plan& plan, const gl::LayoutPolicy& layout);

}  // namespace plan
}  // namespace glint
