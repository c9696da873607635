// GraphRunner's per-step state, shared by the files that define its members
// (runner.cc; runner_constants.cc).
#pragma once
#include <string>
#include <vector>

#include "engine/gl/executor.h"
#include "engine/ops/program.h"
#include "engine/runtime/runner.h"

namespace glint {

// What a step keeps between runs: the passes built for the last signature
// its inputs had, what the executor keeps of them, and why it last fell back.
struct GraphRunner::StepState {
  std::string signature;
  std::vector<bool> looked_at;  // the inputs whose values built the passes (KernelContext::constant)
  std::vector<gl::ProgramInfo> passes;
  gl::PassCache pass_cache;
  std::string fallback_reason;
  // Runs in a row with these passes (0 when they were just built): weights
  // are let go only under passes that stay (release_cached_constants).
  int runs_with_passes = 0;
  // The distinct signatures passes were built for (up to
  // plan::kSizesBeforeCpu), and whether the step's sizes churn: then a run
  // with new sizes takes its CPU kernel instead of compiling programs
  // (plan::cheaper_on_cpu_than_compiled).
  std::vector<std::string> signatures_seen;
  bool sizes_churn = false;
};

}  // namespace glint
