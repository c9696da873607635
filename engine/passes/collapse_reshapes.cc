// A chain of nodes that only re-shape a tensor (Reshape, Flatten, Squeeze,
// Unsqueeze, and a Transpose that moves only dims of size 1, which keeps
// the elements' order) becomes one Reshape to the chain's last static
// shape. A decode step splits each head out of [1, 1, 384] with a Reshape
// to [1, 1, 6, 64] and a Transpose to [1, 6, 1, 64], and joins them back
// the same way: on the GPU each of those is a pass (the rank-4 side is
// channel-packed, so no free view), on the CPU the Transpose is a copy.
// With this, one pass where there were two, 24 fewer in a 6-layer model.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// The static shape of `v` when it has rank 1 or more, every dim known and
// none 0 (a Reshape target's 0 would copy the input's dim instead), else
// empty.
std::vector<int64_t> static_shape(const ir::Graph& g, const std::string& v) {
  const ir::ValueInfo* info = g.info(v);
  if (info == nullptr || info->kind != ir::TypeKind::kTensor || !info->has_shape || !info->fully_known()) return {};
  std::vector<int64_t> s = info->concrete();
  for (int64_t d : s)
    if (d <= 0) return {};
  return s;
}

// A Transpose whose permutation keeps the dims larger than 1 in their order:
// the flat order of the elements does not change.
bool transpose_keeps_order(const ir::Graph& g, const ir::Node& n) {
  if (n.op_type != "Transpose" || !n.has_attr("perm") || n.inputs.size() != 1 || !n.has_input(0)) return false;
  const std::vector<int64_t> in = static_shape(g, n.inputs[0]);
  const std::vector<int64_t> perm = n.attr_ints("perm");
  if (in.empty() || perm.size() != in.size()) return false;
  int64_t last = -1;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size())) return false;
    if (in[p] == 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

// `n` only re-shapes its input 0 into its output 0, which has a static shape.
bool reshapes_only(const ir::Graph& g, const ir::Node& n) {
  if (!n.domain.empty() || n.outputs.size() != 1 || !n.has_output(0) || n.inputs.empty() || !n.has_input(0) ||
      !n.implicit_inputs.empty() || static_shape(g, n.outputs[0]).empty())
    return false;
  if (n.op_type == "Reshape" || n.op_type == "Flatten" || n.op_type == "Squeeze" || n.op_type == "Unsqueeze")
    return true;
  return transpose_keeps_order(g, n);
}

}  // namespace

Status collapse_reshapes(ir::Graph& g, const std::set<std::string>& keep) {
  const auto opset = g.opsets.find("");
  if (opset == g.opsets.end() || opset->second < 5) return Status::Ok();  // Reshape takes its shape as an input
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::vector<bool> removed(g.nodes.size(), false);
  // Node `idx` becomes Reshape(x) to its output's static shape.
  auto make_reshape = [&](size_t idx, const std::string& x) {
    ir::Node& n = g.nodes[idx];
    const std::vector<int64_t> shape = static_shape(g, n.outputs[0]);
    Tensor target = Tensor::from_int64s(Shape{static_cast<int64_t>(shape.size())}, shape);
    const std::string target_name = index.fresh_name(n.outputs[0] + "_shape");
    g.values[target_name] = ir::ValueInfo::of(target);
    g.initializers[target_name] = std::move(target);
    n.op_type = "Reshape";
    n.opset = static_cast<int>(opset->second);
    n.attrs.clear();
    n.inputs = {x, target_name};
  };
  for (size_t idx : order) {
    ir::Node& n = g.nodes[idx];
    if (!reshapes_only(g, n) || is_kept(n, keep)) continue;
    // The chain so far: a re-shaping producer that writes n's input for n alone.
    const size_t p = private_producer(g, index, n.inputs[0]);
    const bool chained = p != ValueIndex::kNone && !is_kept(g.nodes[p], keep) &&
                         ((g.nodes[p].op_type == "Reshape" && g.nodes[p].domain.empty()) || reshapes_only(g, g.nodes[p]));
    if (chained) {
      const std::string source = g.nodes[p].inputs[0];
      absorb_into_producer(g, index, p, idx, removed);
      make_reshape(p, source);
    } else if (n.op_type == "Transpose") {
      make_reshape(idx, n.inputs[0]);
    }
  }
  erase_nodes(g, removed);
  // The old nodes' shape and axes inputs, and whatever computed them at run
  // time, may have no reader left.
  return remove_dead_nodes(g);
}

}  // namespace glint::passes
