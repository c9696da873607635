#include "engine/passes/passes.h"

namespace glint::passes {

namespace {
Result<Tensor> constant_value(const ir::Node& n) {
  if (n.attrs.size() != 1)
    return invalid_model(n.describe() + ": Constant needs exactly one value attribute, has " +
                         std::to_string(n.attrs.size()));
  const auto& [name, a] = *n.attrs.begin();
  if (name == "value") return a.t;
  if (name == "value_float") return Tensor::scalar_f32(a.f);
  if (name == "value_floats") return Tensor::from_floats({static_cast<int64_t>(a.floats.size())}, a.floats);
  if (name == "value_int") return Tensor::from_int64s({}, {a.i});
  if (name == "value_ints") return Tensor::from_int64s({static_cast<int64_t>(a.ints.size())}, a.ints);
  if (name == "value_string" || name == "value_strings") {
    bool scalar = name == "value_string";
    Tensor t(DataType::kString, scalar ? Shape{} : Shape{static_cast<int64_t>(a.strings.size())});
    if (scalar) t.strings()[0] = a.s;
    else t.strings() = a.strings;
    return t;
  }
  return unsupported(n.describe() + ": Constant attribute '" + name + "' is not supported");
}
}  // namespace

Status constant_nodes_to_initializers(ir::Graph& g) {
  std::vector<ir::Node> kept;
  for (auto& n : g.nodes) {
    if (n.op_type != "Constant" || !n.domain.empty()) {
      kept.push_back(std::move(n));
      continue;
    }
    if (!n.has_output(0)) continue;
    GLINT_ASSIGN_OR_RETURN(Tensor t, constant_value(n));
    g.values[n.outputs[0]] = ir::ValueInfo::of(t);
    g.initializers[n.outputs[0]] = std::move(t);
  }
  g.nodes = std::move(kept);
  return Status::Ok();
}

}  // namespace glint::passes
