// Which uploaded weights a GraphRunner still needs on the GPU.
#include <set>

#include "engine/core/tuning.h"
#include "engine/runtime/runner.h"
#include "engine/runtime/step_state.h"

namespace glint {

// A weight that only passes with cached outputs read (a conv bias laid out
// once, a MatMul operand packed once) is not read again: its texture is
// deleted (MobileNetV2's classifier weights: 5 MB). Should new passes need
// it (new shapes), to_gpu uploads it again; so weights are let go only under
// passes that have run twice in a row, and shapes that change from run to
// run (text lengths, image widths) keep theirs. A GPU step without passes
// yet keeps all its inputs.
namespace {
constexpr int kRunsBeforeRelease = 2;  // runs with the same passes, after the one that built them
static_assert(kGpuMemorySettleRuns >= kRunsBeforeRelease + 3, "the pool needs a run or two after the release");
}  // namespace

void GraphRunner::release_cached_constants() {
  if (gpu_constants_.empty() || !optimization_flags().pass_cache) return;
  std::set<int> read;
  for (size_t pos = 0; pos < plan_.steps.size(); ++pos) {
    const plan::Step& step = plan_.steps[pos];
    if (step.placement != plan::Placement::kGpu) continue;
    const StepState* st = states_[pos].get();
    if (!st || st->passes.empty() || st->runs_with_passes < kRunsBeforeRelease) {
      read.insert(step.inputs.begin(), step.inputs.end());
      continue;
    }
    for (size_t k = 0; k < st->passes.size(); ++k) {
      if (st->pass_cache.outputs[k]) continue;
      for (const gl::ProgramInput& pi : st->passes[k].inputs)
        if (pi.source >= 0 && static_cast<size_t>(pi.source) < step.inputs.size()) read.insert(step.inputs[pi.source]);
    }
  }
  for (auto it = gpu_constants_.begin(); it != gpu_constants_.end();) {
    if (read.count(it->first)) {
      ++it;
      continue;
    }
    gpu_->discard(*it->second);  // its shape rarely fits another tensor: no use idle
    it = gpu_constants_.erase(it);
  }
}

}  // namespace glint
