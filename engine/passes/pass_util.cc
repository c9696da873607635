#include "engine/passes/pass_util.h"

namespace glint::passes {

ValueIndex::ValueIndex(ir::Graph& g) : g_(g) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    for (auto& o : n.outputs)
      if (!o.empty()) { producer_[o] = i; names_.insert(o); }
    for (auto& in : n.inputs)
      if (!in.empty()) { readers_[in] += 1; names_.insert(in); }
    for (auto& in : n.implicit_inputs) readers_[in] += 1;
  }
  for (auto& o : g.outputs) { readers_[o] += 1; names_.insert(o); }
  names_.insert(g.inputs.begin(), g.inputs.end());
  for (auto& [name, t] : g.initializers) names_.insert(name);
  for (auto& [name, vi] : g.values) names_.insert(name);
}

size_t ValueIndex::producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? kNone : it->second;
}

int ValueIndex::readers(const std::string& value) const {
  auto it = readers_.find(value);
  return it == readers_.end() ? 0 : it->second;
}

std::string ValueIndex::fresh_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
  names_.insert(name);
  return name;
}

void ValueIndex::rename_output(size_t node, size_t output, const std::string& name) {
  std::string& o = g_.nodes[node].outputs[output];
  producer_.erase(o);
  o = name;
  producer_[name] = node;
  names_.insert(name);
}

bool is_matmul_product(const ir::Node& n) {
  return (n.op_type == "MatMul" && n.domain.empty()) || (n.op_type == "FusedMatMul" && n.domain == "com.microsoft");
}

void make_fused_matmul(ir::Node& mm) {
  mm.op_type = "FusedMatMul";
  mm.domain = "com.microsoft";
  mm.opset = 1;
}

bool is_kept(const ir::Node& n, const std::set<std::string>& keep) {
  if (keep.empty()) return false;
  return keep.count(n.name) || (n.name.empty() && !n.outputs.empty() && keep.count(n.outputs[0]));
}

size_t private_producer(const ir::Graph& g, const ValueIndex& index, const std::string& x) {
  const size_t p = index.producer(x);
  if (p == ValueIndex::kNone || g.nodes[p].outputs.empty() || g.nodes[p].outputs[0] != x || index.readers(x) != 1)
    return ValueIndex::kNone;
  return p;
}

void absorb_into_producer(ir::Graph& g, ValueIndex& index, size_t p, size_t idx, std::vector<bool>& removed) {
  const std::string x = g.nodes[p].outputs[0];
  index.rename_output(p, 0, g.nodes[idx].outputs[0]);
  g.values.erase(x);
  removed[idx] = true;
}

Status fold_into_producers(ir::Graph& g, const std::set<std::string>& keep,
                           const std::function<std::vector<int>(const ir::Node& n)>& inputs,
                           const std::function<bool(const ir::Node& n, int input, ir::Node& producer)>& attach) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    const ir::Node& n = g.nodes[idx];
    if (is_kept(n, keep)) continue;
    for (int i : inputs(n)) {
      // A graph output or a value with other readers must stay as it is.
      const size_t p = private_producer(g, index, n.inputs[i]);
      if (p == ValueIndex::kNone || !attach(n, i, g.nodes[p])) continue;
      absorb_into_producer(g, index, p, idx, removed);
      break;
    }
  }
  erase_nodes(g, removed);
  return Status::Ok();
}

void erase_nodes(ir::Graph& g, const std::vector<bool>& removed) {
  std::vector<ir::Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

void erase_unread_initializers(ir::Graph& g, const std::set<std::string>& names) {
  std::set<std::string> read(g.outputs.begin(), g.outputs.end());
  for (auto& n : g.nodes) {
    read.insert(n.inputs.begin(), n.inputs.end());
    read.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  }
  for (auto& name : names)
    if (!read.count(name)) {
      g.initializers.erase(name);
      g.values.erase(name);
    }
}

std::map<std::string, std::vector<size_t>> constants_read_only_by(
    const ir::Graph& g, const std::function<bool(const ir::Node&, size_t input)>& takes) {
  std::map<std::string, std::vector<size_t>> readers;
  std::set<std::string> other_use(g.outputs.begin(), g.outputs.end());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.inputs[k].empty() || !g.is_constant(n.inputs[k])) continue;
      if (takes(n, k)) readers[n.inputs[k]].push_back(i);
      else other_use.insert(n.inputs[k]);
    }
    for (const std::string& in : n.implicit_inputs) other_use.insert(in);
  }
  for (const std::string& name : other_use) readers.erase(name);
  return readers;
}

}  // namespace glint::passes
