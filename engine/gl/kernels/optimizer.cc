// The training optimizers of ai.onnx.preview.training (Adagrad, Momentum,
// Adam) as one elementwise pass per output, following the CPU kernel's
// formulas: inputs R, T, then n tensors each of X, G and the states;
// outputs the new X's, then the new states.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {
int states_of(const std::string& op) { return op == "Adam" ? 2 : 1; }
}  // namespace

bool optimizer_supports(const KernelContext& ctx, std::string* why) {
  const size_t groups = 2 + states_of(ctx.node->op_type);
  if (ctx.inputs.size() < 2 + groups || (ctx.inputs.size() - 2) % groups != 0)
    return decline(why, "inputs are not R, T and groups of tensors");
  for (auto& in : ctx.inputs)
    if (!in) return decline(why, "an input is missing");
  if (shape_size(ctx.inputs[0]->shape) != 1 || shape_size(ctx.inputs[1]->shape) != 1)
    return decline(why, "R and T must be scalars");
  const size_t n = (ctx.inputs.size() - 2) / groups;
  for (size_t k = 0; k < n; ++k)
    for (size_t g = 1; g < groups; ++g)
      if (ctx.inputs[2 + g * n + k]->shape != ctx.inputs[2 + k]->shape) return decline(why, "group shapes differ");
  if (!input_is_float(ctx, 2, why)) return false;
  return all_gpu_dtypes(ctx, why);
}

Result<std::vector<ProgramInfo>> optimizer_build(const KernelContext& ctx) {
  const ir::Node& nd = *ctx.node;
  const std::string& op = nd.op_type;
  const size_t groups = 2 + states_of(op), n = (ctx.inputs.size() - 2) / groups;
  auto f = [&](const char* a, float d) { return glsl_float(nd.attr_float(a, d)); };
  std::vector<ProgramInfo> passes;
  for (size_t out = 0; out < ctx.outputs.size() && out < n * (groups - 1); ++out) {
    if (!nd.has_output(out)) continue;
    const size_t group = out / n, k = out % n;
    ProgramInfo p;
    p.name = "optimizer_" + op;
    p.inputs = {{"R", 0}, {"T", 1}, {"X", static_cast<int>(2 + k)}, {"G", static_cast<int>(2 + n + k)},
                {"S1", static_cast<int>(2 + 2 * n + k)}};
    if (op == "Adam") p.inputs.push_back({"S2", static_cast<int>(2 + 3 * n + k)});
    p.output = ctx.outputs[out];
    p.node_output = static_cast<int>(out);
    std::string b = "float process(int oc[OUT_RANK]) {\n  int i = " + flat_index_expr(ctx.outputs[out].shape, "oc") +
                    ";\n  float R = getRFlat(0), T = getTFlat(0);\n  float x = getXFlat(i);\n  float g = " +
                    f("norm_coefficient", 0.f) + " * x + getGFlat(i);\n  float s1 = getS1Flat(i);\n";
    if (op == "Adagrad") {
      b += "  float h = s1 + g * g;\n";
      b += group == 0 ? "  float r = R / (1.0 + T * " + f("decay_factor", 0.f) + ");\n  return x - r * g / (sqrt(h) + " +
                            f("epsilon", 1e-6f) + ");\n"
                      : "  return h;\n";
    } else if (op == "Momentum") {
      const std::string alpha = f("alpha", 0.f), beta = f("beta", 0.f);
      b += "  float v = " + alpha + " * s1 + (T == 0.0 ? 1.0 : " + beta + ") * g;\n";
      if (group == 0) {
        b += nd.attr_string("mode", "standard") == "nesterov" ? "  return x - R * (g + " + alpha + " * v);\n"
                                                              : "  return x - R * v;\n";
      } else {
        b += "  return v;\n";
      }
    } else {
      const std::string alpha = f("alpha", 0.9f), beta = f("beta", 0.999f);
      b += "  float v = " + alpha + " * s1 + (1.0 - " + alpha + ") * g;\n  float h = " + beta + " * getS2Flat(i) + (1.0 - " +
           beta + ") * g * g;\n";
      if (group == 0) {
        b += "  float r = T > 0.0 ? R * sqrt(1.0 - pow(" + beta + ", T)) / (1.0 - pow(" + alpha + ", T)) : R;\n" +
             std::string("  float xn = x - r * v / (sqrt(h) + ") + f("epsilon", 1e-6f) + ");\n  return (1.0 - " +
             f("norm_coefficient_post", 0.f) + ") * xn;\n";
      } else {
        b += group == 1 ? "  return v;\n" : "  return h;\n";
      }
    }
    p.body = b + "}\n";
    passes.push_back(p);
  }
  return passes;
}

}  // namespace glint::gl
