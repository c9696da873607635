#include <set>

#include "engine/passes/passes.h"

namespace glint::passes {

namespace {
// Dropout is an identity at inference unless its mask output is read or
// training_mode (opset 12+ input 2) could be true. Exporters often name the
// mask output without reading it.
bool is_passthrough(const ir::Node& n, const std::set<std::string>& read) {
  if (!n.domain.empty()) return false;
  if (n.op_type == "Identity") return n.inputs.size() == 1 && n.has_input(0);
  if (n.op_type == "Dropout")
    return n.has_input(0) && !(n.has_output(1) && read.count(n.outputs[1])) && !n.has_input(2);
  return false;
}
}  // namespace

Status remove_identity(ir::Graph& g) {
  std::set<std::string> graph_outputs(g.outputs.begin(), g.outputs.end());
  std::set<std::string> read(g.outputs.begin(), g.outputs.end());
  for (auto& n : g.nodes) {
    read.insert(n.inputs.begin(), n.inputs.end());
    read.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  }
  std::map<std::string, std::string> rename;  // removed output -> its source
  std::vector<ir::Node> kept;
  for (auto& n : g.nodes) {
    if (!is_passthrough(n, read) || !n.has_output(0)) {
      kept.push_back(std::move(n));
      continue;
    }
    const std::string& out = n.outputs[0];
    std::string in = n.inputs[0];
    while (rename.count(in)) in = rename[in];
    if (graph_outputs.count(out)) {
      // The output name is part of the model's contract: keep the node unless
      // its producer can be renamed to the output name.
      bool renamed = false;
      if (!graph_outputs.count(in)) {
        for (auto& p : kept) {
          for (auto& o : p.outputs)
            if (o == in) { o = out; renamed = true; }
        }
      }
      if (!renamed) {
        kept.push_back(std::move(n));
        continue;
      }
      rename[in] = out;
      continue;
    }
    rename[out] = in;
  }
  for (auto& n : kept)
    for (auto& in : n.inputs)
      while (rename.count(in)) in = rename[in];
  g.nodes = std::move(kept);
  return Status::Ok();
}

}  // namespace glint::passes
