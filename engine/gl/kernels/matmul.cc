// MatMul (numpy semantics: batch dims broadcast, 1-D operands promoted and
// their dim dropped) and Gemm (transA/transB, alpha, beta, C broadcast to
// [M,N]). One output element per fragment; the shared dim in vec4 dot chunks.
#include <functional>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// `acc += ...` statements summing a(k) * b(k) over k in [0, K), 4 at a time.
std::string dot_loop(int64_t K, const std::function<std::string(const std::string&)>& a,
                     const std::function<std::string(const std::string&)>& b) {
  std::string s;
  int64_t k4 = K / 4 * 4;
  if (k4 > 0) {
    s += "  for (int k = 0; k < " + glsl_int(k4) + "; k += 4) {\n";
    s += "    acc += dot(vec4(" + a("k") + ", " + a("k + 1") + ", " + a("k + 2") + ", " + a("k + 3") +
         "),\n               vec4(" + b("k") + ", " + b("k + 1") + ", " + b("k + 2") + ", " +
         b("k + 3") + "));\n  }\n";
  }
  for (int64_t k = k4; k < K; ++k) s += "  acc += " + a(glsl_int(k)) + " * " + b(glsl_int(k)) + ";\n";
  return s;
}

}  // namespace

bool matmul_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "A and B are required");
  if (ctx.inputs[0]->shape.empty() || ctx.inputs[1]->shape.empty())
    return decline(why, "MatMul operands must have rank >= 1");
  return true;
}

Result<std::vector<ProgramInfo>> matmul_build(const KernelContext& ctx) {
  const Shape& a = ctx.inputs[0]->shape;
  const Shape& b = ctx.inputs[1]->shape;
  const Shape& y = ctx.outputs[0].shape;
  int64_t ra = a.size(), rb = b.size(), ro = y.size();
  int64_t ob = ro - (ra >= 2) - (rb >= 2);  // output batch rank
  if (ob < 0) return internal_error("MatMul output rank does not fit its operands");
  int64_t K = a.back();
  if ((rb == 1 ? b[0] : b[rb - 2]) != K) return invalid_argument("MatMul: inner dimensions differ");
  std::string m = ra >= 2 ? "oc[" + std::to_string(ob) + "]" : "";
  std::string n = rb >= 2 ? "oc[" + std::to_string(ro - 1) + "]" : "";

  auto batch_args = [&](const Shape& s) {
    std::vector<std::string> args;
    int64_t sb = s.size() - 2;
    for (int64_t j = 0; j < sb; ++j)
      args.push_back(s[j] == 1 ? "0" : "oc[" + std::to_string(j + ob - sb) + "]");
    return args;
  };
  auto a_at = [&](const std::string& k) {
    if (ra == 1) return getter("A", {k});
    auto args = batch_args(a);
    args.push_back(m);
    args.push_back(k);
    return getter("A", args);
  };
  auto b_at = [&](const std::string& k) {
    if (rb == 1) return getter("B", {k});
    auto args = batch_args(b);
    args.push_back(k);
    args.push_back(n);
    return getter("B", args);
  };
  ProgramInfo p;
  p.name = "matmul";
  p.inputs = {{"A", 0}, {"B", 1}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  float acc = 0.0;\n" + dot_loop(K, a_at, b_at) +
           "  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool gemm_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "A and B are required");
  if (ctx.inputs[0]->shape.size() != 2 || ctx.inputs[1]->shape.size() != 2)
    return decline(why, "Gemm operands must be 2-D");
  return true;
}

Result<std::vector<ProgramInfo>> gemm_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  float alpha = node.attr_float("alpha", 1.f), beta = node.attr_float("beta", 1.f);
  const Shape& a = ctx.inputs[0]->shape;
  int64_t K = ta ? a[0] : a[1];
  bool has_c = node.has_input(2) && ctx.inputs.size() > 2 && ctx.inputs[2] && beta != 0.f;
  auto a_at = [&](const std::string& k) { return ta ? getter("A", {k, "oc[0]"}) : getter("A", {"oc[0]", k}); };
  auto b_at = [&](const std::string& k) { return tb ? getter("B", {"oc[1]", k}) : getter("B", {k, "oc[1]"}); };
  ProgramInfo p;
  p.name = "gemm";
  p.inputs = {{"A", 0}, {"B", 1}};
  if (has_c) p.inputs.push_back({"C", 2});
  p.output = ctx.outputs[0];
  std::string r = alpha == 1.f ? "acc" : glsl_float(alpha) + " * acc";
  if (has_c) r += " + " + (beta == 1.f ? std::string() : glsl_float(beta) + " * ") + "getCBroadcast(oc)";
  p.body = "float process(int oc[OUT_RANK]) {\n  float acc = 0.0;\n" + dot_loop(K, a_at, b_at) +
           "  return " + r + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
