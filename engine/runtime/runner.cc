#include "engine/runtime/runner.h"

#include <chrono>
#include <new>

#include "engine/core/tuning.h"
#include "engine/plan/kernel_context.h"
#include "engine/runtime/host_steps.h"
#include "engine/runtime/step_state.h"

namespace glint {

gl::TensorDesc Slot::desc() const {
  if (gpu) return gpu->desc();
  return gl::TensorDesc{cpu->dtype(), cpu->shape()};
}

// The runners of the subgraph bodies a graph's control-flow nodes run, one
// per body, planned like the main graph (the same policy, the same device:
// a body's nodes run on the GPU where they can) when the graph is prepared,
// or on first use.
class GraphRunner::Bodies : public SubgraphRunner {
 public:
  explicit Bodies(GraphRunner& owner) : owner_(owner) {}
  // The outer values the next body reads, and whether its caller passes the
  // body's outputs on unread (they may then stay in GPU memory).
  void set_scope(ScopeLookup scope, bool outputs_in_gpu_memory) {
    scope_ = std::move(scope);
    outputs_in_gpu_memory_ = outputs_in_gpu_memory;
  }

  Result<GraphRunner*> runner_for(const ir::Graph& g) const {
    auto it = runners_.find(&g);
    if (it != runners_.end()) return it->second.get();
    plan::Device device;
    if (owner_.gpu_ && owner_.policy_.backend != BackendMode::kCpu) device.layout = owner_.gpu_->layout_policy();
    GLINT_ASSIGN_OR_RETURN(plan::Plan p, plan::build_plan(g, owner_.policy_, device));
    auto runner = std::make_unique<GraphRunner>(g, std::move(p), owner_.gpu_, owner_.policy_);
    runner->set_profiling(owner_.profile_summary_);
    runner->set_profile_summary(owner_.profile_summary_);
    if (owner_.tally_) runner->set_work_tally(owner_.tally_, owner_.tally_prefix_ + g.name + "/");
    GraphRunner* r = runner.get();
    runners_.emplace(&g, std::move(runner));
    order_.push_back(&g);
    return r;
  }

  Result<std::vector<Value>> run(const ir::Graph& g, const std::vector<Value>& inputs) const override {
    GLINT_ASSIGN_OR_RETURN(GraphRunner * runner, runner_for(g));
    return runner->run(inputs, scope_, outputs_in_gpu_memory_);
  }

  void set_work_tally(const std::shared_ptr<WorkTally>& tally, const std::string& prefix) {
    for (auto& [g, runner] : runners_) runner->set_work_tally(tally, prefix + g->name + "/");
  }

  // The bodies planned so far, in the order they were first met.
  std::vector<std::pair<const ir::Graph*, const GraphRunner*>> runners() const {
    std::vector<std::pair<const ir::Graph*, const GraphRunner*>> out;
    for (const ir::Graph* g : order_) out.push_back({g, runners_.at(g).get()});
    return out;
  }

 private:
  GraphRunner& owner_;
  ScopeLookup scope_;
  bool outputs_in_gpu_memory_ = false;
  mutable std::map<const ir::Graph*, std::unique_ptr<GraphRunner>> runners_;
  mutable std::vector<const ir::Graph*> order_;
};

GraphRunner::GraphRunner(const ir::Graph& graph, plan::Plan plan, gl::Executor* gpu, plan::Policy policy)
    : graph_(graph), plan_(std::move(plan)), gpu_(gpu), policy_(std::move(policy)) {
  for (const auto& [name, t] : graph_.initializers)
    if (const int id = plan_.id(name); id != plan::kNoValue) constant_slots_.emplace_back(id, &t);
  states_.reserve(plan_.steps.size());
  for (const plan::Step& step : plan_.steps) {
    states_.push_back(std::make_unique<StepState>());
    if (!step.passes.empty()) {
      set_passes(*states_.back(), graph_.nodes[step.node], step.passes, step.passes_signature);
      states_.back()->looked_at = step.passes_looked_at;
    }
  }
}

GraphRunner::~GraphRunner() { print_profile_summary(); }

// Remembers `signature` (one passes were built for) among the step's distinct
// ones, up to plan::kSizesBeforeCpu.
void GraphRunner::note_signature(StepState& st, const std::string& signature) {
  if (signature.empty() || st.signatures_seen.size() >= static_cast<size_t>(plan::kSizesBeforeCpu)) return;
  for (const std::string& s : st.signatures_seen)
    if (s == signature) return;
  st.signatures_seen.push_back(signature);
}

// New passes for node `n`: a pass reading only the model's constants
// (directly or through earlier such passes) is marked for the executor to
// draw once and keep; the node's own outputs never are.
void GraphRunner::set_passes(StepState& st, const ir::Node& n, std::vector<gl::ProgramInfo> passes,
                             std::string signature) {
  st.passes = std::move(passes);
  st.signature = std::move(signature);
  st.runs_with_passes = 0;
  st.pass_cache.resize(st.passes.size());
  for (size_t k = 0; k < st.passes.size(); ++k) {
    bool constant = st.passes[k].node_output < 0 && !st.passes[k].inputs.empty();
    for (const gl::ProgramInput& pi : st.passes[k].inputs) {
      if (pi.source >= 0) {
        const size_t i = static_cast<size_t>(pi.source);
        constant = constant && i < n.inputs.size() && !n.inputs[i].empty() && graph_.is_constant(n.inputs[i]);
      } else {
        const size_t j = static_cast<size_t>(-(pi.source + 1));
        constant = constant && j < k && st.pass_cache.constant[j];
      }
    }
    st.pass_cache.constant[k] = constant;
  }
  // Constants that a pass only lays out go up laid out, without a draw (and
  // without the program prepare() did not compile). Should the upload fail,
  // the executor draws the pass instead.
  for (size_t k = 0; k < st.passes.size(); ++k) {
    const Tensor* t = uploaded_reshape(n, st.passes, k);
    if (!t) continue;
    auto up = gpu_->upload_as_output(t->reshaped(st.passes[k].output.shape), st.passes[k]);
    if (up.ok()) st.pass_cache.outputs[k] = std::move(up).value();
  }
}

const Tensor* GraphRunner::uploaded_reshape(const ir::Node& n, const std::vector<gl::ProgramInfo>& passes,
                                            size_t k) const {
  const gl::ProgramInfo& pass = passes[k];
  // Only with the pass cache, which keeps the upload for every run.
  if (pass.reshape_of < 0 || !optimization_flags().pass_cache) return nullptr;
  if (pass.inputs.size() != 1 || pass.inputs[0].source != pass.reshape_of) return nullptr;
  const size_t i = static_cast<size_t>(pass.reshape_of);
  if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
  auto it = graph_.initializers.find(n.inputs[i]);
  if (it == graph_.initializers.end()) return nullptr;
  const Tensor& t = it->second;
  if (t.dtype() != pass.output.dtype || t.size() != shape_size(pass.output.shape)) return nullptr;
  return &t;
}

Status GraphRunner::prepare() {
  GLINT_RETURN_IF_ERROR(prepare_bodies());
  if (gpu_ == nullptr) return Status::Ok();
  for (size_t pos = 0; pos < plan_.steps.size(); ++pos) {
    const plan::Step& step = plan_.steps[pos];
    if (step.passes.empty()) continue;
    std::vector<bool> uploaded(step.passes.size());
    for (size_t k = 0; k < step.passes.size(); ++k)
      uploaded[k] = uploaded_reshape(graph_.nodes[step.node], step.passes, k) != nullptr;
    Status s = gpu_->prepare(step.passes, step.passes_inputs, uploaded);
    if (!s.ok()) return s.with_context(graph_.nodes[step.node].describe());
  }
  // Weights go up now, in the layout their kernels read: the first run then
  // costs what every run costs, and the texture pool starts every run from
  // the same state. (Small or integer constants are often baked into the
  // shaders instead; they go up on first use, if ever.)
  for (const plan::Step& step : plan_.steps) {
    if (step.placement != plan::Placement::kGpu) continue;
    for (int id : step.inputs) {
      if (id == plan::kNoValue || !plan_.constant[id] || gpu_constants_.count(id)) continue;
      const Tensor& t = graph_.initializers.at(plan_.names[id]);
      if (!is_float(t.dtype()) || t.dtype() == DataType::kFloat64 || t.size() <= 16) continue;
      auto up = gpu_->upload(t, plan_.half_exact.count(plan_.names[id]) > 0);
      if (up.ok()) gpu_constants_[id] = up.value();
    }
  }
  return Status::Ok();
}

Status GraphRunner::prepare_bodies() {
  for (const plan::Step& step : plan_.steps) {
    if (!step.row || !step.row->value.name) continue;
    const ir::Node& n = graph_.nodes[step.node];
    for (auto& [name, attr] : n.attrs) {
      for (const ir::Graph* g : attr.subgraphs()) {
        if (!bodies_) bodies_ = std::make_unique<Bodies>(*this);
        auto runner = bodies_->runner_for(*g);
        if (!runner.ok()) return runner.status().with_context(n.describe() + " attribute '" + name + "'");
        GLINT_RETURN_IF_ERROR(runner.value()->prepare());
      }
    }
  }
  return Status::Ok();
}

void GraphRunner::for_each_body(
    const std::function<void(const std::string& path, const GraphRunner& body)>& visit) const {
  if (!bodies_) return;
  for (auto& [g, runner] : bodies_->runners()) {
    const std::string path = g->name.empty() ? std::string("body") : g->name;
    visit(path, *runner);
    runner->for_each_body([&](const std::string& inner, const GraphRunner& r) { visit(path + "/" + inner, r); });
  }
}

void GraphRunner::bind_constants(std::vector<Slot>& slots) const {
  for (const auto& [id, t] : constant_slots_) slots[id].cpu = *t;
}

Result<Tensor> GraphRunner::to_cpu(Slot& slot) {
  if (!slot.cpu) {
    GLINT_ASSIGN_OR_RETURN(Tensor t, gpu_->download(*slot.gpu));
    slot.cpu = std::move(t);
  }
  return *slot.cpu;
}

Result<Value> GraphRunner::to_value(Slot& slot, bool in_gpu_memory) {
  if (slot.other) return *slot.other;
  if (in_gpu_memory && !slot.cpu && slot.gpu) {
    const gl::TensorDesc& d = slot.gpu->desc();
    return Value::on_device(slot.gpu, d.dtype, d.shape);
  }
  GLINT_ASSIGN_OR_RETURN(Tensor t, to_cpu(slot));
  return Value::of(std::move(t));
}

Status GraphRunner::bind_value(Slot& slot, const Value& v) {
  if (!v.is_tensor()) {
    slot.other = v;
  } else if (v.device) {
    slot.gpu = std::dynamic_pointer_cast<gl::GpuTensor>(v.device);
    if (!slot.gpu) return internal_error("a value held in device memory is not a GPU tensor");
  } else {
    slot.cpu = v.tensor;
  }
  return Status::Ok();
}

Result<gl::GpuTensorPtr> GraphRunner::to_gpu(int id, Slot& slot) {
  if (slot.gpu) return slot.gpu;
  const bool constant = plan_.constant[id];
  if (constant) {
    auto it = gpu_constants_.find(id);
    if (it != gpu_constants_.end()) return slot.gpu = it->second;
  }
  GLINT_ASSIGN_OR_RETURN(slot.gpu, gpu_->upload(*slot.cpu, plan_.half_exact.count(plan_.names[id]) > 0));
  if (constant) gpu_constants_[id] = slot.gpu;  // weights are uploaded once per session
  return slot.gpu;
}

namespace {
Status with_node(const Status& s, const ir::Node& n) {
  return s.message().find(n.describe()) == std::string::npos ? s.with_context(n.describe()) : s;
}

// A step whose tensors would pass the session's memory cap (or overflow
// their element count: a hostile shape) fails naming its node.
template <class F>
Status guarded(const ir::Node& n, F&& step) {
  try {
    return step();
  } catch (const TensorTooLarge& e) {
    return invalid_argument(n.describe() + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return invalid_argument(n.describe() + ": out of memory allocating its outputs");
  }
}
}  // namespace

Status GraphRunner::run_value_step(size_t pos, std::vector<Slot>& slots) {
  const plan::Step& step = plan_.steps[pos];
  const ir::Node& n = graph_.nodes[step.node];
  std::vector<Value> held(step.inputs.size());
  std::vector<const Value*> ins(step.inputs.size(), nullptr);
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] == plan::kNoValue) continue;
    GLINT_ASSIGN_OR_RETURN(held[i], to_value(slots[step.inputs[i]]));
    ins[i] = &held[i];
  }
  // An If reads only its condition (its row says so): what its branch reads
  // from outside and what the branch returns pass through it unread, so
  // values the GPU holds stay there both ways. Each would otherwise be read
  // back at the branch's edge, a stall of every queued draw (Silero VAD's
  // decoder: 13 a run, its LSTM state among them). Loop and Scan bodies, and
  // the sequence ops, are given the data.
  const bool passes_through = step.row->value.passes_body_values_unread;
  // Subgraphs read outer values by name: hand them this node's implicit inputs.
  auto scope = std::make_shared<std::map<std::string, Value>>();
  for (int id : step.implicit_inputs) {
    if (slots[id].empty()) continue;  // not defined in any enclosing scope: the body reports it
    GLINT_ASSIGN_OR_RETURN((*scope)[plan_.names[id]], to_value(slots[id], passes_through));
  }
  if (!bodies_) bodies_ = std::make_unique<Bodies>(*this);
  bodies_->set_scope(
      [scope](const std::string& name) -> const Value* {
        auto it = scope->find(name);
        return it == scope->end() ? nullptr : &it->second;
      },
      passes_through);
  std::vector<Value> outs(n.outputs.size());
  Status s = step.row->value.run(n, ins, outs, *bodies_);
  // Let go of the outer values (their textures back to the pool now).
  bodies_->set_scope(nullptr, false);
  if (!s.ok()) return with_node(s, n);
  for (size_t i = 0; i < outs.size(); ++i) {
    if (step.outputs[i] == plan::kNoValue) continue;
    GLINT_RETURN_IF_ERROR(bind_value(slots[step.outputs[i]], outs[i]));
  }
  return Status::Ok();
}

Status GraphRunner::run_cpu_step(size_t pos, std::vector<Slot>& slots) {
  const plan::Step& step = plan_.steps[pos];
  const ir::Node& n = graph_.nodes[step.node];
  const CpuCandidate* cpu = step.row && step.row->cpu.name ? &step.row->cpu : nullptr;
  if (!cpu) return unsupported(n.describe() + ": no CPU kernel");
  // Inputs that live on the GPU are read back (and kept in their slot, so a
  // value read by several CPU steps crosses the edge once). The kernel reads
  // them in their slots: no step writes a slot another step's input is in.
  // Shape and Size over a GPU tensor get its shape alone, in a tensor with
  // no storage (these kernels never read data): no read-back, no stall.
  std::vector<const Tensor*> ins(step.inputs.size(), nullptr);
  std::optional<Tensor> shape_only;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] == plan::kNoValue) continue;
    Slot& slot = slots[step.inputs[i]];
    if (slot.empty()) return invalid_model(n.describe() + ": reads '" + n.inputs[i] + "', which is not defined");
    if (!slot.cpu && slot.gpu && n.reads_only_input_shape()) {
      const gl::TensorDesc desc = slot.gpu->desc();
      shape_only = Tensor::shape_only(desc.dtype, desc.shape);
      ins[i] = &*shape_only;
      continue;
    }
    if (!slot.cpu) GLINT_RETURN_IF_ERROR(to_cpu(slot).status());
    ins[i] = &*slot.cpu;
  }
  std::vector<Tensor> outs(n.outputs.size());
  Status s = cpu->run(n, ins, outs);
  if (!s.ok()) return with_node(s, n);
  const FusedActivation act = fused_activation_of(n);
  if (!outs.empty() && !cpu->applies(act, outs[0].dtype())) apply_fused_activation(act, outs[0]);
  for (size_t i = 0; i < outs.size(); ++i)
    if (step.outputs[i] != plan::kNoValue) slots[step.outputs[i]].cpu = std::move(outs[i]);
  return Status::Ok();
}

namespace {

// Integer inputs at most this long may be shapes, axes or starts a shape
// function reads as values.
constexpr int64_t kShapeLikeElements = 64;

bool outputs_known(const gl::KernelContext& ctx) {
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    if (ctx.node && !ctx.node->has_output(i)) continue;
    for (int64_t d : ctx.outputs[i].shape)
      if (d < 0) return false;
  }
  return true;
}

}  // namespace

Status GraphRunner::run_gpu_step(size_t pos, std::vector<Slot>& slots, bool* fell_back) {
  const plan::Step& step = plan_.steps[pos];
  const ir::Node& n = graph_.nodes[step.node];
  StepState& st = *states_[pos];
  *fell_back = false;
  gl::KernelContext ctx;
  ctx.node = &n;
  ctx.max_texture_size = gpu_->layout_policy().max_texture_size;
  ctx.shape_uniforms = optimization_flags().shape_uniforms;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] == plan::kNoValue) {
      ctx.inputs.push_back(std::nullopt);
      ctx.constants.push_back(nullptr);
      continue;
    }
    Slot& slot = slots[step.inputs[i]];
    gl::TensorDesc d = slot.desc();
    d.half_exact = plan_.half_exact.count(n.inputs[i]) > 0;
    ctx.inputs.push_back(d);
    ctx.constants.push_back(slot.cpu ? &*slot.cpu : nullptr);
  }
  InferFn infer = step.row ? step.row->shape : nullptr;
  if (infer == nullptr) {
    st.fallback_reason = "no shape function for " + n.op_type;
    *fell_back = true;
    return Status::Ok();
  }
  GLINT_RETURN_IF_ERROR(plan::infer_outputs(n, infer, ctx));
  if (!outputs_known(ctx)) {
    // The output shape hangs on a value only the GPU holds: a Reshape's
    // shape or a Slice's starts computed on the GPU from Shape nodes. Read
    // the small integer inputs back and infer again; that costs a read-back
    // of a few values instead of sending the node, and its data, to the CPU.
    // The values serve the shape function only: kernels may bake constant
    // inputs into programs kept across runs, and these values change.
    std::vector<size_t> read_back;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      if (step.inputs[i] == plan::kNoValue || ctx.constants[i]) continue;
      Slot& slot = slots[step.inputs[i]];
      const gl::TensorDesc d = slot.desc();
      if (!is_integer(d.dtype) || shape_size(d.shape) > kShapeLikeElements) continue;
      if (!to_cpu(slot).ok()) continue;
      ctx.constants[i] = &*slot.cpu;
      read_back.push_back(i);
    }
    if (!read_back.empty()) {
      GLINT_RETURN_IF_ERROR(plan::infer_outputs(n, infer, ctx));
      for (size_t i : read_back) ctx.constants[i] = nullptr;
    }
  }
  std::string sig = plan::program_signature(ctx, st.looked_at);
  const bool has_cpu = step.row && step.row->cpu.name;
  const bool may_fall_back = has_cpu && policy_.backend != BackendMode::kGpu;
  if (!st.passes.empty() && st.signature == sig) ++st.runs_with_passes;
  if (st.passes.empty() || st.signature != sig) {
    if (st.sizes_churn && may_fall_back) {
      *fell_back = true;  // new sizes again: the CPU kernel, no compile (fallback_reason says why)
      return Status::Ok();
    }
    note_signature(st, st.signature);
    set_passes(st, n, {}, "");
    // New shapes: do they still fit the textures? (The plan checked those it knew.)
    if (std::string why; !plan::tensors_fit(ctx, gpu_->layout_policy(), &why)) {
      st.fallback_reason = why;
      *fell_back = true;
      return Status::Ok();
    }
    ctx.looked_at.assign(ctx.constants.size(), false);
    plan::CandidateChoice choice = plan::choose_candidate(step.gpu, ctx);
    if (!choice.winner) {
      st.fallback_reason = choice.first_reason();
      *fell_back = true;
      return Status::Ok();
    }
    auto passes = plan::build_passes(*choice.winner, ctx);
    if (!passes.ok()) return passes.status().with_context(n.describe());
    // Keyed on what the kernel looked at this time.
    st.looked_at = ctx.looked_at;
    sig = plan::program_signature(ctx, st.looked_at);
    note_signature(st, sig);
    if (may_fall_back && st.signatures_seen.size() >= static_cast<size_t>(plan::kSizesBeforeCpu) &&
        plan::cheaper_on_cpu_than_compiled(ctx, passes.value())) {
      st.sizes_churn = true;
      st.fallback_reason = "the sizes or values its programs bake changed on " +
                           std::to_string(st.signatures_seen.size()) +
                           " runs: new ones run on the CPU kernel (a small node)";
      *fell_back = true;
      return Status::Ok();
    }
    set_passes(st, n, std::move(passes).value(), sig);
  }
  // A value the GPU cannot hold (an int64 beyond its exact range, say) sends
  // this step to its CPU kernel for this run, unless the backend is gpu-only.
  auto decline = [&](const Status& s) -> Status {
    if (s.code() != StatusCode::kUnsupported || policy_.backend == BackendMode::kGpu || !has_cpu)
      return s.with_context(n.describe());
    st.fallback_reason = s.message();
    *fell_back = true;
    return Status::Ok();
  };
  // Inputs of the passes that draw: a pass whose output the cache holds
  // reads nothing (and its weights may be gone: release_cached_constants).
  const bool pass_cache = optimization_flags().pass_cache;
  std::vector<gl::GpuTensorPtr> ins(step.inputs.size());
  for (size_t k = 0; k < st.passes.size(); ++k) {
    if (pass_cache && st.pass_cache.outputs[k]) continue;
    for (auto& pi : st.passes[k].inputs)
      if (pi.source >= 0 && !ins[pi.source]) {
        if (static_cast<size_t>(pi.source) >= step.inputs.size() || step.inputs[pi.source] == plan::kNoValue)
          return internal_error(n.describe() + ": program '" + st.passes[k].name + "' reads absent input " +
                                std::to_string(pi.source));
        const int id = step.inputs[pi.source];
        auto uploaded = to_gpu(id, slots[id]);
        if (!uploaded.ok()) return decline(uploaded.status());
        ins[pi.source] = uploaded.value();
      }
  }
  auto outs = gpu_->run(st.passes, ins, n.outputs.size(), pass_cache ? &st.pass_cache : nullptr);
  if (!outs.ok()) return decline(outs.status());
  for (size_t i = 0; i < step.outputs.size(); ++i) {
    if (step.outputs[i] == plan::kNoValue) continue;
    if (!outs.value()[i]) return internal_error(n.describe() + ": GPU kernel did not write output " + std::to_string(i));
    slots[step.outputs[i]].gpu = outs.value()[i];
  }
  return Status::Ok();
}

Status GraphRunner::execute(std::vector<Slot>& slots, const std::vector<bool>& keep, const ScopeLookup& outer) {
  for (int id : plan_.outer) {
    const Value* v = outer ? outer(plan_.names[id]) : nullptr;
    if (v == nullptr) continue;  // read by nobody here, or an error where it is read
    GLINT_RETURN_IF_ERROR(bind_value(slots[id], *v));
  }
  const bool gpu_only = policy_.backend == BackendMode::kGpu;
  for (size_t pos = 0; pos < plan_.steps.size(); ++pos) {
    const plan::Step& step = plan_.steps[pos];
    const ir::Node& n = graph_.nodes[step.node];
    bool non_tensor_input = false;
    for (int id : step.inputs) {
      if (id == plan::kNoValue) continue;
      if (slots[id].empty()) return invalid_model(n.describe() + ": reads '" + plan_.names[id] + "', which is not defined");
      if (slots[id].other) non_tensor_input = true;
    }
    const auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    bool ran_on_gpu = false;
    if (step.placement == plan::Placement::kValue || (non_tensor_input && step.row && step.row->value.name)) {
      if (gpu_only)
        return unsupported(n.describe() + " reads a sequence or optional, which lives on the CPU, and the "
                           "backend is gpu-only");
      GLINT_RETURN_IF_ERROR(guarded(n, [&] { return run_value_step(pos, slots); }));
    } else {
      if (non_tensor_input)
        return invalid_argument(n.describe() + ": expects tensors, got a sequence or an empty optional");
      bool fell_back = false;
      const bool on_host_by_choice =
          step.placement == plan::Placement::kGpu && !gpu_only && index_values_on_host(step, n, slots);
      const bool on_gpu = step.placement == plan::Placement::kGpu && !on_host_by_choice;
      if (on_gpu) GLINT_RETURN_IF_ERROR(guarded(n, [&] { return run_gpu_step(pos, slots, &fell_back); }));
      if (!on_gpu || fell_back) {
        if (fell_back && gpu_only)
          return unsupported(n.describe() + " cannot run on the GPU with these inputs (" +
                             states_[pos]->fallback_reason + ") and the backend is gpu-only");
        GLINT_RETURN_IF_ERROR(guarded(n, [&] { return run_cpu_step(pos, slots); }));
      }
      ran_on_gpu = on_gpu && !fell_back;
      if (tally_) tally_step(pos, slots, ran_on_gpu, on_host_by_choice);
    }
    if (profile_) {
      if (gpu_) gpu_->finish();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      profile_ms_[step.node] += ms;
      events_.push_back({step.node, ran_on_gpu, std::chrono::duration<double, std::milli>(t0.time_since_epoch()).count(), ms});
    }
    // Free what no later step reads, so textures return to the pool early.
    for (int id : step.release)
      if (!keep[id]) slots[id] = Slot{};
  }
  release_cached_constants();
  return Status::Ok();
}

void GraphRunner::set_work_tally(std::shared_ptr<WorkTally> tally, const std::string& label_prefix) {
  tally_ = std::move(tally);
  tally_prefix_ = label_prefix;
  if (bodies_) bodies_->set_work_tally(tally_, tally_prefix_);
}

Result<std::vector<Value>> GraphRunner::run(const std::vector<Value>& inputs, const ScopeLookup& outer,
                                            bool outputs_in_gpu_memory) {
  if (inputs.size() != plan_.inputs.size())
    return invalid_argument("subgraph '" + graph_.name + "' takes " + std::to_string(plan_.inputs.size()) +
                            " inputs, got " + std::to_string(inputs.size()));
  std::vector<Slot> slots(plan_.names.size());
  bind_constants(slots);
  for (size_t i = 0; i < inputs.size(); ++i) GLINT_RETURN_IF_ERROR(bind_value(slots[plan_.inputs[i]], inputs[i]));
  std::vector<bool> keep(plan_.names.size(), false);
  for (int id : plan_.outputs) keep[id] = true;
  GLINT_RETURN_IF_ERROR(execute(slots, keep, outer));
  std::vector<Value> out;
  for (int id : plan_.outputs) {
    if (slots[id].empty())
      return invalid_model("graph '" + graph_.name + "': output '" + plan_.names[id] + "' was not computed");
    GLINT_ASSIGN_OR_RETURN(Value v, to_value(slots[id], outputs_in_gpu_memory));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::map<std::string, Value>> run_graph(const ir::Graph& graph, const std::map<std::string, Value>& feeds,
                                               const plan::Policy& policy, gl::Executor* gpu) {
  plan::Device device;
  if (gpu && policy.backend != BackendMode::kCpu) device.layout = gpu->layout_policy();
  GLINT_ASSIGN_OR_RETURN(plan::Plan p, plan::build_plan(graph, policy, device));
  GraphRunner runner(graph, std::move(p), gpu, policy);
  std::vector<Value> inputs;
  for (auto& name : graph.inputs) {
    auto it = feeds.find(name);
    if (it == feeds.end()) return invalid_argument("missing input '" + name + "'");
    inputs.push_back(it->second);
  }
  GLINT_ASSIGN_OR_RETURN(std::vector<Value> outs, runner.run(inputs));
  std::map<std::string, Value> result;
  for (size_t i = 0; i < outs.size(); ++i) result[graph.outputs[i]] = std::move(outs[i]);
  return result;
}

}  // namespace glint
