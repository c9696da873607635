// Ops that make values from attributes or scalars: Constant (every value_*
// attribute form) and Range.
#include <cmath>
#include <map>
#include <utility>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Result<Tensor> constant_value(const ir::Node& node) {
  using K = ir::Attribute::Kind;
  if (node.attrs.size() != 1)
    return node_error(node, "Constant needs exactly one value attribute, given " +
                                std::to_string(node.attrs.size()));
  const std::string& name = node.attrs.begin()->first;
  const ir::Attribute& a = node.attrs.begin()->second;
  // The value is read by the attribute's name, so its declared type must
  // match: a 'value' declared a GRAPH holds no tensor (the fuzzer found one
  // whose storage-less tensor then reached Reshape as its shape).
  static const std::map<std::string, std::pair<K, const char*>> kinds = {
      {"value", {K::kTensor, "TENSOR"}},        {"value_float", {K::kFloat, "FLOAT"}},
      {"value_floats", {K::kFloats, "FLOATS"}}, {"value_int", {K::kInt, "INT"}},
      {"value_ints", {K::kInts, "INTS"}},       {"value_string", {K::kString, "STRING"}},
      {"value_strings", {K::kStrings, "STRINGS"}}};
  auto kind = kinds.find(name);
  if (kind == kinds.end()) return node_unsupported(node, "Constant attribute '" + name + "' is not supported");
  if (a.kind != kind->second.first)
    return node_error(node, "Constant attribute '" + name + "' is not declared " + kind->second.second +
                                " (its type field says otherwise)");
  if (name == "value") return a.t;
  if (name == "value_float") return Tensor::scalar_f32(a.f);
  if (name == "value_floats") return Tensor::from_floats({static_cast<int64_t>(a.floats.size())}, a.floats);
  if (name == "value_int") return Tensor::from_int64s({}, {a.i});
  if (name == "value_ints") return Tensor::from_int64s({static_cast<int64_t>(a.ints.size())}, a.ints);
  const bool scalar = name == "value_string";
  Tensor t(DataType::kString, scalar ? Shape{} : Shape{static_cast<int64_t>(a.strings.size())});
  if (scalar) t.strings()[0] = a.s;
  else t.strings() = a.strings;
  return t;
}

Status infer_constant(const ir::Node& node, const std::vector<const ir::ValueInfo*>&,
                      const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_ASSIGN_OR_RETURN(Tensor t, constant_value(node));
  outputs[0] = ir::ValueInfo::of(t);
  return Status::Ok();
}

Status constant(const ir::Node& node, const std::vector<const Tensor*>&,
                std::vector<Tensor>& outputs) {
  GLINT_ASSIGN_OR_RETURN(outputs[0], constant_value(node));
  return Status::Ok();
}

namespace {
Status range_count(const ir::Node& node, const Tensor& start, const Tensor& limit,
                   const Tensor& delta, int64_t* n) {
  for (const Tensor* t : {&start, &limit, &delta})
    if (t->size() != 1 || t->dtype() != start.dtype())
      return node_error(node, "start, limit and delta must be scalars of one dtype, given " +
                                  tensor_desc(start) + ", " + tensor_desc(limit) + ", " +
                                  tensor_desc(delta));
  const double s = start.get_as_double(0), l = limit.get_as_double(0), d = delta.get_as_double(0);
  if (d == 0) return node_error(node, "delta must be non-zero");
  const double count = std::ceil((l - s) / d);
  if (!(count < 1e12)) return node_error(node, "range is too long or not finite");
  *n = count > 0 ? static_cast<int64_t>(count) : 0;
  return Status::Ok();
}
}  // namespace

Status infer_range(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  outputs[0].dtype = inputs[0]->dtype;
  outputs[0].has_shape = true;
  outputs[0].dims = {ir::Dim{}};
  if (constants.size() >= 3 && constants[0] && constants[1] && constants[2]) {
    int64_t n = 0;
    GLINT_RETURN_IF_ERROR(range_count(node, *constants[0], *constants[1], *constants[2], &n));
    outputs[0].dims[0].value = n;
  }
  return Status::Ok();
}

Status range(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_range, node, inputs, outputs));
  Tensor& y = outputs[0];
  if (is_integer(y.dtype())) {
    const int64_t s = inputs[0]->get_as_int64(0), d = inputs[2]->get_as_int64(0);
    for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, static_cast<double>(s + i * d));
  } else {
    const double s = inputs[0]->get_as_double(0), d = inputs[2]->get_as_double(0);
    for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, s + i * d);
  }
  return Status::Ok();
}

}  // namespace glint::cpu
