// The one interpreter: walks a plan (engine/plan) over a graph, running each
// step on its GPU passes, its CPU kernel or its value kernel, moving values
// between the devices where the plan says they cross, and freeing each value
// after its last reader. The Session drives it for the main graph; control-flow
// nodes drive it for their bodies (each body planned once, on first use);
// tests drive it directly. So every graph runs through the same code.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/value.h"
#include "engine/gl/executor.h"
#include "engine/ir/graph.h"
#include "engine/ops/value_kernel.h"
#include "engine/plan/plan.h"

namespace glint {

// A value during a run: a CPU tensor and/or a GPU texture, or a sequence or
// an empty optional (never on the GPU).
struct Slot {
  std::optional<Tensor> cpu;
  gl::GpuTensorPtr gpu;
  std::optional<Value> other;
  bool empty() const { return !cpu && !gpu && !other; }
  gl::TensorDesc desc() const;
};

// What a run's steps did, by estimated arithmetic (plan/work.h): when a
// runner has a tally, every tensor step it runs, its bodies' steps included,
// adds its FLOPs to the side it ran on. Control-flow steps add nothing
// themselves: their bodies' steps count.
struct WorkTally {
  double gpu_flops = 0, cpu_flops = 0;
  int64_t gpu_steps = 0, cpu_steps = 0;
  struct CpuNode {
    std::string op, reason;
    double flops = 0;
  };
  std::map<std::string, CpuNode> cpu_nodes;  // by node label; a body's as "body/node"
};

// Runs after which a session's GPU memory no longer changes while its input
// shapes do not: the first draws the passes over constants, weights only
// those read are let go after two more (release_cached_constants), and the
// texture pool settles in the runs after that (texture_pool.cc).
inline constexpr int kGpuMemorySettleRuns = 5;

class GraphRunner {
 public:
  // `graph` outlives the runner. `gpu` is null when the plan places nothing
  // on the GPU; `policy` is the one the plan was built with.
  GraphRunner(const ir::Graph& graph, plan::Plan plan, gl::Executor* gpu, plan::Policy policy);
  ~GraphRunner();

  const plan::Plan& plan() const { return plan_; }
  const ir::Graph& graph() const { return graph_; }

  // Plans the subgraph bodies of control-flow steps (recursively), compiles
  // the passes the plans built and uploads the weights GPU steps read, so
  // the first run costs what every run costs.
  Status prepare();

  // Every subgraph body planned so far, with a path of body graph names.
  void for_each_body(const std::function<void(const std::string& path, const GraphRunner& body)>& visit) const;

  // Runs every step over `slots` (indexed by value id, sized by the caller,
  // feeds and constants already in place; `outer` serves the plan's outer
  // values). Values in `keep` (by id) are never freed.
  Status execute(std::vector<Slot>& slots, const std::vector<bool>& keep, const ScopeLookup& outer = nullptr);

  // Binds `inputs` in order to the graph inputs, runs, and returns the graph
  // outputs in order (a subgraph body, a test graph). `outputs_in_gpu_memory`:
  // an output the GPU holds is returned as such (Value::device), not read
  // back: for a caller that passes it on unread (an If's branch).
  Result<std::vector<Value>> run(const std::vector<Value>& inputs, const ScopeLookup& outer = nullptr,
                                 bool outputs_in_gpu_memory = false);

  // Fills constants' slots (initializers, as CPU tensors).
  void bind_constants(std::vector<Slot>& slots) const;

  Result<Tensor> to_cpu(Slot& slot);
  // The slot as a Value: read back from the GPU, or (`in_gpu_memory`) left
  // there (Value::device) when only the GPU holds it.
  Result<Value> to_value(Slot& slot, bool in_gpu_memory = false);
  // Puts `v` in `slot`: a GPU-held Value as the slot's GPU tensor.
  static Status bind_value(Slot& slot, const Value& v);

  // Profiling: every step waits for the GPU (fenced wall time) and is
  // recorded as an event; with GLINT_PROFILE=1 the slowest nodes, summed
  // over every run, are also printed when the runner goes.
  struct ProfileEvent {
    size_t node = 0;   // index into graph().nodes
    bool gpu = false;  // ran on the GPU (false: its CPU kernel, fallback included)
    double start_ms = 0, ms = 0;  // start: since the steady clock's epoch
  };
  void set_profiling(bool on) { profile_ = on; }
  void set_profile_summary(bool on) { profile_summary_ = on; }
  // The events recorded since the last call (main graph steps; bodies' steps
  // count within their control-flow node).
  std::vector<ProfileEvent> take_profile_events() { return std::move(events_); }

  // Counts every later step into `tally` (null: stop); `label_prefix` is
  // put before node labels (a body's path).
  void set_work_tally(std::shared_ptr<WorkTally> tally, const std::string& label_prefix = "");

 private:
  struct StepState;
  Status run_gpu_step(size_t pos, std::vector<Slot>& slots, bool* fell_back);
  Status run_cpu_step(size_t pos, std::vector<Slot>& slots);
  Status run_value_step(size_t pos, std::vector<Slot>& slots);
  Result<gl::GpuTensorPtr> to_gpu(int id, Slot& slot);
  void release_cached_constants();
  Status prepare_bodies();
  // `on_host_by_choice`: a GPU step run on the CPU for its small index inputs.
  void tally_step(size_t pos, const std::vector<Slot>& slots, bool on_gpu, bool on_host_by_choice);
  // GLINT_PROFILE=1: the slowest nodes over every run, on stderr (at destruction).
  void print_profile_summary() const;
  void set_passes(StepState& st, const ir::Node& n, std::vector<gl::ProgramInfo> passes, std::string signature);
  static void note_signature(StepState& st, const std::string& signature);
  // The model constant pass `k` of node `n` lays out (ProgramInfo::reshape_of),
  // when the executor is to upload it instead of drawing the pass; else null.
  const Tensor* uploaded_reshape(const ir::Node& n, const std::vector<gl::ProgramInfo>& passes, size_t k) const;
  class Bodies;

  const ir::Graph& graph_;
  plan::Plan plan_;
  gl::Executor* gpu_;
  plan::Policy policy_;
  std::vector<std::unique_ptr<StepState>> states_;  // by step
  // Each initializer's slot, found once: looking the names up on every run
  // cost a small node's model about 5% of its run on the wasm provider.
  std::vector<std::pair<int, const Tensor*>> constant_slots_;
  std::map<int, gl::GpuTensorPtr> gpu_constants_;   // initializers, uploaded once
  std::unique_ptr<Bodies> bodies_;                  // runners of subgraph bodies, made on first use
  bool profile_ = false;
  bool profile_summary_ = false;
  std::map<size_t, double> profile_ms_;  // by node index, for the summary
  std::vector<ProfileEvent> events_;
  std::shared_ptr<WorkTally> tally_;
  std::string tally_prefix_;
};

// Runs `graph` once under `policy` (kCpu needs no executor): plans it, binds
// the named feeds and returns every graph output. For tests and tools.
Result<std::map<std::string, Value>> run_graph(const ir::Graph& graph, const std::map<std::string, Value>& feeds,
                                               const plan::Policy& policy, gl::Executor* gpu = nullptr);

}  // namespace glint
