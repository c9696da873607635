// MatMul whose operand is a Transpose swapping the last two dims, and read by
// nothing else, becomes com.microsoft FusedMatMul with transA / transB: the
// product reads that operand transposed in place (the CPU GEMM's trans path,
// the GPU sampler's swapped coordinates) instead of a copy made first. An
// attention's Q K^T is the common case: a GPT decode step transposes every
// layer's whole key cache for it.
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// perm is [0, 1, ..., r-3, r-1, r-2] for r >= 2.
bool swaps_last_two(const ir::Node& t) {
  if (t.op_type != "Transpose" || !t.domain.empty() || !t.has_attr("perm") || t.inputs.size() != 1 ||
      t.outputs.size() != 1)
    return false;
  const std::vector<int64_t> perm = t.attr_ints("perm");
  const int64_t r = static_cast<int64_t>(perm.size());
  if (r < 2) return false;
  for (int64_t i = 0; i < r - 2; ++i)
    if (perm[i] != i) return false;
  return perm[r - 2] == r - 1 && perm[r - 1] == r - 2;
}

}  // namespace

Status fuse_matmul_transpose(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    ir::Node& mm = g.nodes[idx];
    if (mm.op_type != "MatMul" || !mm.domain.empty() || mm.inputs.size() != 2 || mm.outputs.size() != 1 ||
        is_kept(mm, keep))
      continue;
    const ir::ValueInfo* y = g.info(mm.outputs[0]);
    if (y == nullptr || (y->dtype != DataType::kFloat32 && y->dtype != DataType::kFloat16)) continue;
    bool fused = false;
    for (int side = 0; side < 2; ++side) {
      const std::string& v = mm.inputs[side];
      if (mm.inputs[0] == mm.inputs[1] || index.readers(v) != 1) continue;
      const size_t t = index.producer(v);
      if (t == ValueIndex::kNone || removed[t] || !swaps_last_two(g.nodes[t]) || is_kept(g.nodes[t], keep)) continue;
      mm.inputs[side] = g.nodes[t].inputs[0];
      ir::Attribute on;
      on.kind = ir::Attribute::Kind::kInt;
      on.i = 1;
      mm.attrs[side == 0 ? "transA" : "transB"] = on;
      removed[t] = true;
      fused = true;
    }
    if (fused) {
      mm.op_type = "FusedMatMul";
      mm.domain = "com.microsoft";
      mm.opset = 1;
    }
  }
  erase_nodes(g, removed);
  return Status::Ok();
}

}  // namespace glint::passes
