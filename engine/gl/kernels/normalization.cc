// BatchNormalization (inference form: running statistics), the statistics-
// based norms InstanceNormalization / LayerNormalization (with its optional
// Mean / InvStdDev outputs) as a statistics pass (mean and variance) ->
// normalising map over contiguous rows, and LRN.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool batchnorm_supports(const KernelContext& ctx, std::string* why) {
  const ir::Node& n = *ctx.node;
  if (!float_op(ctx, why)) return false;
  for (size_t i = 0; i < 5; ++i)
    if (i >= ctx.inputs.size() || !ctx.inputs[i]) return decline(why, "BatchNormalization needs 5 inputs");
  const bool training = n.opset >= 14 && n.attr_int("training_mode", 0) != 0;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.has_output(i) && !training) return decline(why, "running mean/var outputs outside training mode");
  // is_test (opset < 7) is ignored: glint is an inference engine, like its CPU kernel.
  if (n.opset < 9 && n.attr_int("spatial", 1) == 0) return decline(why, "spatial=0 has no GPU kernel");
  if (ctx.inputs[0]->shape.size() < 2) return decline(why, "X must have rank >= 2");
  int64_t c = ctx.inputs[0]->shape[1];
  for (size_t i = 1; i < 5; ++i)
    if (shape_size(ctx.inputs[i]->shape) != c) return decline(why, "scale/B/mean/var must hold C values");
  return true;
}

namespace {

// training_mode=1: normalise with the batch statistics (a mean pass and a
// population-variance pass per channel) and write the running statistics
// blended with `momentum`, as the CPU kernel does.
std::vector<ProgramInfo> batchnorm_training(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t N = x[0], C = x[1], inner = shape_size(x) / std::max<int64_t>(N * C, 1);
  const int64_t count = std::max<int64_t>(N * inner, 1);
  const std::string eps = glsl_float(n.attr_float("epsilon", 1e-5f)), mom = glsl_float(n.attr_float("momentum", 0.9f));
  const std::string loop = "  for (int t = 0; t < " + glsl_int(N * inner) + "; ++t) {\n    int nn = t / " +
                           glsl_int(inner) + ";\n    float v = getXFlat((nn * " + glsl_int(C) + " + c) * " + glsl_int(inner) +
                           " + t - nn * " + glsl_int(inner) + ");\n";
  TensorDesc stat{DataType::kFloat32, {C}};
  ProgramInfo mean;
  mean.name = "batchnorm_batch_mean";
  mean.inputs = {{"X", 0}};
  mean.output = stat;
  mean.node_output = -1;
  mean.body = "float process(int oc[OUT_RANK]) {\n  int c = oc[0];\n  float acc = 0.0;\n" + loop +
              "    acc += v;\n  }\n  return acc / " + glsl_float(static_cast<double>(count)) + ";\n}\n";
  ProgramInfo var;
  var.name = "batchnorm_batch_var";
  var.inputs = {{"X", 0}, {"M", -1}};
  var.output = stat;
  var.node_output = -1;
  var.body = "float process(int oc[OUT_RANK]) {\n  int c = oc[0];\n  float m = getMFlat(c);\n  float acc = 0.0;\n" + loop +
             "    acc += (v - m) * (v - m);\n  }\n  return acc / " + glsl_float(static_cast<double>(count)) + ";\n}\n";
  ProgramInfo y;
  y.name = "batchnorm_training";
  y.inputs = {{"X", 0}, {"Scale", 1}, {"B", 2}, {"M", -1}, {"V", -2}};
  y.output = ctx.outputs[0];
  y.body = "float process(int oc[OUT_RANK]) {\n  int c = oc[1];\n  return (" + getter_oc("X", x.size()) +
           " - getMFlat(c)) * (getScaleFlat(c) / sqrt(getVFlat(c) + " + eps + ")) + getBFlat(c);\n}\n";
  std::vector<ProgramInfo> passes{mean, var, y};
  for (int o = 1; o <= 2; ++o) {
    if (!n.has_output(o) || static_cast<size_t>(o) >= ctx.outputs.size()) continue;
    ProgramInfo r;
    r.name = o == 1 ? "batchnorm_running_mean" : "batchnorm_running_var";
    r.inputs = {{"R", 2 + o}, {"S", o == 1 ? -1 : -2}};
    r.output = ctx.outputs[o];
    r.node_output = o;
    r.body = "float process(int oc[OUT_RANK]) {\n  return getRFlat(oc[0]) * " + mom + " + getSFlat(oc[0]) * (1.0 - " + mom +
             ");\n}\n";
    passes.push_back(r);
  }
  return passes;
}

}  // namespace

Result<std::vector<ProgramInfo>> batchnorm_build(const KernelContext& ctx) {
  if (ctx.node->opset >= 14 && ctx.node->attr_int("training_mode", 0) != 0) return batchnorm_training(ctx);
  float eps = ctx.node->attr_float("epsilon", 1e-5f);
  ProgramInfo p;
  p.name = "batchnorm";
  p.inputs = {{"X", 0}, {"Scale", 1}, {"B", 2}, {"Mean", 3}, {"Var", 4}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  int c = oc[1];\n  float x = " +
           getter_oc("X", ctx.inputs[0]->shape.size()) +
           ";\n  float k = getScaleFlat(c) / sqrt(getVarFlat(c) + " + glsl_float(eps) +
           ");\n  return (x - getMeanFlat(c)) * k + getBFlat(c);\n}\n";
  return std::vector<ProgramInfo>{p};
}

namespace {

// The mean and variance of `rows` contiguous rows of `d` elements of
// `x_source` (a node input, or an earlier pass: ProgramInput::source), drawn
// as pass `first` (and `first` + 1) of the node. Later passes read them with
// getMeanFlat(r) / getVarFlat(r): add `inputs` to theirs and put `accessors`
// before their body. `rms`: the mean is taken as 0 (the "variance" is the
// mean square, as RMS norms use).
//
// One pass writes both, as a [rows, 2] temporary: a norm is then two draws,
// not three (a draw costs about as much as a small row's arithmetic: a
// GPT-style decode step draws 13 norms). The variance's fragment takes the
// mean again rather than read it: the same sum in the same order, so the
// statistics are those two passes gave. When the mean is a node output
// (`mean_out`: LayerNormalization's Mean), it has that output's shape and
// gets its own pass.
struct RowStats {
  std::vector<ProgramInfo> passes;
  std::vector<ProgramInput> inputs;
  std::string accessors;
};

RowStats row_stats(int64_t rows, int64_t d, const TensorDesc* mean_out = nullptr, int mean_node_output = -1,
                   int x_source = 0, int first = 0, bool rms = false) {
  const std::string count = glsl_float(static_cast<double>(d));
  auto at = [](const std::string& i) { return "getXFlat(base + " + i + ")"; };
  const std::string mean_sum =
      rms ? "  float m = 0.0;\n" : "  float s = 0.0;\n" + vec4_sum(d, at, "s") + "  float m = s / " + count + ";\n";
  const std::string var_sum = "  float acc = 0.0;\n" + vec4_sum(d, at, "acc", "v - m", "v - m") + "  return acc / " +
                              count + ";\n}\n";
  RowStats out;
  if (!mean_out) {
    ProgramInfo stats;
    stats.name = "row_stats";
    stats.inputs = {{"X", x_source}};
    stats.output = TensorDesc{DataType::kFloat32, {rows, 2}};
    stats.node_output = -1;
    stats.body = "float process(int oc[OUT_RANK]) {\n  int base = oc[0] * " + glsl_int(d) + ";\n" + mean_sum +
                 "  if (oc[1] == 0) return m;\n" + var_sum;
    out.passes = {stats};
    out.inputs = {{"Stats", -(first + 1)}};
    out.accessors = "float getMeanFlat(int r) { return getStatsFlat(2 * r); }\n"
                    "float getVarFlat(int r) { return getStatsFlat(2 * r + 1); }\n";
    return out;
  }
  ProgramInfo mean;
  mean.name = "row_mean";
  mean.inputs = {{"X", x_source}};
  mean.output = *mean_out;
  mean.node_output = mean_node_output;
  mean.body = "float process(int oc[OUT_RANK]) {\n  int base = (" + flat_index_expr(mean_out->shape, "oc") + ") * " +
              glsl_int(d) + ";\n" + mean_sum + "  return m;\n}\n";
  ProgramInfo var;
  var.name = "row_var";
  var.inputs = {{"X", x_source}, {"Mean", -(first + 1)}};
  var.output = TensorDesc{DataType::kFloat32, {rows}};
  var.node_output = -1;
  var.body = "float process(int oc[OUT_RANK]) {\n  int r = oc[0];\n  int base = r * " + glsl_int(d) +
             ";\n  float m = getMeanFlat(r);\n" + var_sum;
  out.passes = {mean, var};
  out.inputs = {{"Mean", -(first + 1)}, {"Var", -(first + 2)}};
  return out;
}

}  // namespace

bool instancenorm_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 3 || !ctx.inputs[1] || !ctx.inputs[2]) return decline(why, "scale and B are required");
  if (ctx.inputs[0]->shape.size() < 3) return decline(why, "X must have rank >= 3");
  const Shape& x = ctx.inputs[0]->shape;
  return loop_fits(shape_size(Shape(x.begin() + 2, x.end())), "the statistics of a channel", why);
}

Result<std::vector<ProgramInfo>> instancenorm_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  int64_t rows = x[0] * x[1], d = shape_size(x) / std::max<int64_t>(rows, 1);
  float eps = ctx.node->attr_float("epsilon", 1e-5f);
  RowStats stats = row_stats(rows, d);
  std::vector<ProgramInfo> passes = stats.passes;
  ProgramInfo p;
  p.name = "instancenorm";
  p.inputs = {{"X", 0}, {"Scale", 1}, {"B", 2}};
  p.inputs.insert(p.inputs.end(), stats.inputs.begin(), stats.inputs.end());
  p.output = ctx.outputs[0];
  p.body = stats.accessors + "float process(int oc[OUT_RANK]) {\n  int r = oc[0] * " + glsl_int(x[1]) +
           " + oc[1];\n  float x = " + getter_oc("X", x.size()) +
           ";\n  return (x - getMeanFlat(r)) / sqrt(getVarFlat(r) + " + glsl_float(eps) +
           ") * getScaleFlat(oc[1]) + getBFlat(oc[1]);\n}\n";
  passes.push_back(p);
  return passes;
}

bool layernorm_supports(const KernelContext& ctx, std::string* why) {
  const ir::Node& n = *ctx.node;
  if (!float_op(ctx, why)) return false;
  for (size_t i = 1; i < 3 && i < ctx.outputs.size(); ++i)
    if (n.has_output(i) && ctx.outputs[i].dtype != DataType::kFloat32 && ctx.outputs[i].dtype != DataType::kFloat16)
      return decline(why, "Mean/InvStdDev output is " + dtype_name(ctx.outputs[i].dtype));
  int64_t rank = ctx.inputs[0]->shape.size();
  int64_t axis = normalize_axis(n.attr_int("axis", -1), rank);
  if (axis < 0) return decline(why, "axis out of range");
  const Shape& x = ctx.inputs[0]->shape;
  int64_t d = shape_size(Shape(x.begin() + axis, x.end()));
  for (size_t i = 1; i < 3; ++i)
    if (i < ctx.inputs.size() && ctx.inputs[i] && shape_size(ctx.inputs[i]->shape) != d)
      return decline(why, "Scale/B must cover the whole normalised block (no broadcasting)");
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "Scale is required");
  return loop_fits(d, "the statistics of a block of " + std::to_string(d), why);
}

Result<std::vector<ProgramInfo>> layernorm_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  int64_t axis = normalize_axis(n.attr_int("axis", -1), x.size());
  int64_t d = shape_size(Shape(x.begin() + axis, x.end()));
  int64_t rows = shape_size(x) / std::max<int64_t>(d, 1);
  float eps = n.attr_float("epsilon", 1e-5f);
  bool has_b = ctx.inputs.size() > 2 && ctx.inputs[2];
  bool want_mean = n.has_output(1), want_inv = n.has_output(2);
  RowStats stats = row_stats(rows, d, want_mean ? &ctx.outputs[1] : nullptr, 1);
  std::vector<ProgramInfo> passes = stats.passes;
  if (want_inv) {
    // InvStdDev (output 2), shaped like Mean: one value per row.
    ProgramInfo inv;
    inv.name = "layernorm_invstd";
    inv.inputs = stats.inputs;
    inv.output = ctx.outputs[2];
    inv.node_output = 2;
    inv.body = stats.accessors + "float process(int oc[OUT_RANK]) {\n  return 1.0 / sqrt(getVarFlat(" +
               flat_index_expr(ctx.outputs[2].shape, "oc") + ") + " + glsl_float(eps) + ");\n}\n";
    passes.push_back(inv);
  }
  ProgramInfo p;
  p.name = "layernorm";
  p.inputs = {{"X", 0}, {"Scale", 1}};
  p.inputs.insert(p.inputs.end(), stats.inputs.begin(), stats.inputs.end());
  if (has_b) p.inputs.push_back({"B", 2});
  p.output = ctx.outputs[0];
  p.body = stats.accessors + "float process(int oc[OUT_RANK]) {\n  int fi = " + flat_index_expr(x, "oc") +
           ";\n  int r = fi / " + glsl_int(d) + ";\n  int j = fi - r * " + glsl_int(d) +
           ";\n  float y = (getXFlat(fi) - getMeanFlat(r)) / sqrt(getVarFlat(r) + " + glsl_float(eps) +
           ") * getScaleFlat(j);\n  return " + (has_b ? "y + getBFlat(j)" : "y") + ";\n}\n";
  passes.push_back(p);
  return passes;
}

// Skip ops: input, skip, gamma, beta (not Simplified), bias; outputs Y,
// mean, inv_std_var, input_skip_bias_sum. SimplifiedLayerNormalization: X,
// scale (axis attribute); outputs Y, inv_std_var. The norm is over the last
// dim (or from `axis`), RMS for the Simplified ones.
namespace {
struct SkipNormInputs {
  bool skip_op = false, rms = false;
  int gamma = 1, beta = -1, bias = -1;
  int mean_out = -1, inv_out = -1, sum_out = -1;
};
SkipNormInputs skip_norm_inputs(const ir::Node& n) {
  SkipNormInputs s;
  s.skip_op = n.op_type != "SimplifiedLayerNormalization";
  s.rms = n.op_type != "SkipLayerNormalization";
  if (!s.skip_op) {
    s.inv_out = 1;
    return s;
  }
  s.gamma = 2;
  if (s.rms) {
    s.bias = 3;
  } else {
    s.beta = 3;
    s.bias = 4;
  }
  s.mean_out = 1;  // zeros for the RMS one, as its CPU kernel writes
  s.inv_out = 2;
  s.sum_out = 3;
  return s;
}
bool has(const KernelContext& ctx, int i) { return i >= 0 && static_cast<size_t>(i) < ctx.inputs.size() && ctx.inputs[i]; }
}  // namespace

bool skip_layernorm_supports(const KernelContext& ctx, std::string* why) {
  const ir::Node& n = *ctx.node;
  if (!float_op(ctx, why)) return false;
  const SkipNormInputs in = skip_norm_inputs(n);
  const Shape& x = ctx.inputs[0]->shape;
  if (x.empty()) return decline(why, "a scalar input");
  int64_t axis = static_cast<int64_t>(x.size()) - 1;
  if (!in.skip_op) axis = normalize_axis(n.attr_int("axis", -1), x.size());
  if (axis < 0) return decline(why, "axis out of range");
  const int64_t d = shape_size(Shape(x.begin() + axis, x.end()));
  if (!has(ctx, in.gamma)) return decline(why, "gamma is missing");
  for (int i : {in.gamma, in.beta, in.bias})
    if (has(ctx, i) && shape_size(ctx.inputs[i]->shape) != d)
      return decline(why, "gamma/beta/bias must hold one value per normalised element");
  if (in.skip_op && !has(ctx, 1)) return decline(why, "skip is missing");
  for (size_t o = 1; o < ctx.outputs.size(); ++o)
    if (n.has_output(o) && static_cast<int>(o) != in.sum_out && ctx.outputs[o].dtype != DataType::kFloat32)
      return decline(why, "a statistics output is " + dtype_name(ctx.outputs[o].dtype));
  return loop_fits(d, "the statistics of a block of " + std::to_string(d), why);
}

Result<std::vector<ProgramInfo>> skip_layernorm_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const SkipNormInputs in = skip_norm_inputs(n);
  const Shape& x = ctx.inputs[0]->shape;
  int64_t axis = static_cast<int64_t>(x.size()) - 1;
  if (!in.skip_op) axis = normalize_axis(n.attr_int("axis", -1), x.size());
  const int64_t d = shape_size(Shape(x.begin() + axis, x.end()));
  const int64_t rows = shape_size(x) / std::max<int64_t>(d, 1);
  const float eps = n.attr_float("epsilon", in.skip_op ? 1e-12f : 1e-5f);
  std::vector<ProgramInfo> passes;
  int x_source = 0;
  if (in.skip_op) {
    // Pass 0: input + skip (+ bias), a node output when it is asked for.
    ProgramInfo sum;
    sum.name = "skip_sum";
    sum.inputs = {{"X", 0}, {"Skip", 1}};
    std::string e = "getXBroadcast(oc) + getSkipBroadcast(oc)";
    if (has(ctx, in.bias)) {
      sum.inputs.push_back({"Bias", in.bias});
      e += " + getBiasBroadcast(oc)";
    }
    const bool want_sum = n.has_output(in.sum_out);
    sum.output = want_sum ? ctx.outputs[in.sum_out] : TensorDesc{DataType::kFloat32, x};
    sum.node_output = want_sum ? in.sum_out : -1;
    sum.body = "float process(int oc[OUT_RANK]) {\n  return " + e + ";\n}\n";
    passes.push_back(sum);
    x_source = -1;
  }
  const int first = static_cast<int>(passes.size());
  const bool want_mean = in.mean_out > 0 && n.has_output(in.mean_out);
  RowStats stats =
      row_stats(rows, d, want_mean ? &ctx.outputs[in.mean_out] : nullptr, in.mean_out, x_source, first, in.rms);
  passes.insert(passes.end(), stats.passes.begin(), stats.passes.end());
  if (n.has_output(in.inv_out)) {
    ProgramInfo inv;
    inv.name = "skip_layernorm_invstd";
    inv.inputs = stats.inputs;
    inv.output = ctx.outputs[in.inv_out];
    inv.node_output = in.inv_out;
    inv.body = stats.accessors + "float process(int oc[OUT_RANK]) {\n  return 1.0 / sqrt(getVarFlat(" +
               flat_index_expr(ctx.outputs[in.inv_out].shape, "oc") + ") + " + glsl_float(eps) + ");\n}\n";
    passes.push_back(inv);
  }
  ProgramInfo p;
  p.name = in.rms ? "rms_norm" : "skip_layernorm";
  p.inputs = {{"X", x_source}, {"Gamma", in.gamma}};
  p.inputs.insert(p.inputs.end(), stats.inputs.begin(), stats.inputs.end());
  if (has(ctx, in.beta)) p.inputs.push_back({"Beta", in.beta});
  p.output = ctx.outputs[0];
  p.node_output = 0;
  p.body = stats.accessors + "float process(int oc[OUT_RANK]) {\n  int fi = " + flat_index_expr(x, "oc") + ";\n  int r = fi / " +
           glsl_int(d) + ";\n  int j = fi - r * " + glsl_int(d) + ";\n  float y = (getXFlat(fi) - getMeanFlat(r)) / sqrt(getVarFlat(r) + " +
           glsl_float(eps) + ") * getGammaFlat(j);\n  return " + (has(ctx, in.beta) ? "y + getBetaFlat(j)" : "y") +
           ";\n}\n";
  passes.push_back(p);
  return passes;
}

}  // namespace glint::gl

namespace glint::gl {

// LRN across channels: x / (bias + alpha / size * sum of squares in the
// channel window)^beta, the window [c - floor((size-1)/2), c + ceil((size-1)/2)].
bool lrn_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs[0]->shape.size() < 3) return decline(why, "X must have rank >= 3");
  if (ctx.node->attr_int("size", 0) < 1) return decline(why, "size must be >= 1");
  return true;
}

Result<std::vector<ProgramInfo>> lrn_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  int64_t size = n.attr_int("size", 1);
  float alpha = n.attr_float("alpha", 1e-4f), beta = n.attr_float("beta", 0.75f), bias = n.attr_float("bias", 1.f);
  std::vector<std::string> args;
  for (size_t d = 0; d < x.size(); ++d) args.push_back(d == 1 ? "cc" : "oc[" + std::to_string(d) + "]");
  ProgramInfo p;
  p.name = "lrn";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  float acc = 0.0;\n  for (int j = 0; j < " + glsl_int(size) +
           "; ++j) {\n    int cc = oc[1] - " + glsl_int((size - 1) / 2) + " + j;\n    if (cc < 0 || cc >= " +
           glsl_int(x[1]) + ") continue;\n    float v = " + getter("X", args) + ";\n    acc += v * v;\n  }\n" +
           "  return " + getter_oc("X", x.size()) + " / pow(" + glsl_float(bias) + " + " +
           glsl_float(static_cast<double>(alpha) / static_cast<double>(size)) + " * acc, " + glsl_float(beta) +
           ");\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
