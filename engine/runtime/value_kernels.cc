#include "engine/runtime/value_kernels.h"

#include "engine/runtime/registry.h"

namespace glint {

const std::vector<ValueRow>& value_kernel_table() {
  static const std::vector<ValueRow> table = {
#include "engine/runtime/registry_values.inc"
  };
  return table;
}

const ValueRow* find_value_kernel(const ir::Node& node) {
  std::string d = node.domain == "ai.onnx" ? "" : node.domain;
  for (auto& row : value_kernel_table())
    if (node.op_type == row.op && d == row.domain && node.opset >= row.since && node.opset <= row.until)
      return &row;
  return nullptr;
}

namespace {

class ScopedRunner : public SubgraphRunner {
 public:
  explicit ScopedRunner(ScopeLookup scope) : scope_(std::move(scope)) {}
  Result<std::vector<Value>> run(const ir::Graph& g, const std::vector<Value>& inputs) const override {
    return run_graph_on_cpu(g, inputs, scope_);
  }

 private:
  ScopeLookup scope_;
};

}  // namespace

std::unique_ptr<SubgraphRunner> make_subgraph_runner(ScopeLookup scope) {
  return std::make_unique<ScopedRunner>(std::move(scope));
}

Result<std::vector<Value>> run_graph_on_cpu(const ir::Graph& g, const std::vector<Value>& inputs,
                                            const ScopeLookup& outer) {
  if (inputs.size() != g.inputs.size())
    return invalid_argument("subgraph '" + g.name + "' takes " + std::to_string(g.inputs.size()) + " inputs, got " +
                            std::to_string(inputs.size()));
  std::map<std::string, Value> local;
  for (auto& [name, t] : g.initializers) local[name] = Value::of(t);
  for (size_t i = 0; i < inputs.size(); ++i) local[g.inputs[i]] = inputs[i];
  ScopeLookup lookup = [&local, &outer](const std::string& name) -> const Value* {
    auto it = local.find(name);
    if (it != local.end()) return &it->second;
    return outer ? outer(name) : nullptr;
  };
  ScopedRunner runner(lookup);
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  for (size_t idx : order) {
    const ir::Node& n = g.nodes[idx];
    std::vector<const Value*> in;
    bool all_tensors = true;
    for (auto& name : n.inputs) {
      if (name.empty()) { in.push_back(nullptr); continue; }
      const Value* v = lookup(name);
      if (v == nullptr) return invalid_model(n.describe() + ": reads '" + name + "', which is not defined");
      if (!v->is_tensor()) all_tensors = false;
      in.push_back(v);
    }
    std::vector<Value> out(n.outputs.size());
    const ValueRow* vk = find_value_kernel(n);
    const CpuCandidate* ck = find_cpu_kernel(n);
    if (vk && (!all_tensors || !ck)) {
      Status s = vk->run(n, in, out, runner);
      if (!s.ok()) return s;
    } else if (ck) {
      if (!all_tensors) return invalid_argument(n.describe() + ": expects tensors, got a sequence or optional");
      std::vector<const Tensor*> tin;
      for (auto* v : in) tin.push_back(v ? &v->tensor : nullptr);
      std::vector<Tensor> tout(n.outputs.size());
      Status s = ck->run(n, tin, tout);
      if (!s.ok()) return s.message().find(n.describe()) == std::string::npos ? s.with_context(n.describe()) : s;
      for (size_t i = 0; i < tout.size(); ++i) out[i] = Value::of(std::move(tout[i]));
    } else {
      return unsupported(n.describe() + ": no CPU kernel for this op inside a subgraph");
    }
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (n.has_output(i)) local[n.outputs[i]] = std::move(out[i]);
  }
  std::vector<Value> results;
  for (auto& name : g.outputs) {
    const Value* v = lookup(name);
    if (v == nullptr) return invalid_model("subgraph '" + g.name + "' output '" + name + "' is not computed");
    results.push_back(*v);
  }
  return results;
}

}  // namespace glint
