// Ops that exporters write out as chains of basic ops become the op again.
//
// A LayerNorm, as torch.onnx exports it below opset 17, becomes one
// LayerNormalization node:
//
//   m = ReduceMean(x, last axis)   d = Sub(x, m)   p = Pow(d, 2)
//   v = ReduceMean(p, last axis)   s = Sqrt(Add(v, eps))   n = Div(d, s)
//   [y = Mul(n, gamma)]  [z = Add(y, beta)]          (gamma, beta: [C] constants)
//
// Nine nodes, nine passes over the activation on the GPU and nine kernel
// calls on the CPU become one (a BERT-style encoder has two per layer). The
// same arithmetic: the mean, the mean of squared deviations, eps added
// before the root.
//
// The exact (erf) GELU, x * 0.5 * (1 + erf(x / sqrt 2)), five nodes in
// torch's export, becomes com.microsoft Gelu, which computes that formula.
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

constexpr size_t kNone = ValueIndex::kNone;

// The float value of a one-element float constant.
bool scalar_constant(const ir::Graph& g, const std::string& name, double* v) {
  if (!g.is_constant(name)) return false;
  const Tensor& t = g.initializers.at(name);
  if (!is_float(t.dtype()) || t.size() != 1) return false;
  *v = t.get_as_double(0);
  return true;
}

// A [C] float constant of x's dtype (LayerNormalization's Scale and B).
bool channel_constant(const ir::Graph& g, const std::string& name, int64_t channels, DataType dtype) {
  if (!g.is_constant(name)) return false;
  const Tensor& t = g.initializers.at(name);
  return t.dtype() == dtype && t.rank() == 1 && t.shape()[0] == channels;
}

// ReduceMean over the last axis of a rank-`rank` input, dims kept.
bool last_axis_mean(const ir::Graph& g, const ir::Node& n, int64_t rank) {
  if (n.op_type != "ReduceMean" || !n.domain.empty() || !n.has_input(0) || n.attr_int("keepdims", 1) != 1)
    return false;
  std::vector<int64_t> axes;
  if (n.opset < 18) {
    axes = n.attr_ints("axes");
  } else {
    if (!n.has_input(1) || !g.is_constant(n.inputs[1])) return false;
    const Tensor& t = g.initializers.at(n.inputs[1]);
    for (int64_t i = 0; i < t.size(); ++i) axes.push_back(t.get_as_int64(i));
  }
  return axes.size() == 1 && (axes[0] == -1 || axes[0] == rank - 1);
}

// The input of a two-input op that is not `name` ("" when there is none).
std::string other_input(const ir::Node& n, const std::string& name) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == name) return n.inputs[1];
  if (n.inputs[1] == name) return n.inputs[0];
  return "";
}

bool is_op(const ir::Node& n, const char* op, size_t inputs) {
  return n.op_type == op && n.domain.empty() && n.inputs.size() == inputs && n.outputs.size() == 1;
}

// The one node reading a value, when nothing else reads it (no other node,
// no graph output), else kNone: what lets a chain be followed forward.
class SoleConsumer {
 public:
  SoleConsumer(const ir::Graph& g, const ValueIndex& index) : index_(index) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const std::string& in : g.nodes[i].inputs)
        if (!in.empty()) consumers_[in].push_back(i);
  }
  size_t operator()(const std::string& v) const {
    auto it = consumers_.find(v);
    if (index_.readers(v) != 1 || it == consumers_.end() || it->second.size() != 1) return kNone;
    return it->second[0];
  }

 private:
  const ValueIndex& index_;
  std::map<std::string, std::vector<size_t>> consumers_;
};

}  // namespace

Status fuse_layer_norm(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  // Extends the chain forward, past the Div to the affine Mul and Add.
  const SoleConsumer sole_consumer(g, index);
  // The node writing `v` when only `readers` reads of v exist.
  auto producer_of = [&](const std::string& v, int readers) -> size_t {
    return index.readers(v) == readers ? index.producer(v) : kNone;
  };
  std::vector<bool> removed(g.nodes.size(), false);
  std::set<std::string> dropped_constants;
  for (size_t idx : order) {
    if (removed[idx]) continue;
    const ir::Node& div = g.nodes[idx];
    if (!is_op(div, "Div", 2)) continue;
    const std::string d = div.inputs[0];
    const size_t sqrt = producer_of(div.inputs[1], 1);
    if (sqrt == kNone || !is_op(g.nodes[sqrt], "Sqrt", 1)) continue;
    const size_t add_eps = producer_of(g.nodes[sqrt].inputs[0], 1);
    if (add_eps == kNone || !is_op(g.nodes[add_eps], "Add", 2)) continue;
    const ir::Node& ae = g.nodes[add_eps];
    double eps = 0;
    std::string v;
    if (scalar_constant(g, ae.inputs[1], &eps)) v = ae.inputs[0];
    else if (scalar_constant(g, ae.inputs[0], &eps)) v = ae.inputs[1];
    else continue;
    const size_t var = producer_of(v, 1);
    const size_t sub = index.producer(d);
    if (var == kNone || sub == kNone || !is_op(g.nodes[sub], "Sub", 2)) continue;
    const std::string x = g.nodes[sub].inputs[0];
    const ir::ValueInfo* xi = g.info(x);
    if (xi == nullptr || !xi->has_shape || xi->dims.empty() || !xi->dims.back().known()) continue;
    if (xi->dtype != DataType::kFloat32 && xi->dtype != DataType::kFloat16) continue;
    const int64_t rank = static_cast<int64_t>(xi->dims.size()), channels = xi->dims.back().value;
    if (!last_axis_mean(g, g.nodes[var], rank)) continue;
    const size_t square = producer_of(g.nodes[var].inputs[0], 1);
    if (square == kNone) continue;
    const ir::Node& sq = g.nodes[square];
    double exponent = 0;
    const bool is_square = (is_op(sq, "Pow", 2) && sq.inputs[0] == d && scalar_constant(g, sq.inputs[1], &exponent) &&
                            exponent == 2.0) ||
                           (is_op(sq, "Mul", 2) && sq.inputs[0] == d && sq.inputs[1] == d);
    // d is read by the square (once by Pow, twice by Mul) and by the Div.
    if (!is_square || index.readers(d) != (sq.op_type == "Mul" ? 3 : 2)) continue;
    const size_t mean = producer_of(g.nodes[sub].inputs[1], 1);
    if (mean == kNone || !last_axis_mean(g, g.nodes[mean], rank) || g.nodes[mean].inputs[0] != x) continue;
    std::vector<size_t> chain = {mean, sub, square, var, add_eps, sqrt, idx};
    // The affine part, when a Mul and then an Add by [C] constants follow.
    std::string gamma, beta;
    size_t last = idx;
    const size_t mul = sole_consumer(div.outputs[0]);
    if (mul != kNone && is_op(g.nodes[mul], "Mul", 2)) {
      const std::string c = other_input(g.nodes[mul], div.outputs[0]);
      if (channel_constant(g, c, channels, xi->dtype)) {
        gamma = c;
        last = mul;
        chain.push_back(mul);
        const size_t add = sole_consumer(g.nodes[mul].outputs[0]);
        if (add != kNone && is_op(g.nodes[add], "Add", 2)) {
          const std::string b = other_input(g.nodes[add], g.nodes[mul].outputs[0]);
          if (channel_constant(g, b, channels, xi->dtype)) {
            beta = b;
            last = add;
            chain.push_back(add);
          }
        }
      }
    }
    bool kept = false;
    for (size_t n : chain) kept = kept || is_kept(g.nodes[n], keep) || removed[n];
    if (kept) continue;
    if (gamma.empty()) {
      gamma = index.fresh_name(x + "_layernorm_scale");
      Tensor ones(xi->dtype, {channels});
      for (int64_t c = 0; c < channels; ++c) ones.set_from_double(c, 1.0);
      g.initializers[gamma] = ones;
    }
    for (size_t n : chain)
      for (const std::string& in : g.nodes[n].inputs)
        if (g.is_constant(in) && in != gamma && in != beta) dropped_constants.insert(in);
    // The last node of the chain becomes the LayerNormalization, so the
    // output keeps its name; the others go.
    ir::Node& ln = g.nodes[last];
    ln.op_type = "LayerNormalization";
    ln.domain.clear();
    ln.opset = 17;
    ln.inputs = {x, gamma};
    if (!beta.empty()) ln.inputs.push_back(beta);
    ln.attrs.clear();
    ir::Attribute axis;
    axis.kind = ir::Attribute::Kind::kInt;
    axis.i = -1;
    ln.attrs["axis"] = axis;
    ir::Attribute epsilon;
    epsilon.kind = ir::Attribute::Kind::kFloat;
    epsilon.f = static_cast<float>(eps);
    ln.attrs["epsilon"] = epsilon;
    for (size_t n : chain)
      if (n != last) removed[n] = true;
  }
  erase_nodes(g, removed);
  erase_unread_initializers(g, dropped_constants);
  return Status::Ok();
}

Status fuse_gelu(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  const SoleConsumer sole_consumer(g, index);
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b); };
  std::vector<bool> removed(g.nodes.size(), false);
  std::set<std::string> dropped_constants;
  for (size_t idx : order) {
    const ir::Node& erf = g.nodes[idx];
    if (removed[idx] || !is_op(erf, "Erf", 1) || index.readers(erf.inputs[0]) != 1) continue;
    // x / sqrt(2) or x * (1 / sqrt(2)).
    const size_t scale = index.producer(erf.inputs[0]);
    if (scale == kNone) continue;
    const ir::Node& sc = g.nodes[scale];
    double c = 0;
    const bool scaled = (is_op(sc, "Div", 2) && scalar_constant(g, sc.inputs[1], &c) && near(c, std::sqrt(2.0))) ||
                        (is_op(sc, "Mul", 2) && scalar_constant(g, sc.inputs[1], &c) && near(c, std::sqrt(0.5)));
    if (!scaled) continue;
    const std::string x = sc.inputs[0];
    const ir::ValueInfo* xi = g.info(x);
    if (xi == nullptr || (xi->dtype != DataType::kFloat32 && xi->dtype != DataType::kFloat16)) continue;
    // 1 + erf(..).
    const size_t plus = sole_consumer(erf.outputs[0]);
    if (plus == kNone || !is_op(g.nodes[plus], "Add", 2)) continue;
    if (!scalar_constant(g, other_input(g.nodes[plus], erf.outputs[0]), &c) || c != 1.0) continue;
    // Then x * that * 0.5, in either order: (x * a) * 0.5 or (x * 0.5) * a.
    const std::string a = g.nodes[plus].outputs[0];
    const size_t mul = sole_consumer(a);
    if (mul == kNone || !is_op(g.nodes[mul], "Mul", 2)) continue;
    const std::string m_other = other_input(g.nodes[mul], a);
    std::vector<size_t> chain = {scale, idx, plus, mul};
    size_t last = kNone;
    if (m_other == x) {
      const size_t half = sole_consumer(g.nodes[mul].outputs[0]);
      if (half != kNone && is_op(g.nodes[half], "Mul", 2) &&
          scalar_constant(g, other_input(g.nodes[half], g.nodes[mul].outputs[0]), &c) && c == 0.5) {
        chain.push_back(half);
        last = half;
      }
    } else {
      const size_t half = index.readers(m_other) == 1 ? index.producer(m_other) : kNone;
      if (half != kNone && is_op(g.nodes[half], "Mul", 2) && other_input(g.nodes[half], x) != "" &&
          scalar_constant(g, other_input(g.nodes[half], x), &c) && c == 0.5) {
        chain.push_back(half);
        last = mul;
      }
    }
    if (last == kNone) continue;
    bool kept = false;
    for (size_t n : chain) kept = kept || is_kept(g.nodes[n], keep) || removed[n];
    if (kept) continue;
    for (size_t n : chain)
      for (const std::string& in : g.nodes[n].inputs)
        if (g.is_constant(in)) dropped_constants.insert(in);
    ir::Node& gelu = g.nodes[last];
    gelu.op_type = "Gelu";
    gelu.domain = "com.microsoft";
    gelu.opset = 1;
    gelu.inputs = {x};
    gelu.attrs.clear();
    for (size_t n : chain)
      if (n != last) removed[n] = true;
  }
  erase_nodes(g, removed);
  erase_unread_initializers(g, dropped_constants);
  return Status::Ok();
}

}  // namespace glint::passes
