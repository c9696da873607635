#include "engine/runtime/session.h"

#include <chrono>
#include <cstdlib>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>

#include "engine/core/half.h"
#include "engine/core/tuning.h"
#include "engine/onnx/loader.h"
#include "engine/passes/passes.h"
#include "engine/runtime/runner.h"

namespace glint {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string node_label(const ir::Node& n) {
  if (!n.name.empty()) return n.name;
  return n.outputs.empty() ? n.op_type : n.outputs[0];
}

// A float32 tensor as the float16 its output is declared to be.
Tensor rounded_to_half(const Tensor& t) {
  if (t.dtype() != DataType::kFloat32) return t;
  Tensor half(DataType::kFloat16, t.shape());
  for (int64_t i = 0; i < half.size(); ++i) half.data<float>()[i] = round_to_half(t.data<float>()[i]);
  return half;
}

// A hostile or broken model can ask for tensors larger than memory (a
// ConstantOfShape of 10^15 elements, say): the allocation throws, and the
// caller gets an error instead of a crash.
template <class F>
auto guard_allocations(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kInvalidArgument, "out of memory: the model asks for a tensor larger than memory");
  } catch (const TensorTooLarge& e) {
    return Status(StatusCode::kInvalidArgument, std::string("out of memory: ") + e.what());
  } catch (const std::length_error&) {
    return Status(StatusCode::kInvalidArgument, "out of memory: the model asks for a tensor larger than memory");
  }
}

}  // namespace

namespace {
// The process-wide executor, or why it could not start: made on first use and
// kept (a failure too, so that a machine without GL tries once), until
// release_shared_executor() empties it. Never destroyed at exit: the GL
// driver's own exit handlers, registered when it loads (after this slot),
// run first, and NVIDIA's leaves the executor's GL deletes pointing at
// unloaded code (a crash at exit after every GPU run); the process's end
// frees the GPU memory anyway.
std::optional<Result<std::unique_ptr<gl::Executor>>>& executor_slot() {
  static auto* slot = new std::optional<Result<std::unique_ptr<gl::Executor>>>();
  return *slot;
}
}  // namespace

Result<gl::Executor*> shared_executor() {
  auto& slot = executor_slot();
  if (!slot) slot.emplace(gl::create_executor());
  if (!slot->ok()) return slot->status();
  return slot->value().get();
}

void release_shared_executor() { executor_slot().reset(); }

Result<Tensor> read_kept(const KeptOutput& kept) {
  if (kept.cpu) return *kept.cpu;
  if (!kept.gpu) return invalid_argument("no tensor");
  return download_gpu_tensor(*kept.gpu);
}

Result<Tensor> download_gpu_tensor(const gl::GpuTensor& t) {
  auto& slot = executor_slot();
  if (!slot || !slot->ok() || !slot->value()->holds(t))
    return invalid_argument("the GPU tensor's GL context was lost or released since it was made; its data is gone");
  return slot->value()->download(t);
}

Session::~Session() = default;

const plan::Plan& Session::plan() const { return runner_->plan(); }

Result<std::unique_ptr<Session>> Session::create(const void* data, size_t size, const SessionOptions& options) {
  return guard_allocations([&] { return create_unguarded(data, size, options); });
}

Result<std::unique_ptr<Session>> Session::create_unguarded(const void* data, size_t size,
                                                           const SessionOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Session> s(new Session());
  s->memory_ = std::make_shared<MemoryBudget>(options.memory_cap > 0 ? options.memory_cap : default_memory_cap());
  ScopedMemoryBudget charge(s->memory_);
  GLINT_ASSIGN_OR_RETURN(ir::Graph g, onnx_loader::load_model(data, size, options.external_data));
  s->timings_.load_ms = ms_since(t0);
  GLINT_RETURN_IF_ERROR(s->init(std::move(g), options));
  return s;
}

Result<std::unique_ptr<Session>> Session::create_from_file(const std::string& path, const SessionOptions& options) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, onnx_loader::read_file(path));
  SessionOptions with_dir = options;
  if (!with_dir.external_data) with_dir.external_data = onnx_loader::external_data_in_dir(onnx_loader::model_dir(path));
  auto s = create(bytes.data(), bytes.size(), with_dir);
  if (!s.ok()) return s.status().with_context(path);
  return s;
}

Status Session::init(ir::Graph graph, const SessionOptions& options) {
  options_ = options;
  // The external data is in the graph's tensors now: the reader, and the
  // files it holds (or, in the browser, views of memory freed after
  // creation), are not kept.
  options_.external_data = nullptr;
  created_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  graph_ = std::move(graph);
  for (auto& name : graph_.inputs) {
    const ir::ValueInfo* vi = graph_.info(name);
    inputs_.push_back({name, vi ? *vi : ir::ValueInfo{}});
  }
  auto t0 = std::chrono::steady_clock::now();
  passes::OptimizeOptions popts;
  popts.fold = options.fold_constants;
  popts.fuse_activations = optimization_flags().fuse;  // the runner applies what its kernels do not
  popts.keep_nodes = options.force_cpu;                 // a node forced onto the CPU keeps its identity
  popts.transpose_matmul_weights = options.backend == BackendMode::kCpu;
  popts.winograd_conv_weights = options.backend == BackendMode::kCpu && optimization_flags().winograd;
  popts.flatten_pooled_convs = options.backend != BackendMode::kCpu && optimization_flags().flat_pooled_convs;
  popts.fuse_matmul_adds = optimization_flags().matmul_adds;
  GLINT_RETURN_IF_ERROR(passes::optimize(graph_, popts));
  timings_.optimize_ms = ms_since(t0);
  for (auto& name : graph_.outputs) {
    const ir::ValueInfo* vi = graph_.info(name);
    outputs_.push_back({name, vi ? *vi : ir::ValueInfo{}});
  }
  // Control-flow bodies are planned like the main graph (runner.h): their
  // Constant nodes become initializers too, so the GPU steps around them
  // read weights instead of waiting on a CPU node each run, and their
  // activations fuse into the Convs and products before them.
  GLINT_RETURN_IF_ERROR(passes::optimize_bodies(graph_, popts));
  // After the outputs' declared dtypes are recorded: they are rounded to half
  // when they leave, whatever precision computed them.
  GLINT_RETURN_IF_ERROR(passes::compute_float16_in_float32(graph_, &float16_as_float32_));

  plan::Device device;
  if (options_.backend != BackendMode::kCpu) {
    GLINT_ASSIGN_OR_RETURN(gpu_, shared_executor());
    device.layout = gpu_->layout_policy();
  }
  const plan::Policy policy{options_.backend, options_.force_cpu};
  t0 = std::chrono::steady_clock::now();
  GLINT_ASSIGN_OR_RETURN(plan::Plan p, plan::build_plan(graph_, policy, device));
  runner_ = std::make_unique<GraphRunner>(graph_, std::move(p), gpu_, policy);
  if (const char* prof = std::getenv("GLINT_PROFILE")) {
    runner_->set_profiling(*prof && *prof != '0');
    runner_->set_profile_summary(*prof && *prof != '0');
  }
  GLINT_RETURN_IF_ERROR(runner_->prepare());
  // Where every node runs, control-flow bodies' nodes included (named
  // body/node), and why.
  auto place = [this](const std::string& prefix, const GraphRunner& r) {
    for (const plan::Step& step : r.plan().steps) {
      const ir::Node& n = r.graph().nodes[step.node];
      placements_.push_back({prefix + node_label(n), n.op_type, step.placement == plan::Placement::kGpu, step.kernel,
                             step.reason, step.declined});
    }
  };
  place("", *runner_);
  runner_->for_each_body([&](const std::string& path, const GraphRunner& body) { place(path + "/", body); });
  if (gpu_) {
    // The texture pool may keep what this graph needs, and no more; a graph
    // whose sizes are known only at run time lifts the bound (plan.h).
    const int64_t budget = runner_->plan().memory_budget;
    const int64_t current = gpu_->memory_budget();
    if (budget <= 0)
      gpu_->set_memory_budget(std::numeric_limits<int64_t>::max());
    else if (current <= 0 || current == std::numeric_limits<int64_t>::max() || current < budget)
      gpu_->set_memory_budget(budget);
  }
  timings_.compile_ms = ms_since(t0);
  return Status::Ok();
}

void Session::set_profiling(bool on) { runner_->set_profiling(on); }

void Session::set_work_tally(std::shared_ptr<WorkTally> tally) { runner_->set_work_tally(std::move(tally)); }

std::vector<NodeProfile> Session::take_profile() {
  std::vector<NodeProfile> out;
  for (const GraphRunner::ProfileEvent& e : runner_->take_profile_events()) {
    const ir::Node& n = graph_.nodes[e.node];
    out.push_back({node_label(n), n.op_type, e.gpu, e.start_ms - created_ms_, e.ms});
  }
  return out;
}

int64_t Session::memory_budget() const { return gpu_ ? runner_->plan().memory_budget : 0; }

std::optional<gl::MemoryStats> Session::gpu_memory() const {
  if (gpu_ == nullptr) return std::nullopt;
  return gpu_->memory();
}

std::optional<gl::Capabilities> Session::gpu_caps() const {
  if (gpu_ == nullptr) return std::nullopt;
  return gpu_->caps();
}

std::string Session::renderer() const { return gpu_ ? gpu_->caps().renderer : "cpu"; }

Status Session::check_feed_shape(const IoInfo& io, DataType dtype, const Shape& shape) const {
  const ir::ValueInfo& want = io.info;
  if (want.dtype != DataType::kUndefined && dtype != want.dtype)
    return invalid_argument("input '" + io.name + "': expected dtype " + dtype_name(want.dtype) + ", got " +
                            dtype_name(dtype));
  if (!want.has_shape) return Status::Ok();
  bool ok = want.dims.size() == shape.size();
  for (size_t i = 0; ok && i < want.dims.size(); ++i)
    if (want.dims[i].known() && want.dims[i].value != shape[i]) ok = false;
  if (!ok)
    return invalid_argument("input '" + io.name + "': expected shape " + want.describe() + ", got " +
                            dtype_name(dtype) + shape_str(shape));
  return Status::Ok();
}

Status Session::check_feed(const IoInfo& io, const Tensor& t) const {
  GLINT_RETURN_IF_ERROR(check_feed_shape(io, t.dtype(), t.shape()));
  if (t.dtype() != DataType::kString && t.byte_size() != static_cast<size_t>(t.size()) * storage_size(t.dtype()))
    return invalid_argument("input '" + io.name + "': data size does not match its shape " + shape_str(t.shape()));
  return Status::Ok();
}

Result<const IoInfo*> Session::find_input(const std::string& name) const {
  for (auto& candidate : inputs_)
    if (candidate.name == name) return &candidate;
  std::string names;
  for (auto& i : inputs_) names += (names.empty() ? "'" : ", '") + i.name + "'";
  if (graph_.is_constant(name))
    return invalid_argument("'" + name + "' is a constant (initializer) of the model, not an input; inputs: " + names);
  return invalid_argument("unknown input '" + name + "'; the model's inputs are " + (names.empty() ? "none" : names));
}

Status Session::bind_feeds(const std::map<std::string, Value>& feeds,
                           const std::map<std::string, KeptOutput>* kept_feeds, std::vector<Slot>& slots) const {
  const plan::Plan& p = runner_->plan();
  for (auto& [name, v] : feeds) {
    GLINT_ASSIGN_OR_RETURN(const IoInfo* io, find_input(name));
    Slot& slot = slots[p.id(name)];
    const bool want_tensor = io->info.kind == ir::TypeKind::kTensor;
    const bool optional =
        io->info.kind == ir::TypeKind::kOptionalTensor || io->info.kind == ir::TypeKind::kOptionalSequence;
    if (v.is_tensor() && (want_tensor || io->info.kind == ir::TypeKind::kOptionalTensor)) {
      if (want_tensor) GLINT_RETURN_IF_ERROR(check_feed(*io, v.tensor));
      slot.cpu = float16_as_float32_ && v.tensor.dtype() == DataType::kFloat16 ? v.tensor.retagged(DataType::kFloat32)
                                                                               : v.tensor;
    } else if (!want_tensor && (v.kind == Value::Kind::kSequence || (optional && v.kind == Value::Kind::kNone))) {
      slot.other = v;
    } else {
      return invalid_argument("input '" + name + "': expected " + io->info.describe() + ", got " + v.describe());
    }
  }
  if (kept_feeds) {
    for (auto& [name, kept] : *kept_feeds) {
      GLINT_ASSIGN_OR_RETURN(const IoInfo* io, find_input(name));
      if (feeds.count(name)) return invalid_argument("input '" + name + "' is fed twice (from the CPU and as kept)");
      if (!kept.gpu && !kept.cpu) return invalid_argument("input '" + name + "': no tensor");
      if (io->info.kind != ir::TypeKind::kTensor)
        return invalid_argument("input '" + name + "': expected " + io->info.describe() + ", got a tensor");
      Slot& slot = slots[p.id(name)];
      if (kept.cpu) {
        GLINT_RETURN_IF_ERROR(check_feed(*io, *kept.cpu));
        slot.cpu = *kept.cpu;
      }
      if (!kept.gpu) continue;
      if (gpu_ == nullptr) {
        if (kept.cpu) continue;  // the CPU copy serves
        return invalid_argument("input '" + name + "': a GPU tensor was fed to a session that runs on the CPU");
      }
      if (!gpu_->holds(*kept.gpu)) {
        if (kept.cpu) continue;
        return invalid_argument("input '" + name + "': its GPU tensor belongs to another GL context (one lost or "
                                "released since it was made); its data is gone");
      }
      const gl::TensorDesc& d = kept.gpu->desc();
      // A float16 model computed in float32 holds its float16 values as float32.
      const bool widened = float16_as_float32_ && d.dtype == DataType::kFloat32 && io->info.dtype == DataType::kFloat16;
      GLINT_RETURN_IF_ERROR(check_feed_shape(*io, widened ? DataType::kFloat16 : d.dtype, d.shape));
      slot.gpu = kept.gpu;
    }
  }
  for (auto& io : inputs_)
    if (!feeds.count(io.name) && !(kept_feeds && kept_feeds->count(io.name)))
      return invalid_argument("missing input '" + io.name + "' (" + io.info.describe() + ")");
  return Status::Ok();
}

Status Session::execute(const std::map<std::string, Value>& feeds, const std::vector<std::string>& fetches,
                        std::vector<Slot>& slots, std::vector<int>& wanted,
                        const std::map<std::string, KeptOutput>* kept_feeds) {
  const plan::Plan& p = runner_->plan();
  slots.assign(p.names.size(), Slot{});
  GLINT_RETURN_IF_ERROR(bind_feeds(feeds, kept_feeds, slots));
  runner_->bind_constants(slots);
  wanted.clear();
  std::vector<bool> keep(p.names.size(), false);
  for (auto& w : fetches.empty() ? graph_.outputs : fetches) {
    const int id = p.id(w);
    // The graph's own outputs are known by construction.
    if (id == plan::kNoValue ||
        (!p.produced[id] && !p.constant[id] && !feeds.count(w) && !(kept_feeds && kept_feeds->count(w))))
      return invalid_argument("unknown output '" + w + "'");
    wanted.push_back(id);
    keep[id] = true;
  }
  return runner_->execute(slots, keep);
}

Result<std::map<std::string, Tensor>> Session::run(const std::map<std::string, Tensor>& feeds,
                                                   const std::vector<std::string>& fetches) {
  std::map<std::string, Value> values;
  for (auto& [name, t] : feeds) values[name] = Value::of(t);
  GLINT_ASSIGN_OR_RETURN(auto out, run_values(values, fetches));
  std::map<std::string, Tensor> result;
  for (auto& [name, v] : out) {
    if (!v.is_tensor())
      return invalid_argument("output '" + name + "' is a " + v.describe() + ", not a tensor (use run_values)");
    result[name] = std::move(v.tensor);
  }
  return result;
}

Result<std::map<std::string, Value>> Session::run_values(const std::map<std::string, Value>& feeds,
                                                         const std::vector<std::string>& fetches) {
  ScopedMemoryBudget charge(memory_);
  return guard_allocations([&] { return run_values_unguarded(feeds, fetches); });
}

Result<std::map<std::string, Value>> Session::run_values_unguarded(const std::map<std::string, Value>& feeds,
                                                                   const std::vector<std::string>& fetches) {
  std::vector<Slot> slots;
  std::vector<int> wanted;
  GLINT_RETURN_IF_ERROR(execute(feeds, fetches, slots, wanted));
  std::map<std::string, Value> result;
  for (int id : wanted) {
    const std::string& name = runner_->plan().names[id];
    if (slots[id].empty()) return internal_error("output '" + name + "' was not computed");
    // Reading a GPU output back allocates it: past the memory cap, say which.
    Value v;
    try {
      GLINT_ASSIGN_OR_RETURN(v, runner_->to_value(slots[id]));
    } catch (const TensorTooLarge& e) {
      return invalid_argument("output '" + name + "': " + e.what());
    }
    if (v.is_tensor() && output_rounds_to_half(name)) v.tensor = rounded_to_half(v.tensor);
    result[name] = std::move(v);
  }
  return result;
}

bool Session::output_rounds_to_half(const std::string& name) const {
  if (!float16_as_float32_) return false;
  for (auto& io : outputs_)
    if (io.name == name) return io.info.dtype == DataType::kFloat16;
  return false;
}

Result<std::unique_ptr<PendingRun>> Session::run_async(const std::map<std::string, Tensor>& feeds,
                                                       const std::vector<std::string>& fetches) {
  return run_async(feeds, fetches, GpuResident{});
}

Result<std::unique_ptr<PendingRun>> Session::run_async(const std::map<std::string, Tensor>& feeds,
                                                       const std::vector<std::string>& fetches,
                                                       const GpuResident& resident) {
  ScopedMemoryBudget charge(memory_);
  return guard_allocations([&] { return run_async_unguarded(feeds, fetches, resident); });
}

Result<std::unique_ptr<PendingRun>> Session::run_async_unguarded(const std::map<std::string, Tensor>& feeds,
                                                                 const std::vector<std::string>& fetches,
                                                                 const GpuResident& resident) {
  std::map<std::string, Value> values;
  for (auto& [name, t] : feeds) values[name] = Value::of(t);
  for (auto& name : resident.keep) {
    bool known = false;
    for (auto& io : outputs_) known = known || io.name == name;
    if (!known) return invalid_argument("output '" + name + "' to keep on the GPU is no output of the model");
    if (gpu_ == nullptr)
      return invalid_argument("output '" + name + "' cannot stay on the GPU: the session runs on the CPU");
  }
  std::vector<Slot> slots;
  std::vector<int> wanted;
  GLINT_RETURN_IF_ERROR(execute(values, fetches, slots, wanted, &resident.feeds));
  std::unique_ptr<PendingRun> pending(new PendingRun());
  // The outputs the GPU holds, read back together (Executor::begin_downloads).
  std::vector<const gl::GpuTensor*> reads;
  std::vector<std::string> read_names;
  for (int id : wanted) {
    const std::string& w = runner_->plan().names[id];
    Slot& slot = slots[id];
    if (slot.empty()) return internal_error("output '" + w + "' was not computed");
    if (slot.other)
      return invalid_argument("output '" + w + "' is a " + slot.other->describe() + ", not a tensor (use run_values)");
    if (output_rounds_to_half(w)) pending->round_to_half_.insert(w);
    if (resident.keep.count(w) && !pending->round_to_half_.count(w)) {
      pending->kept_[w] = KeptOutput{slot.gpu, slot.cpu};
      continue;
    }
    if (slot.cpu) {
      pending->done_[w] = pending->round_to_half_.count(w) ? rounded_to_half(*slot.cpu) : *slot.cpu;
    } else {
      reads.push_back(slot.gpu.get());
      read_names.push_back(w);
    }
  }
  if (!reads.empty()) {
    GLINT_ASSIGN_OR_RETURN(auto started, gpu_->begin_downloads(reads));
    for (size_t i = 0; i < started.size(); ++i) pending->pending_.emplace_back(read_names[i], std::move(started[i]));
  }
  return pending;
}

bool PendingRun::ready() {
  for (auto& [name, d] : pending_)
    if (!d->ready()) return false;
  return true;
}

Result<std::map<std::string, Tensor>> PendingRun::finish() {
  for (auto& [name, d] : pending_) {
    auto t = d->finish();
    if (!t.ok()) return t.status().with_context("output '" + name + "'");
    done_[name] = round_to_half_.count(name) ? rounded_to_half(t.value()) : std::move(t).value();
  }
  pending_.clear();
  return std::move(done_);
}

}  // namespace glint
