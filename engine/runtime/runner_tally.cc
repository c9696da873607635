// The work tally (runner.h's WorkTally): each step's estimated FLOPs on the
// side it ran on, and why a CPU step is there.
#include "engine/plan/work.h"
#include "engine/runtime/host_steps.h"
#include "engine/runtime/runner.h"
#include "engine/runtime/step_state.h"

namespace glint {

void GraphRunner::tally_step(size_t pos, const std::vector<Slot>& slots, bool on_gpu, bool on_host_by_choice) {
  const plan::Step& step = plan_.steps[pos];
  auto shapes = [&](const std::vector<int>& ids) {
    std::vector<std::optional<Shape>> out;
    for (int id : ids) {
      if (id == plan::kNoValue || slots[id].empty() || slots[id].other) out.emplace_back();
      else out.emplace_back(slots[id].desc().shape);
    }
    return out;
  };
  const ir::Node& n = graph_.nodes[step.node];
  const double flops = plan::estimate_flops(n, shapes(step.inputs), shapes(step.outputs));
  if (on_gpu) {
    tally_->gpu_flops += flops;
    ++tally_->gpu_steps;
    return;
  }
  tally_->cpu_flops += flops;
  ++tally_->cpu_steps;
  WorkTally::CpuNode& c = tally_->cpu_nodes[tally_prefix_ + (n.name.empty() ? n.outputs[0] : n.name)];
  c.op = n.op_type;
  c.reason = on_host_by_choice                          ? kIndexValuesReason
             : step.placement == plan::Placement::kGpu ? states_[pos]->fallback_reason
                                                       : step.reason;
  c.flops += flops;
}

}  // namespace glint
