// Det (LU with partial pivoting) and Einsum (any equation, with ellipsis and
// implicit output; a direct loop over all labels, in double).
#include <algorithm>
#include <cmath>
#include <map>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_det(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                 const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  const size_t r = x.dims.size();
  if (r < 2 || (x.dims[r - 1].known() && x.dims[r - 2].known() && x.dims[r - 1].value != x.dims[r - 2].value))
    return node_error(node, "input " + x.describe() + " must be [..., M, M]");
  outputs[0].dims.resize(r - 2);
  return Status::Ok();
}

Status det(const ir::Node& node, const std::vector<const Tensor*>& inputs,
           std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype())) return node_unsupported(node, "dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_det, node, inputs, outputs));
  const int64_t M = x.shape().back();
  std::vector<double> a(static_cast<size_t>(M * M));
  for (int64_t m = 0; m < outputs[0].size(); ++m) {
    for (int64_t i = 0; i < M * M; ++i) a[i] = x.get_as_double(m * M * M + i);
    double d = 1;
    for (int64_t c = 0; c < M && d != 0; ++c) {
      int64_t p = c;
      for (int64_t r = c + 1; r < M; ++r)
        if (std::fabs(a[r * M + c]) > std::fabs(a[p * M + c])) p = r;
      if (a[p * M + c] == 0) { d = 0; break; }
      if (p != c) {
        for (int64_t k = 0; k < M; ++k) std::swap(a[p * M + k], a[c * M + k]);
        d = -d;
      }
      d *= a[c * M + c];
      for (int64_t r = c + 1; r < M; ++r) {
        const double f = a[r * M + c] / a[c * M + c];
        for (int64_t k = c; k < M; ++k) a[r * M + k] -= f * a[c * M + k];
      }
    }
    outputs[0].set_from_double(m, d);
  }
  return Status::Ok();
}

namespace {

struct EinsumPlan {
  std::vector<std::vector<int>> in_labels;  // per input, label id per axis
  std::vector<int> out_labels;
  std::vector<int64_t> label_dim;           // per label id
};

// Parses the equation against the input shapes; ellipsis dims get their own
// label ids (broadcast right-aligned across inputs).
Status einsum_plan(const ir::Node& node, const std::vector<Shape>& shapes, EinsumPlan* plan) {
  std::string eq = node.attr_string("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != shapes.size())
    return node_error(node, "equation '" + eq + "' has " + std::to_string(terms.size()) + " operands but the node has " +
                                std::to_string(shapes.size()) + " inputs");
  std::map<char, int> ids;
  size_t ell_rank = 0;
  for (size_t t = 0; t < terms.size(); ++t) {
    const size_t letters = terms[t].size() - (terms[t].find("...") != std::string::npos ? 3 : 0);
    if (terms[t].find("...") != std::string::npos) {
      if (shapes[t].size() < letters) return node_error(node, "operand " + std::to_string(t) + " has too few dims");
      ell_rank = std::max(ell_rank, shapes[t].size() - letters);
    } else if (letters != shapes[t].size()) {
      return node_error(node, "operand " + std::to_string(t) + " '" + terms[t] + "' does not match shape " +
                                  shape_str(shapes[t]));
    }
  }
  // Ellipsis labels first: ids 0..ell_rank-1.
  plan->label_dim.assign(ell_rank, 1);
  // Ellipsis dims broadcast like numpy.
  auto set_dim = [&](int id, int64_t d) -> Status {
    int64_t& cur = plan->label_dim[id];
    if (cur == 1) cur = d;
    else if (d != 1 && d != cur)
      return node_error(node, "ellipsis dims of equation '" + eq + "' do not broadcast");
    return Status::Ok();
  };
  plan->in_labels.assign(terms.size(), {});
  for (size_t t = 0; t < terms.size(); ++t) {
    const std::string& term = terms[t];
    size_t axis = 0;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.compare(i, 3, "...") == 0) {
        const size_t n = shapes[t].size() - (term.size() - 3);
        for (size_t e = 0; e < n; ++e) {
          const int id = static_cast<int>(ell_rank - n + e);
          plan->in_labels[t].push_back(id);
          GLINT_RETURN_IF_ERROR(set_dim(id, shapes[t][axis++]));
        }
        i += 2;
        continue;
      }
      const char ch = term[i];
      if (!std::isalpha(static_cast<unsigned char>(ch)))
        return node_error(node, "invalid character in equation '" + eq + "'");
      if (!ids.count(ch)) {
        ids[ch] = static_cast<int>(plan->label_dim.size());
        plan->label_dim.push_back(shapes[t][axis]);
      } else if (plan->label_dim[ids[ch]] != shapes[t][axis]) {
        if (plan->label_dim[ids[ch]] == 1) plan->label_dim[ids[ch]] = shapes[t][axis];
        else if (shapes[t][axis] != 1)
          return node_error(node, std::string("label '") + ch + "' has sizes " +
                                      std::to_string(plan->label_dim[ids[ch]]) + " and " +
                                      std::to_string(shapes[t][axis]));
      }
      plan->in_labels[t].push_back(ids[ch]);
      ++axis;
    }
  }
  plan->out_labels.clear();
  if (arrow != std::string::npos) {
    const std::string rhs = eq.substr(arrow + 2);
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (rhs.compare(i, 3, "...") == 0) {
        for (size_t e = 0; e < ell_rank; ++e) plan->out_labels.push_back(static_cast<int>(e));
        i += 2;
        continue;
      }
      if (!ids.count(rhs[i])) return node_error(node, std::string("output label '") + rhs[i] + "' is not in any input");
      plan->out_labels.push_back(ids[rhs[i]]);
    }
  } else {
    for (size_t e = 0; e < ell_rank; ++e) plan->out_labels.push_back(static_cast<int>(e));
    std::map<char, int> count;
    for (auto& t : terms) for (char ch : t) if (std::isalpha(static_cast<unsigned char>(ch))) ++count[ch];
    for (auto& [ch, n] : count) if (n == 1) plan->out_labels.push_back(ids[ch]);
  }
  return Status::Ok();
}

}  // namespace

Status infer_einsum(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0].dtype = inputs[0]->dtype;
  std::vector<Shape> shapes;
  for (auto* v : inputs) {
    if (!v || !v->fully_known()) { outputs[0].has_shape = false; return Status::Ok(); }
    shapes.push_back(v->concrete());
  }
  EinsumPlan plan;
  GLINT_RETURN_IF_ERROR(einsum_plan(node, shapes, &plan));
  Shape out;
  for (int id : plan.out_labels) out.push_back(plan.label_dim[id]);
  outputs[0] = ir::ValueInfo::of(inputs[0]->dtype, out);
  return Status::Ok();
}

Status einsum(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  for (auto* t : inputs)
    if (!t || (!is_float(t->dtype()) && !is_integer(t->dtype())))
      return node_unsupported(node, "Einsum needs numeric inputs");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_einsum, node, inputs, outputs));
  std::vector<Shape> shapes;
  for (auto* t : inputs) shapes.push_back(t->shape());
  EinsumPlan plan;
  GLINT_RETURN_IF_ERROR(einsum_plan(node, shapes, &plan));
  const size_t L = plan.label_dim.size();
  // Strides of each input and of the output per label (0 where absent or broadcast).
  std::vector<std::vector<int64_t>> in_st(inputs.size(), std::vector<int64_t>(L, 0));
  for (size_t t = 0; t < inputs.size(); ++t) {
    auto st = shape_strides(shapes[t]);
    for (size_t a = 0; a < shapes[t].size(); ++a)
      if (shapes[t][a] != 1) in_st[t][plan.in_labels[t][a]] += st[a];
  }
  std::vector<int64_t> out_st(L, 0);
  auto ost = shape_strides(outputs[0].shape());
  for (size_t a = 0; a < plan.out_labels.size(); ++a) out_st[plan.out_labels[a]] = ost[a];
  int64_t total = 1;
  for (int64_t d : plan.label_dim) total *= d;
  std::vector<double> acc(static_cast<size_t>(outputs[0].size()), 0.0);
  std::vector<int64_t> idx(L, 0), off(inputs.size(), 0);
  int64_t o = 0;
  for (int64_t it = 0; it < total; ++it) {
    double p = 1;
    for (size_t t = 0; t < inputs.size(); ++t) p *= inputs[t]->get_as_double(off[t]);
    acc[o] += p;
    for (int64_t l = static_cast<int64_t>(L) - 1; l >= 0; --l) {
      for (size_t t = 0; t < inputs.size(); ++t) off[t] += in_st[t][l];
      o += out_st[l];
      if (++idx[l] < plan.label_dim[l]) break;
      for (size_t t = 0; t < inputs.size(); ++t) off[t] -= in_st[t][l] * plan.label_dim[l];
      o -= out_st[l] * plan.label_dim[l];
      idx[l] = 0;
    }
  }
  for (int64_t i = 0; i < outputs[0].size(); ++i) outputs[0].set_from_double(i, acc[i]);
  return Status::Ok();
}

}  // namespace glint::cpu
