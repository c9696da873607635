#include <algorithm>

#include "engine/core/tuning.h"
#include "engine/plan/kernel_context.h"
#include "engine/plan/plan.h"

namespace glint {

std::string backend_mode_name(BackendMode m) {
  switch (m) {
    case BackendMode::kDefault: return "default";
    case BackendMode::kGpu: return "gpu";
    case BackendMode::kCpu: return "cpu";
  }
  return "?";
}

Result<BackendMode> parse_backend_mode(const std::string& s) {
  if (s == "default" || s == "auto") return BackendMode::kDefault;
  if (s == "gpu" || s == "webgl") return BackendMode::kGpu;
  if (s == "cpu" || s == "wasm") return BackendMode::kCpu;
  return invalid_argument("unknown backend '" + s + "' (expected gpu, cpu or default)");
}

namespace plan {

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::kGpu: return "GPU";
    case Placement::kCpu: return "CPU";
    case Placement::kValue: return "value";
  }
  return "?";
}

size_t Plan::gpu_steps() const {
  return static_cast<size_t>(std::count_if(steps.begin(), steps.end(),
                                           [](const Step& s) { return s.placement == Placement::kGpu; }));
}

namespace {

std::string dtypes_of(const ir::Graph& g, const ir::Node& n) {
  std::string s;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (i) s += ", ";
    const ir::ValueInfo* vi = n.inputs[i].empty() ? nullptr : g.info(n.inputs[i]);
    s += vi ? vi->describe() : "absent";
  }
  return s;
}

// Value ids for every name the graph mentions, inputs and initializers first.
void number_values(const ir::Graph& g, Plan& p) {
  // The id of `name`, numbered on first sight. Every id is made here, before
  // the per-value vectors below are sized (the loader gives graph inputs and
  // outputs names, but a graph made in code might not).
  auto id_of = [&p](const std::string& name) {
    auto [it, fresh] = p.ids.emplace(name, static_cast<int>(p.names.size()));
    if (fresh) p.names.push_back(name);
    return it->second;
  };
  auto add = [&id_of](const std::string& name) {
    if (!name.empty()) id_of(name);
  };
  for (auto& name : g.inputs) p.inputs.push_back(id_of(name));
  for (auto& [name, t] : g.initializers) add(name);
  for (auto& n : g.nodes) {
    for (auto& name : n.inputs) add(name);
    for (auto& name : n.implicit_inputs) add(name);
    for (auto& name : n.outputs) add(name);
  }
  for (auto& name : g.outputs) p.outputs.push_back(id_of(name));
  p.constant.assign(p.names.size(), false);
  p.produced.assign(p.names.size(), false);
  for (auto& [name, t] : g.initializers)
    if (!name.empty()) p.constant[id_of(name)] = true;
  for (auto& n : g.nodes)
    for (auto& o : n.outputs)
      if (!o.empty()) p.produced[id_of(o)] = true;
  std::vector<bool> defined = p.produced;
  for (int id : p.inputs) defined[id] = true;
  for (size_t id = 0; id < p.names.size(); ++id)
    if (!defined[id] && !p.constant[id]) p.outer.push_back(static_cast<int>(id));
}

std::vector<int> ids_of(const Plan& p, const std::vector<std::string>& names) {
  std::vector<int> out;
  for (auto& name : names) out.push_back(name.empty() ? kNoValue : p.id(name));
  return out;
}

// Where `n` runs under `policy`, with the kernel and the reason.
Status place(const ir::Graph& g, const ir::Node& n, const Policy& policy, const Device& device,
             const std::set<std::string>& half_exact, Step& step) {
  const CpuCandidate* cpu = find_cpu_kernel(n);
  const ValueCandidate* value = find_value_kernel(n);
  step.row = find_op(n);
  step.gpu = find_gpu_kernels(n);
  if (!cpu && step.gpu.empty() && !value) {
    std::string what = op_known(n.op_type, n.domain)
                           ? "no kernel supports this op at opset " + std::to_string(n.opset)
                           : "op '" + n.op_type + "'" + (n.domain.empty() ? "" : " of domain '" + n.domain + "'") +
                                 " is not implemented";
    return unsupported(n.describe() + ": " + what + " (inputs: " + dtypes_of(g, n) + ")");
  }
  const bool forced = policy.force_cpu.count(n.name) || (!n.outputs.empty() && policy.force_cpu.count(n.outputs[0]));
  if (value && !cpu && step.gpu.empty()) {
    // Sequences, optionals and subgraphs live on the CPU.
    if (policy.backend == BackendMode::kGpu)
      return unsupported(n.describe() + " is a sequence/optional/control-flow op, which runs on the CPU, "
                         "and the backend is gpu-only");
    step.placement = Placement::kValue;
    step.kernel = value->name;
    step.reason = "sequence, optional or control-flow op (CPU)";
    return Status::Ok();
  }
  // Shape and Size on the default backend run on the CPU, which knows a GPU
  // input's shape without reading it back (runner.cc, run_cpu_step). On the
  // GPU their few integers were drawn, and what reads them as values (an If's
  // condition, a Reshape's target) then read them back: a stall of every
  // draw queued before, a dozen times a run in Silero VAD.
  if (policy.backend == BackendMode::kDefault && device.gpu() && cpu && n.reads_only_input_shape() && !forced) {
    step.placement = Placement::kCpu;
    step.kernel = cpu->name;
    step.reason = "reads only a shape (CPU, no read-back)";
    return Status::Ok();
  }
  if (policy.backend == BackendMode::kCpu || forced || !device.gpu()) {
    if (!cpu)
      return unsupported(n.describe() + ": has no CPU kernel, but " +
                         (forced ? std::string("it was forced onto the CPU") : std::string("the backend is cpu")));
    step.placement = Placement::kCpu;
    step.kernel = cpu->name;
    step.reason = forced ? "forced onto the CPU" : device.gpu() ? "cpu backend" : "no GPU";
    return Status::Ok();
  }
  std::string why = step.gpu.empty() ? "no GPU kernel for " + n.op_type : "";
  // With fully known shapes the candidates can be asked now; otherwise the
  // choice is made (and kept) at the first run.
  std::optional<gl::KernelContext> ctx = static_kernel_context(g, n, half_exact);
  if (ctx) {
    ctx->max_texture_size = device.layout->max_texture_size;
    ctx->shape_uniforms = optimization_flags().shape_uniforms;
  }
  const GpuCandidate* winner = nullptr;
  if (!ctx) {
    winner = step.gpu.empty() ? nullptr : step.gpu.front();
  } else if (std::string fit; !step.gpu.empty() && !tensors_fit(*ctx, *device.layout, &fit)) {
    why = fit;
  } else {
    CandidateChoice choice = choose_candidate(step.gpu, *ctx);
    winner = choice.winner;
    if (why.empty()) why = choice.first_reason();
    step.declined = std::move(choice.declined);
  }
  if (winner) {
    step.placement = Placement::kGpu;
    step.kernel = winner->name;
    if (!ctx && step.gpu.size() > 1) {
      // Shapes known only at run time: the first candidate that accepts them
      // then wins; say so rather than name one that may decline.
      step.kernel.clear();
      for (const GpuCandidate* c : step.gpu) step.kernel += (step.kernel.empty() ? "" : "|") + std::string(c->name);
      step.kernel += " (at run)";
    }
    if (ctx) {
      auto passes = build_passes(*winner, *ctx);
      if (!passes.ok()) return passes.status().with_context(n.describe());
      step.passes = std::move(passes).value();
      step.passes_looked_at = ctx->looked_at;
      step.passes_signature = program_signature(*ctx, step.passes_looked_at);
      step.passes_inputs = ctx->inputs;
    }
    return Status::Ok();
  }
  if (policy.backend == BackendMode::kGpu)
    return unsupported(n.describe() + " cannot run on the GPU (" + why + "; inputs: " + dtypes_of(g, n) +
                       ") and the backend is gpu-only");
  if (!cpu)
    return unsupported(n.describe() + ": its GPU kernel declines it (" + why +
                       ") and there is no CPU kernel (inputs: " + dtypes_of(g, n) + ")");
  step.placement = Placement::kCpu;
  step.kernel = cpu->name;
  step.reason = why;
  return Status::Ok();
}

// Each value is freed after its last reader; constants never are.
void mark_releases(Plan& p) {
  std::vector<int> last(p.names.size(), -1);
  for (size_t pos = 0; pos < p.steps.size(); ++pos) {
    for (int id : p.steps[pos].inputs)
      if (id != kNoValue) last[id] = static_cast<int>(pos);
    for (int id : p.steps[pos].implicit_inputs) last[id] = static_cast<int>(pos);
  }
  for (size_t id = 0; id < last.size(); ++id)
    if (last[id] >= 0 && !p.constant[id]) p.steps[last[id]].release.push_back(static_cast<int>(id));
}

// Where a value produced (or fed) on one side is read on the other (Shape
// and Size on the CPU read a GPU value's shape, not the value).
void mark_transfers(const ir::Graph& g, Plan& p) {
  std::vector<bool> on_gpu(p.names.size(), false), on_cpu(p.names.size(), true);
  for (size_t pos = 0; pos < p.steps.size(); ++pos) {
    const Step& s = p.steps[pos];
    const bool gpu = s.placement == Placement::kGpu;
    const bool shape_only = g.nodes[s.node].reads_only_input_shape();
    for (int id : s.inputs) {
      if (id == kNoValue) continue;
      if (gpu && !on_gpu[id]) {
        p.transfers.push_back({id, pos, true});
        on_gpu[id] = true;
      } else if (!gpu && !on_cpu[id] && !shape_only) {
        p.transfers.push_back({id, pos, false});
        on_cpu[id] = true;
      }
    }
    for (int id : s.outputs) {
      if (id == kNoValue) continue;
      on_gpu[id] = gpu;
      on_cpu[id] = !gpu;
    }
  }
}

}  // namespace

Result<Plan> build_plan(const ir::Graph& graph, const Policy& policy, const Device& device) {
  Plan p;
  number_values(graph, p);
  // Weights that are exact halves (a float16 model's, widened or not) may
  // live on the GPU as packed halves: half the fetches, same values.
  if (device.gpu())
    for (auto& [name, t] : graph.initializers)
      if (gl::held_as_half_weights(t, *device.layout)) p.half_exact.insert(name);
  GLINT_ASSIGN_OR_RETURN(std::vector<size_t> order, ir::topological_order(graph));
  for (size_t idx : order) {
    const ir::Node& n = graph.nodes[idx];
    Step step;
    step.node = idx;
    step.inputs = ids_of(p, n.inputs);
    step.implicit_inputs = ids_of(p, n.implicit_inputs);
    step.outputs = ids_of(p, n.outputs);
    GLINT_RETURN_IF_ERROR(place(graph, n, policy, device, p.half_exact, step));
    p.steps.push_back(std::move(step));
  }
  mark_releases(p);
  mark_transfers(graph, p);
  if (device.gpu()) p.memory_budget = memory_budget(graph, p, *device.layout);
  return p;
}

}  // namespace plan
}  // namespace glint
