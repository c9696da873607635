// glint info: what the model is, and where each node runs and why.
#include <cstdio>
#include <map>

#include "bindings/native/cli.h"
#include "engine/gl/device_limits.h"

namespace glint::cli {

int cmd_info(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"backend", "force-cpu", "memory-cap"}, {});
  if (!args.ok()) return fail(args.status());
  if (args->positional.size() != 1) return fail(invalid_argument("info needs exactly one MODEL.onnx"));
  auto opts = session_options(*args);
  if (!opts.ok()) return fail(opts.status());
  auto session = Session::create_from_file(args->positional[0], *opts);
  if (!session.ok()) return fail(session.status());
  const Session& s = *session.value();
  const ir::Graph& g = s.graph();

  std::printf("model: %s\n", args->positional[0].c_str());
  std::printf("ir_version: %lld, opsets:", static_cast<long long>(g.ir_version));
  for (auto& [d, v] : g.opsets) std::printf(" %s=%lld", d.empty() ? "ai.onnx" : d.c_str(), static_cast<long long>(v));
  std::printf("\nbackend: %s, renderer: %s\n", backend_mode_name(s.backend()).c_str(), s.renderer().c_str());
  if (auto caps = s.gpu_caps())
    std::printf("device limits: %s%s\n", gl::describe_limits(*caps).c_str(),
                caps->imposed_limits.empty() ? "" : (" (imposed: " + caps->imposed_limits + ")").c_str());
  for (auto& io : s.inputs()) std::printf("input  %s: %s\n", io.name.c_str(), io.info.describe().c_str());
  for (auto& io : s.outputs()) std::printf("output %s: %s\n", io.name.c_str(), io.info.describe().c_str());
  std::printf("constants: %zu initializers after folding\n", g.initializers.size());

  std::map<std::string, int> ops;
  int on_gpu = 0;
  for (auto& p : s.placements()) {
    ops[p.op]++;
    on_gpu += p.gpu ? 1 : 0;
  }
  std::printf("ops:");
  for (auto& [op, count] : ops) std::printf(" %s x%d", op.c_str(), count);
  std::printf("\n\n%-32s %-22s %-4s %-20s %s\n", "node", "op", "on", "kernel", "why not GPU");
  for (auto& p : s.placements()) {
    std::printf("%-32s %-22s %-4s %-20s %s\n", p.node.c_str(), p.op.c_str(), p.gpu ? "GPU" : "CPU", p.kernel.c_str(),
                p.reason.c_str());
    // GPU candidates asked before the winner (or all of them, for a node on
    // the CPU), and why each declined.
    for (auto& d : p.declined)
      std::printf("%-32s %-22s %-4s %-20s declined: %s\n", "", "", "", d.candidate.c_str(), d.reason.c_str());
  }
  const plan::Plan& plan = s.plan();
  int downloads = 0, uploads = 0;
  for (auto& t : plan.transfers) (t.to_gpu ? uploads : downloads)++;
  std::printf("\n%d of %zu nodes on the GPU, %zu on the CPU\n", on_gpu, s.placements().size(),
              s.placements().size() - on_gpu);
  std::printf("transfers: %d uploads (feeds and constants included), %d downloads to CPU nodes\n", uploads, downloads);
  if (plan.memory_budget > 0)
    std::printf("texture memory budget: %.1f MiB\n", static_cast<double>(plan.memory_budget) / (1 << 20));
  return 0;
}

}  // namespace glint::cli
