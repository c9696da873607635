#include "engine/passes/passes.h"

#include "engine/cpu/kernels.h"

namespace glint::passes {

Status constant_nodes_to_initializers(ir::Graph& g) {
  std::vector<ir::Node> kept;
  for (auto& n : g.nodes) {
    if (n.op_type != "Constant" || !n.domain.empty()) {
      kept.push_back(std::move(n));
      continue;
    }
    if (!n.has_output(0)) continue;
    GLINT_ASSIGN_OR_RETURN(Tensor t, cpu::constant_value(n));
    g.values[n.outputs[0]] = ir::ValueInfo::of(t);
    g.initializers[n.outputs[0]] = std::move(t);
  }
  g.nodes = std::move(kept);
  return Status::Ok();
}

}  // namespace glint::passes
