#include "engine/passes/passes.h"

#include <map>
#include <utility>

namespace glint::passes {

namespace {
Result<Tensor> constant_value(const ir::Node& n) {
  if (n.attrs.size() != 1)
    return invalid_model(n.describe() + ": Constant needs exactly one value attribute, has " +
                         std::to_string(n.attrs.size()));
  const auto& [name, a] = *n.attrs.begin();
  // The value is read by the attribute's name, so its declared type must
  // match (as the Constant kernel checks): a 'value' declared a GRAPH holds
  // no tensor, and the fuzzer found one whose storage-less tensor then
  // reached Reshape as its shape.
  using K = ir::Attribute::Kind;
  const std::map<std::string, std::pair<K, const char*>> kinds = {
      {"value", {K::kTensor, "TENSOR"}}, {"value_float", {K::kFloat, "FLOAT"}},
      {"value_floats", {K::kFloats, "FLOATS"}}, {"value_int", {K::kInt, "INT"}},
      {"value_ints", {K::kInts, "INTS"}}, {"value_string", {K::kString, "STRING"}},
      {"value_strings", {K::kStrings, "STRINGS"}}};
  auto kind = kinds.find(name);
  if (kind != kinds.end() && a.kind != kind->second.first)
    return invalid_model(n.describe() + ": Constant attribute '" + name + "' is not declared " +
                         kind->second.second + " (its type field says otherwise)");
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
