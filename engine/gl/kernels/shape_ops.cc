// Data movement: Reshape / Flatten / Squeeze / Unsqueeze / Identity /
// Dropout (inference) as a flat-order copy (shape inputs are read by shape
// inference, never by the shader), Transpose, Concat, Expand and Tile as
// index maps.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// Data movement is exact for every dtype the GPU holds (integers and bool
// included); shape/repeats inputs are read by shape inference, not sampled.
bool held_data(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return decline(why, "input 0 is missing");
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  return all_gpu_dtypes(ctx, why);
}

}  // namespace

bool copy_supports(const KernelContext& ctx, std::string* why) {
  if (!held_data(ctx, why)) return false;
  if (ctx.node->op_type == "Dropout") {
    // Inference only (training mode is the CPU's); the mask is then all true.
    if (ctx.node->has_input(2)) {
      const Tensor* t = ctx.constant(2);
      if (!t || t->size() != 1 || t->get_as_double(0) != 0)
        return decline(why, "training_mode is not a constant false");
    }
  }
  if (shape_size(ctx.inputs[0]->shape) != shape_size(ctx.outputs[0].shape))
    return decline(why, "input and output sizes differ");
  return true;
}

Result<std::vector<ProgramInfo>> copy_build(const KernelContext& ctx) {
  std::string name = ctx.node->op_type;
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<ProgramInfo> passes{flat_copy(ctx, name)};
  passes[0].view_of = 0;
  if (ctx.node->op_type == "Dropout" && ctx.node->has_output(1) && ctx.outputs.size() > 1) {
    ProgramInfo mask;
    mask.name = "dropout_mask";
    mask.output = ctx.outputs[1];
    mask.node_output = 1;
    mask.body = "float process(int oc[OUT_RANK]) {\n  return 1.0;\n}\n";
    passes.push_back(mask);
  }
  return passes;
}

bool transpose_supports(const KernelContext& ctx, std::string* why) {
  if (!held_data(ctx, why)) return false;
  size_t rank = ctx.inputs[0]->shape.size();
  auto perm = ctx.node->attr_ints("perm");
  if (!perm.empty()) {
    if (perm.size() != rank) return decline(why, "perm length differs from the input rank");
    std::vector<bool> seen(rank, false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) return decline(why, "perm is not a permutation");
      seen[p] = true;
    }
  }
  return true;
}

Result<std::vector<ProgramInfo>> transpose_build(const KernelContext& ctx) {
  size_t rank = ctx.inputs[0]->shape.size();
  auto perm = ctx.node->attr_ints("perm");
  if (perm.empty())
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  // Output dim i walks input dim perm[i].
  std::vector<std::string> args(rank);
  for (size_t i = 0; i < rank; ++i) args[perm[i]] = "oc[" + std::to_string(i) + "]";
  ProgramInfo p;
  p.name = "transpose";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool concat_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.inputs.empty()) return decline(why, "no inputs");
  for (auto& in : ctx.inputs)
    if (!in) return decline(why, "an input is missing");
  int64_t rank = ctx.outputs[0].shape.size();
  if (rank == 0 || normalize_axis(ctx.node->attr_int("axis", 1), rank) < 0)
    return decline(why, "axis out of range");
  return true;
}

namespace {

// Inputs one concat pass reads at most: WebGL2 promises 16 texture units.
constexpr size_t kConcatInputsPerPass = 15;

// A piece of a concat: where it comes from (a node input >= 0 or an earlier
// pass -(k+1)), its length along the axis, and its offset in the output.
struct ConcatPart {
  int source;
  int64_t length;
  int64_t offset;
};

// One pass concatenating `parts` along `axis` into `out`. Inputs are named
// X<i>s: the suffix keeps X1's generated getX1s4 apart from X14's getX14s.
ProgramInfo concat_pass(const TensorDesc& out, size_t axis, const std::vector<ConcatPart>& parts, bool shape_uniforms) {
  const size_t rank = out.shape.size();
  ProgramInfo p;
  p.name = "concat";
  p.output = out;
  bool aligned = rank == 4 && axis == 1 && !is_int_like(out.dtype);
  for (const ConcatPart& part : parts) aligned = aligned && part.offset % 4 == 0;
  auto name_of = [](size_t j) { return "X" + std::to_string(j) + "s"; };
  if (aligned && !parts.empty()) {
    // Channel concat at multiples of four: one texel copy per fragment.
    p.name = "concat_channels";
    p.vec4_body = true;
    p.shape_uniforms = shape_uniforms;
    // The channel block where part j starts.
    auto block = [&](size_t j) {
      return j == 0 ? std::string("0") : shape_int(p, "CONCAT_BLOCK" + std::to_string(j), parts[j].offset / 4);
    };
    std::string b = "vec4 process4(int oc[4]) {\n  int c4 = oc[1] / 4;\n";
    for (size_t j = 0; j < parts.size(); ++j) {
      p.inputs.push_back({name_of(j), parts[j].source});
      std::string get = "get" + name_of(j) + "4(oc[0], c4 - " + block(j) + ", oc[2], oc[3])";
      if (j + 1 == parts.size()) b += "  return " + get + ";\n";
      else b += "  if (c4 < " + block(j + 1) + ") return " + get + ";\n";
    }
    p.body = b + "}\n";
    for (const ConcatPart& part : parts) p.concat_channel_offsets.push_back(part.offset);
    return p;
  }
  std::string s = "float process(int oc[OUT_RANK]) {\n  int a = oc[" + std::to_string(axis) + "];\n";
  for (size_t j = 0; j < parts.size(); ++j) {
    p.inputs.push_back({name_of(j), parts[j].source});
    std::vector<std::string> args;
    for (size_t d = 0; d < rank; ++d)
      args.push_back(d == axis ? "a - " + glsl_int(parts[j].offset) : "oc[" + std::to_string(d) + "]");
    const std::string get = getter(name_of(j), args);
    if (j + 1 == parts.size()) s += "  return " + get + ";\n";
    else s += "  if (a < " + glsl_int(parts[j + 1].offset) + ") return " + get + ";\n";
  }
  if (parts.empty()) s += "  return 0.0;\n";
  p.body = s + "}\n";
  return p;
}

}  // namespace

// Up to 15 inputs: one pass. More (DenseNet concatenates dozens): groups of
// 15 into temporaries first, then the temporaries, so no pass samples more
// textures than WebGL2 promises.
Result<std::vector<ProgramInfo>> concat_build(const KernelContext& ctx) {
  const TensorDesc& y = ctx.outputs[0];
  const size_t axis = static_cast<size_t>(normalize_axis(ctx.node->attr_int("axis", 1), y.shape.size()));
  std::vector<ConcatPart> parts;  // non-empty inputs
  int64_t offset = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const int64_t len = ctx.inputs[i]->shape[axis];
    if (len > 0) parts.push_back({static_cast<int>(i), len, offset});
    offset += len;
  }
  std::vector<ProgramInfo> passes;
  while (parts.size() > kConcatInputsPerPass) {
    std::vector<ConcatPart> next;
    for (size_t g = 0; g < parts.size(); g += kConcatInputsPerPass) {
      const size_t end = std::min(parts.size(), g + kConcatInputsPerPass);
      if (end - g == 1) {  // a lone part needs no pass
        next.push_back(parts[g]);
        continue;
      }
      std::vector<ConcatPart> group;
      int64_t len = 0;
      for (size_t j = g; j < end; ++j) {
        group.push_back({parts[j].source, parts[j].length, len});
        len += parts[j].length;
      }
      TensorDesc out = y;
      out.shape[axis] = len;
      ProgramInfo p = concat_pass(out, axis, group, ctx.shape_uniforms);
      p.name += "_group";
      p.node_output = -1;
      passes.push_back(std::move(p));
      next.push_back({-static_cast<int>(passes.size()), len, parts[g].offset});
    }
    parts = std::move(next);
  }
  passes.push_back(concat_pass(y, axis, parts, ctx.shape_uniforms));
  return passes;
}

bool expand_supports(const KernelContext& ctx, std::string* why) {
  if (!held_data(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& y = ctx.outputs[0].shape;
  if (x.size() > y.size()) return decline(why, "input rank exceeds output rank");
  for (size_t d = 0; d < x.size(); ++d)
    if (x[d] != 1 && x[d] != y[y.size() - x.size() + d]) return decline(why, "input does not broadcast");
  return true;
}

Result<std::vector<ProgramInfo>> expand_build(const KernelContext& ctx) {
  ProgramInfo p;
  p.name = "expand";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return getXBroadcast(oc);\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool tile_supports(const KernelContext& ctx, std::string* why) {
  if (!held_data(ctx, why)) return false;
  if (ctx.outputs[0].shape.size() != ctx.inputs[0]->shape.size()) return decline(why, "rank changed");
  for (int64_t d : ctx.inputs[0]->shape)
    if (d == 0) return decline(why, "tiling an empty tensor");
  return true;
}

Result<std::vector<ProgramInfo>> tile_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& y = ctx.outputs[0].shape;
  std::vector<std::string> args;
  for (size_t d = 0; d < x.size(); ++d) {
    std::string o = "oc[" + std::to_string(d) + "]";
    args.push_back(x[d] == y[d] ? o : x[d] == 1 ? "0" : o + " % " + glsl_int(x[d]));
  }
  ProgramInfo p;
  p.name = "tile";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
