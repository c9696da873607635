#include "engine/runtime/host_steps.h"


namespace glint {

const char* const kIndexValuesReason = "small index values on the CPU (no read-back)";

namespace {
// Index values: integer or bool tensors of at most this many elements.
constexpr int64_t kIndexElements = 128;
// What such a step may make on the CPU: a value-sized op (ConstantOfShape,
// Expand, Range) making more goes to the GPU as the plan said.
constexpr int64_t kHostOutputElements = 4096;
}  // namespace

// A model's shape arithmetic (a Gather of one dim, Equal, a Concat of dims,
// Cast) makes small index values, and what reads them reads them as values
// on the CPU (an If's condition, a Reshape's target, an LSTM's lengths).
// Drawn, each would be read back, and a read-back waits for every draw queued
// before it. Decided per run rather than in the plan: inside control-flow
// bodies the sizes are rarely known before the run. TF.js's WebGL backend
// forwards ops on small CPU tensors to its CPU kernels for the same reason.
bool index_values_on_host(const plan::Step& step, const ir::Node& n, const std::vector<Slot>& slots) {
  if (!step.row || !step.row->cpu.name || !step.row->shape) return false;
  // First without allocating: most GPU steps read a GPU value.
  bool any = false;
  for (int id : step.inputs) {
    if (id == plan::kNoValue) continue;
    const std::optional<Tensor>& t = slots[id].cpu;
    if (!t || t->size() > kIndexElements || (t->dtype() != DataType::kBool && !is_integer(t->dtype()))) return false;
    any = true;
  }
  if (!any) return false;
  // The outputs' shapes, from the shape function over the input values
  // (called directly: plan::infer_outputs gives an output of unknown rank
  // the shape of a scalar, and such an output must not count as small).
  std::vector<ir::ValueInfo> infos(step.inputs.size());
  std::vector<const ir::ValueInfo*> info_ptrs(step.inputs.size(), nullptr);
  std::vector<const Tensor*> values(step.inputs.size(), nullptr);
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] == plan::kNoValue) continue;
    const Tensor& t = *slots[step.inputs[i]].cpu;
    infos[i] = ir::ValueInfo::of(t);
    info_ptrs[i] = &infos[i];
    values[i] = &t;
  }
  std::vector<ir::ValueInfo> outs(n.outputs.size());
  if (!step.row->shape(n, info_ptrs, values, outs).ok()) return false;  // the kernel's run says what is wrong
  for (size_t i = 0; i < outs.size(); ++i) {
    int64_t count = 0;
    if (n.has_output(i) && (!outs[i].has_shape || !outs[i].fully_known() ||
                            !checked_shape_size(outs[i].concrete(), &count) || count > kHostOutputElements))
      return false;
  }
  return true;
}

}  // namespace glint
