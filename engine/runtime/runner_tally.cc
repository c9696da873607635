// What a runner reports of its runs: the work tally (runner.h's WorkTally:
// each step's estimated FLOPs on the side it ran on, and why a CPU step is
// there) and GLINT_PROFILE's summary of the slowest nodes.
#include <algorithm>
#include <cstdio>

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

void GraphRunner::print_profile_summary() const {
  if (!profile_summary_ || profile_ms_.empty()) return;
  // The slowest nodes, summed over every run.
  std::vector<std::pair<double, size_t>> by_time;
  double total = 0;
  for (auto& [idx, ms] : profile_ms_) {
    by_time.push_back({ms, idx});
    total += ms;
  }
  std::sort(by_time.rbegin(), by_time.rend());
  std::fprintf(stderr, "GLINT_PROFILE: %.1f ms in %zu nodes (all runs)\n", total, by_time.size());
  std::vector<bool> on_gpu(graph_.nodes.size(), false);
  for (auto& s : plan_.steps) on_gpu[s.node] = s.placement == plan::Placement::kGpu;
  for (size_t i = 0; i < by_time.size() && i < 25; ++i) {
    const size_t idx = by_time[i].second;
    std::fprintf(stderr, "  %8.1f ms %5.1f%%  %-4s %s\n", by_time[i].first, 100.0 * by_time[i].first / total,
                 on_gpu[idx] ? "gpu" : "cpu", graph_.nodes[idx].describe().c_str());
  }
}

}  // namespace glint
