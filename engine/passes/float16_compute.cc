// float16 models compute in float32. glint holds float16 tensors widened to
// float already; this pass also stops every intermediate from being rounded
// back to half, so a float16 model gives what onnxruntime gives (it runs such
// chains in float32 and rounds where the model's outputs leave). The session
// rounds declared float16 outputs at the end.
#include <set>

#include "engine/passes/passes.h"

namespace glint::passes {

namespace {
// Ops whose attributes name a dtype or hold typed values other than through
// Cast's `to`; a graph with one of them keeps per-node float16 semantics.
const std::set<std::string> kTypedAttributeOps = {
    "ConstantOfShape", "EyeLike", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
    "Bernoulli", "Multinomial", "SequenceEmpty", "Constant"};  // (control flow: its graph attributes, below)
}  // namespace

Status compute_float16_in_float32(ir::Graph& g, bool* applied) {
  *applied = false;
  bool any_half = false;
  for (auto& [name, vi] : g.values)
    if (vi.dtype == DataType::kFloat16) any_half = true;
  if (!any_half) return Status::Ok();
  for (auto& n : g.nodes) {
    if (!n.domain.empty() || kTypedAttributeOps.count(n.op_type) || !n.implicit_inputs.empty()) return Status::Ok();
    for (auto& [name, a] : n.attrs)
      if (a.kind == ir::Attribute::Kind::kGraph || a.kind == ir::Attribute::Kind::kGraphs ||
          a.kind == ir::Attribute::Kind::kTensor)
        return Status::Ok();
  }
  for (auto& n : g.nodes)
    if (n.op_type == "Cast" && n.attr_int("to", 0) == static_cast<int64_t>(DataType::kFloat16))
      n.attrs["to"].i = static_cast<int64_t>(DataType::kFloat32);
  for (auto& [name, t] : g.initializers)
    if (t.dtype() == DataType::kFloat16) t = t.retagged(DataType::kFloat32);
  for (auto& [name, vi] : g.values)
    if (vi.dtype == DataType::kFloat16 && vi.kind == ir::TypeKind::kTensor) vi.dtype = DataType::kFloat32;
  *applied = true;
  return Status::Ok();
}

}  // namespace glint::passes
