// Gather along an axis with constant indices (a model's fixed picks, e.g. a
// class token): the indices are baked as a const array, since int64 tensors
// do not live in textures. Run-time indices stay on the CPU.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {
constexpr int64_t kMaxBakedIndices = 1024;
}  // namespace

bool gather_supports(const KernelContext& ctx, std::string* why) {
  if (!input_is_float(ctx, 0, why)) return false;
  DataType t = ctx.outputs[0].dtype;
  if (t != DataType::kFloat32 && t != DataType::kFloat16) return decline(why, "output is " + dtype_name(t));
  const Tensor* idx = ctx.constants.size() > 1 ? ctx.constants[1] : nullptr;
  if (!idx) return decline(why, "indices are not a constant");
  if (idx->size() > kMaxBakedIndices) return decline(why, "more than 1024 indices to bake");
  int64_t rank = ctx.inputs[0]->shape.size();
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  if (axis < 0) return decline(why, "axis out of range");
  int64_t dim = ctx.inputs[0]->shape[axis];
  for (int64_t i = 0; i < idx->size(); ++i) {
    int64_t v = idx->get_as_int64(i);
    if (v < -dim || v >= dim) return decline(why, "index " + std::to_string(v) + " out of range");
  }
  return true;
}

Result<std::vector<ProgramInfo>> gather_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const Tensor& idx = *ctx.constants[1];
  int64_t rank = x.size(), ri = idx.rank();
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  std::string list;
  for (int64_t i = 0; i < idx.size(); ++i) {
    int64_t v = idx.get_as_int64(i);
    list += (i ? ", " : "") + std::to_string(v < 0 ? v + x[axis] : v);
  }
  int64_t n = std::max<int64_t>(idx.size(), 1);
  if (idx.size() == 0) list = "0";
  // The flat position within the indices tensor: output dims [axis, axis + ri).
  std::string pos;
  {
    auto st = shape_strides(idx.shape());
    for (int64_t d = 0; d < ri; ++d) {
      if (idx.shape()[d] == 1) continue;
      pos += (pos.empty() ? "" : " + ") + std::string("oc[") + std::to_string(axis + d) + "]" +
             (st[d] != 1 ? " * " + glsl_int(st[d]) : "");
    }
    if (pos.empty()) pos = "0";
  }
  std::vector<std::string> args;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) args.push_back("oc[" + std::to_string(d) + "]");
    else if (d == axis) args.push_back("GATHER_IDX[" + pos + "]");
    else args.push_back("oc[" + std::to_string(d - 1 + ri) + "]");
  }
  ProgramInfo p;
  p.name = "gather";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "const int GATHER_IDX[" + std::to_string(n) + "] = int[" + std::to_string(n) + "](" + list +
           ");\nfloat process(int oc[OUT_RANK]) {\n  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
