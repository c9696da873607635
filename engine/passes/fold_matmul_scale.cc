// A float32 product divided or multiplied by a one-element constant, the
// product read by nothing else, becomes com.microsoft FusedMatMul with that
// factor in alpha: attention's scores Q K^T / sqrt(d). The Div was a pass
// of its own on the GPU (and a pass over every score on the CPU), and it
// stood between the product and the mask Add, which fuse_matmul_add can
// then take into the product's epilogue as well: two passes fewer a layer.
#include <set>
#include <string>
#include <vector>

#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// The factor a Div / Mul `n` applies to its operand `side` (the other one a
// one-element float32 constant of rank no higher than the result's, so it
// broadcasts without growing it), or 0 when it is not such a scaling.
float scale_of(const ir::Graph& g, const ir::Node& n, int side) {
  if (!n.domain.empty() || n.inputs.size() != 2 || n.outputs.size() != 1 || !n.has_output(0)) return 0.f;
  if (n.op_type != "Mul" && !(n.op_type == "Div" && side == 0)) return 0.f;
  const std::string& c = n.inputs[1 - side];
  const ir::ValueInfo* y = g.info(n.outputs[0]);
  if (!g.is_constant(c) || y == nullptr || !y->has_shape || y->dtype != DataType::kFloat32) return 0.f;
  const Tensor& t = g.initializers.at(c);
  if (t.dtype() != DataType::kFloat32 || t.size() != 1 || static_cast<size_t>(t.rank()) > y->dims.size()) return 0.f;
  const float f = t.data<float>()[0];
  if (n.op_type == "Mul") return f;
  // A divisor of 0, infinite or NaN keeps its Div: the result's infinities
  // and NaNs stay those of the division.
  if (!(f != 0.f && f - f == 0.f)) return 0.f;
  return 1.f / f;
}

}  // namespace

Status fold_matmul_scale(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    const ir::Node& n = g.nodes[idx];
    if ((n.op_type != "Div" && n.op_type != "Mul") || is_kept(n, keep)) continue;
    for (int side = 0; side < 2; ++side) {
      const float f = scale_of(g, n, side);
      const size_t p = f == 0.f ? ValueIndex::kNone : private_producer(g, index, n.inputs[side]);
      // Before the fusions that give a product addends or an activation,
      // which the factor must not scale: only A and B here.
      if (p == ValueIndex::kNone || removed[p] || !is_matmul_product(g.nodes[p]) || g.nodes[p].inputs.size() != 2 ||
          is_kept(g.nodes[p], keep))
        continue;
      ir::Node& mm = g.nodes[p];
      const float alpha = mm.attr_float("alpha", 1.f) * f;
      make_fused_matmul(mm);
      mm.attrs["alpha"] = ir::Attribute::of_float(alpha);
      absorb_into_producer(g, index, p, idx, removed);
      break;
    }
  }
  erase_nodes(g, removed);
  return Status::Ok();
}

}  // namespace glint::passes
