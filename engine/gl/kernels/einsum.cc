// Einsum without ellipsis (matmuls, batched matmuls, transposes, traces,
// diagonals, inner / outer products, sums): each output element loops over
// the summed labels (baked extents) and multiplies the operands' elements.
// The implicit form's output is the labels used once, in alphabetical order.
#include <algorithm>
#include <cctype>
#include <map>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

struct EinsumSpec {
  std::vector<std::string> terms;
  std::string out;
  std::map<char, int64_t> dim;
};

bool parse_einsum(const KernelContext& ctx, EinsumSpec* e, std::string* why) {
  std::string eq = ctx.node->attr_string("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  if (eq.find("...") != std::string::npos) return decline(why, "ellipsis in the equation");
  const size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    e->terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (e->terms.size() != ctx.inputs.size()) return decline(why, "operand count differs from the inputs");
  std::map<char, int> uses;
  for (size_t t = 0; t < e->terms.size(); ++t) {
    if (!ctx.inputs[t] || ctx.inputs[t]->shape.size() != e->terms[t].size())
      return decline(why, "operand " + std::to_string(t) + " does not match its term");
    for (size_t i = 0; i < e->terms[t].size(); ++i) {
      char c = e->terms[t][i];
      if (!std::isalpha(static_cast<unsigned char>(c))) return decline(why, "bad label in the equation");
      int64_t d = ctx.inputs[t]->shape[i];
      auto it = e->dim.find(c);
      if (it != e->dim.end() && it->second != d) return decline(why, std::string("label ") + c + " has two extents");
      e->dim[c] = d;
      ++uses[c];
    }
  }
  if (arrow != std::string::npos) {
    e->out = eq.substr(arrow + 2);
    for (char c : e->out)
      if (!e->dim.count(c)) return decline(why, std::string("output label ") + c + " is not an input label");
  } else {
    for (auto& [c, n] : uses)
      if (n == 1) e->out += c;
  }
  if (e->out.size() != ctx.outputs[0].shape.size()) return decline(why, "output rank differs from the equation");
  return true;
}

}  // namespace

bool einsum_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() > 15) return decline(why, "more than 15 operands (sampler limit)");
  EinsumSpec e;
  return parse_einsum(ctx, &e, why);
}

Result<std::vector<ProgramInfo>> einsum_build(const KernelContext& ctx) {
  EinsumSpec e;
  std::string why;
  if (!parse_einsum(ctx, &e, &why)) return unsupported(why);
  ProgramInfo p;
  p.name = "einsum";
  p.output = ctx.outputs[0];
  std::string b = "float process(int oc[OUT_RANK]) {\n";
  for (size_t j = 0; j < e.out.size(); ++j) b += std::string("  int L_") + e.out[j] + " = oc[" + std::to_string(j) + "];\n";
  std::string summed;
  for (auto& [c, d] : e.dim)
    if (e.out.find(c) == std::string::npos) summed += c;
  b += "  float acc = 0.0;\n";
  std::string ind = "  ";
  for (char c : summed) {
    std::string v = std::string("L_") + c;
    b += ind + "for (int " + v + " = 0; " + v + " < " + glsl_int(e.dim[c]) + "; ++" + v + ") {\n";
    ind += "  ";
  }
  std::string prod;
  for (size_t t = 0; t < e.terms.size(); ++t) {
    std::string name = "T" + std::to_string(t);
    p.inputs.push_back({name, static_cast<int>(t)});
    std::vector<std::string> args;
    for (char c : e.terms[t]) args.push_back(std::string("L_") + c);
    prod += (t ? " * " : "") + getter(name, args);
  }
  b += ind + "acc += " + prod + ";\n";
  for (size_t i = 0; i < summed.size(); ++i) {
    ind.resize(ind.size() - 2);
    b += ind + "}\n";
  }
  p.body = b + "  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
