#include <algorithm>
#include <set>

#include "engine/plan/plan.h"

namespace glint::plan {

int64_t memory_budget(const ir::Graph& graph, const Plan& plan, const gl::LayoutPolicy& layout) {
  bool sizes_known = true;
  auto bytes = [&](const std::string& name) -> int64_t {
    const ir::ValueInfo* vi = graph.info(name);
    if (!vi || vi->kind != ir::TypeKind::kTensor) return 0;
    if (!vi->fully_known()) {
      sizes_known = false;
      return 0;
    }
    auto l = gl::choose_layout(gl::TensorDesc{vi->dtype, vi->concrete()}, layout);
    return l.ok() ? l->byte_size() : 0;
  };
  int64_t weights = 0;
  for (auto& [name, t] : graph.initializers) {
    auto l = gl::choose_layout(gl::TensorDesc{t.dtype(), t.shape(), plan.half_exact.count(name) > 0}, layout);
    weights += l.ok() ? l->byte_size() : 0;
  }
  // Each value is live from the step that writes it to its last reader: one
  // sweep over the steps with the live sizes in a multiset (the two largest
  // at its end).
  const size_t steps = plan.steps.size();
  std::vector<int> last(plan.names.size(), static_cast<int>(steps));
  for (size_t pos = 0; pos < steps; ++pos)
    for (int id : plan.steps[pos].release) last[id] = static_cast<int>(pos);
  std::vector<std::vector<int64_t>> dying(steps + 1);  // bytes freed after each step
  std::multiset<int64_t> live;
  int64_t activations = 0;
  for (size_t pos = 0; pos < steps; ++pos) {
    for (int id : plan.steps[pos].outputs) {
      if (id == kNoValue) continue;
      const int64_t b = bytes(plan.names[id]);
      live.insert(b);
      dying[last[id]].push_back(b);
    }
    auto top = live.rbegin();
    const int64_t first = top == live.rend() ? 0 : *top++;
    const int64_t second = top == live.rend() ? 0 : *top;
    activations = std::max(activations, first + second);
    for (int64_t b : dying[pos]) live.erase(live.find(b));
  }
  // A value whose size is known only at run time (a KV cache's length)
  // counted as nothing, so the bound would be too small: the pool would
  // delete and make textures every run, each new one paying a synchronous
  // glGetError, which waits for the GPU (a GPT decode loop over 8 cache
  // lengths in Chromium: 74 ms a step). No bound then (0).
  if (!sizes_known) return 0;
  // The bound the tests hold the pool to (test_gpu_memory.cc), with room
  // for textures a best fit shares between tensors of different sizes.
  return (weights + activations) * 3 / 2;
}

}  // namespace glint::plan
