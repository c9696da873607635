// Sequence, optional and control-flow kernels (the value kernels of the op
// table, engine/ops/value_kernel.h) and their shared tensor plumbing.
#pragma once
#include <vector>

#include "engine/ops/value_kernel.h"

namespace glint {

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
