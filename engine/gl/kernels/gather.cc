// Gather along an axis. Constant indices (a model's fixed picks, e.g. a class
// token) are baked as a const array; run-time indices (int32/int64 tensors on
// the GPU) are sampled, negative ones counted from the end.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {
// Baked only while the session's program signature covers the values (it
// keys constants of up to 16 elements): a longer index list, which could be a
// feed that changes between runs, is sampled instead.
constexpr int64_t kMaxBakedIndices = 16;
}  // namespace

bool gather_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "indices are missing");
  int64_t rank = ctx.inputs[0]->shape.size();
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  if (axis < 0) return decline(why, "axis out of range");
  const Tensor* idx = ctx.constant(1);
  if (!idx || idx->size() > kMaxBakedIndices) return true;  // sampled
  int64_t dim = ctx.inputs[0]->shape[axis];
  for (int64_t i = 0; i < idx->size(); ++i) {
    int64_t v = idx->get_as_int64(i);
    if (v < -dim || v >= dim) return decline(why, "index " + std::to_string(v) + " out of range");
  }
  return true;
}

namespace {

// Indices read from a texture at run time.
ProgramInfo gather_sampled(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& ishape = ctx.inputs[1]->shape;
  int64_t rank = x.size(), ri = ishape.size();
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  std::vector<std::string> iargs;
  for (int64_t d = 0; d < ri; ++d) iargs.push_back("oc[" + std::to_string(axis + d) + "]");
  std::vector<std::string> args;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) args.push_back("oc[" + std::to_string(d) + "]");
    else if (d == axis) args.push_back("j");
    else args.push_back("oc[" + std::to_string(d - 1 + ri) + "]");
  }
  ProgramInfo p;
  p.name = "gather_sampled";
  p.inputs = {{"X", 0}, {"I", 1}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  int j = int(" + getter("I", iargs) + ");\n  if (j < 0) j += " +
           glsl_int(x[axis]) + ";\n  if (j < 0 || j >= " + glsl_int(x[axis]) + ") return 0.0;\n  return " +
           getter("X", args) + ";\n}\n";
  return p;
}

}  // namespace

Result<std::vector<ProgramInfo>> gather_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const Tensor* idx_ptr = ctx.constant(1);
  if (!idx_ptr || idx_ptr->size() > kMaxBakedIndices) return std::vector<ProgramInfo>{gather_sampled(ctx)};
  const Tensor& idx = *idx_ptr;
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
