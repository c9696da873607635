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
  return fold_into_producers(
      g, keep,
      [](const ir::Node& n) {
        const bool scaling = (n.op_type == "Div" || n.op_type == "Mul") && n.inputs.size() == 2;
        return scaling ? std::vector<int>{0, 1} : std::vector<int>{};
      },
      [&](const ir::Node& n, int side, ir::Node& mm) {
        const float f = scale_of(g, n, side);
        // Before the fusions that give a product addends or an activation,
        // which the factor must not scale: only A and B here.
        if (f == 0.f || !is_matmul_product(mm) || mm.inputs.size() != 2 || is_kept(mm, keep)) return false;
        const float alpha = mm.attr_float("alpha", 1.f) * f;
        make_fused_matmul(mm);
        mm.attrs["alpha"] = ir::Attribute::of_float(alpha);
        return true;
      });
}

}  // namespace glint::passes
