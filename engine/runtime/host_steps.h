// Steps the plan put on the GPU that a run gives to their CPU kernel anyway,
// because their inputs are small index values already on the CPU (the
// default backend's shape arithmetic).
#pragma once
#include <vector>

#include "engine/ir/graph.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runner.h"

namespace glint {

// The reason the work tally gives for such a step.
extern const char* const kIndexValuesReason;

// Whether step `step` (node `n`) runs on its CPU kernel in this run: every
// input is an integer or bool tensor of at most 128 elements on the CPU, and
// its outputs, by its shape function over those values, are small.
bool index_values_on_host(const plan::Step& step, const ir::Node& n, const std::vector<Slot>& slots);

}  // namespace glint
