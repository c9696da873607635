#include <map>
#include <memory>
#include <optional>
#include <set>

#include "engine/core/log.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"
#include "engine/registry/op_table.h"

namespace glint::passes {

namespace {
// Ops whose result is not a function of their inputs, or which carry subgraphs.
const std::set<std::string> kNeverFold = {
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli",
    "Multinomial", "Loop", "If", "Scan"};
// Folding must not blow a small model up: a constant larger than this stays a node.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 24;
}  // namespace

Status fold_constants(ir::Graph& g) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  std::set<std::string> graph_outputs(g.outputs.begin(), g.outputs.end());
  std::vector<bool> folded(g.nodes.size(), false);
  for (size_t idx : order) {
    const ir::Node& n = g.nodes[idx];
    if (!n.domain.empty() || kNeverFold.count(n.op_type)) continue;
    if (n.op_type == "Dropout" && n.has_input(2)) continue;  // training mode draws random masks
    bool all_const = true;
    for (auto& in : n.inputs)
      if (!in.empty() && !g.is_constant(in)) all_const = false;
    // Shape and Size read only their input's shape: when shape inference
    // knows it statically they fold too, which keeps the shape arithmetic
    // after them (Reshape targets, ConstantOfShape) off the run-time path.
    std::optional<Tensor> shape_only;
    if (!all_const && n.reads_only_input_shape() && n.has_input(0)) {
      const ir::ValueInfo* vi = g.info(n.inputs[0]);
      if (vi && vi->kind == ir::TypeKind::kTensor && vi->fully_known() && vi->dtype != DataType::kUndefined &&
          vi->dtype != DataType::kString) {
        // A tensor with the static shape and no storage: these kernels never read data.
        shape_only = Tensor::shape_only(vi->dtype, vi->concrete());
        all_const = true;
      }
    }
    if (!all_const) continue;
    bool output_is_graph_output = false;
    for (auto& o : n.outputs) if (graph_outputs.count(o)) output_is_graph_output = true;
    const CpuCandidate* k = find_cpu_kernel(n);
    if (k == nullptr) continue;
    std::vector<const Tensor*> ins;
    for (auto& in : n.inputs) ins.push_back(in.empty() ? nullptr : shape_only ? &*shape_only : &g.initializers.at(in));
    std::vector<Tensor> outs(n.outputs.size());
    Status s = Status::Ok();
    try {
      s = k->run(n, ins, outs);
    } catch (const TensorTooLarge& e) {
      s = invalid_argument(e.what());  // too large to fold: the run reports it, naming the node
    }
    if (!s.ok()) {
      // A node that fails on constants fails at run time too; report it there,
      // with the run's context, rather than refusing the model here.
      log(LogLevel::kDebug, "not folding " + n.describe() + ": " + s.message());
      continue;
    }
    bool small = true;
    for (auto& t : outs) if (t.size() > kMaxFoldedElements) small = false;
    if (!small || output_is_graph_output) continue;
    for (size_t i = 0; i < outs.size(); ++i) {
      if (!n.has_output(i)) continue;
      g.values[n.outputs[i]] = ir::ValueInfo::of(outs[i]);
      g.initializers[n.outputs[i]] = std::move(outs[i]);
    }
    folded[idx] = true;
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!folded[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  return Status::Ok();
}

namespace {

// Constants a graph's bodies can see: its own initializers over those of the
// scopes around it.
using ConstantScope = std::map<std::string, const Tensor*>;

// The graphs `n`'s attributes carry (If's branches, Loop's and Scan's body).
std::vector<std::shared_ptr<ir::Graph>> bodies_of(const ir::Node& n) {
  std::vector<std::shared_ptr<ir::Graph>> bodies;
  for (const auto& [name, a] : n.attrs) {
    bodies.insert(bodies.end(), a.graphs.begin(), a.graphs.end());
    if (a.g) bodies.push_back(a.g);
  }
  return bodies;
}

Status fold_bodies_of(ir::Graph& g, const ConstantScope& outer) {
  ConstantScope scope = outer;
  for (auto& [name, t] : g.initializers) scope[name] = &t;
  for (ir::Node& n : g.nodes) {
    const std::vector<std::shared_ptr<ir::Graph>> bodies = bodies_of(n);
    if (bodies.empty()) continue;
    for (const auto& body : bodies) {
      // The enclosing constants the body reads become its own (a tensor
      // copy shares the storage), so that its nodes on them fold.
      for (const std::string& v : ir::free_values(*body)) {
        auto it = scope.find(v);
        if (it == scope.end()) continue;
        body->initializers.emplace(v, *it->second);
        if (!body->values.count(v)) body->values[v] = ir::ValueInfo::of(*it->second);
      }
      GLINT_RETURN_IF_ERROR(fold_constants(*body));
      GLINT_RETURN_IF_ERROR(fold_bodies_of(*body, scope));
      // Constants no node of the body reads any more (the weights its
      // folded nodes sliced) go: a run binds every initializer.
      std::set<std::string> constants;
      for (const auto& [name, t] : body->initializers) constants.insert(name);
      erase_unread_initializers(*body, constants);
    }
    // What the bodies still read from outside (weights they read only to
    // slice or reorder are read no more: the outer graph may drop them).
    n.implicit_inputs.clear();
    for (const auto& body : bodies)
      for (auto& v : ir::free_values(*body)) n.implicit_inputs.push_back(v);
  }
  return Status::Ok();
}

}  // namespace

Status fold_body_constants(ir::Graph& g) { return fold_bodies_of(g, {}); }

Status remove_dead_nodes(ir::Graph& g) {
  std::set<std::string> live(g.outputs.begin(), g.outputs.end());
  std::vector<bool> keep(g.nodes.size(), false);
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const ir::Node& n = g.nodes[*it];
    bool used = false;
    for (auto& o : n.outputs) if (!o.empty() && live.count(o)) used = true;
    if (!used) continue;
    keep[*it] = true;
    for (auto& in : n.inputs) if (!in.empty()) live.insert(in);
    for (auto& in : n.implicit_inputs) live.insert(in);
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    if (!live.count(it->first)) it = g.initializers.erase(it);
    else ++it;
  }
  return Status::Ok();
}

}  // namespace glint::passes
