// The passes control-flow bodies get (If / Loop / Scan, nested ones too):
// their Constant nodes become initializers, so that the GPU steps around them
// read weights instead of waiting on a CPU node each run, and an activation
// after a Conv or a product fuses into it, as in the main graph, so that a
// body's GPU steps draw no more passes than the main graph's would (Silero
// VAD's decoder branch: its four Conv + Relu).
//
// The fusion reads dtypes. A body's values are inferred with the enclosing
// graphs' values seeded as dtypes alone: with their shapes, a branch that
// never runs (Silero VAD's for the other sample rate) may hold shapes its
// outer values contradict, which must not fail the load. A body whose inference fails
// keeps its nodes as they are. Afterwards the body's value infos are what
// they were (declared ones are not replaced by these shapeless ones), less
// the values a fusion removed.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/core/log.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

ir::ValueInfo dtype_only(const ir::ValueInfo& vi) {
  ir::ValueInfo d;
  d.kind = vi.kind;
  d.dtype = vi.dtype;
  return d;
}

// `scope`: every value of the enclosing graphs, by name, as a dtype.
Status optimize_bodies_in(ir::Graph& g, std::map<std::string, ir::ValueInfo> scope, const OptimizeOptions& options) {
  for (const auto& [name, vi] : g.values) scope[name] = dtype_only(vi);
  for (const auto& [name, t] : g.initializers) scope[name] = dtype_only(ir::ValueInfo::of(t.dtype(), {}));
  for (ir::Node& n : g.nodes)
    for (auto& [attr, a] : n.attrs)
      for (ir::Graph* body : a.subgraphs()) {
        GLINT_RETURN_IF_ERROR(constant_nodes_to_initializers(*body));
        if (options.fuse_activations) {
          std::map<std::string, ir::ValueInfo> declared = body->values;
          std::set<std::string> written;
          for (const ir::Node& m : body->nodes) written.insert(m.outputs.begin(), m.outputs.end());
          for (const auto& [name, vi] : scope)
            if (!body->values.count(name) && !body->initializers.count(name)) body->values[name] = vi;
          const Status inferred = infer_shapes(*body);
          if (inferred.ok()) {
            GLINT_RETURN_IF_ERROR(fuse_activations(*body, options.keep_nodes));
          } else if (debug_logging()) {
            log(LogLevel::kDebug, "body '" + body->name + "' of " + n.describe() +
                                      ": no fusion (its values' dtypes: " + inferred.message() + ")");
          }
          // The declared infos again, less the values no node writes any
          // more (a fused activation's input).
          for (const ir::Node& m : body->nodes)
            for (const std::string& out : m.outputs) written.erase(out);
          for (const std::string& gone : written) declared.erase(gone);
          body->values = std::move(declared);
        }
        GLINT_RETURN_IF_ERROR(optimize_bodies_in(*body, scope, options));
      }
  return Status::Ok();
}

}  // namespace

Status optimize_bodies(ir::Graph& g, const OptimizeOptions& options) { return optimize_bodies_in(g, {}, options); }

}  // namespace glint::passes
