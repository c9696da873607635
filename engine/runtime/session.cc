#include "engine/runtime/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>
#include <set>
#include <stdexcept>
#include <sstream>

#include "engine/core/fused_activation.h"
#include "engine/core/half.h"
#include "engine/core/tuning.h"
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/core/log.h"
#include "engine/onnx/loader.h"
#include "engine/passes/passes.h"
#include "engine/runtime/registry.h"
#include "engine/runtime/value_kernels.h"

namespace glint {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string node_label(const ir::Node& n) {
  if (!n.name.empty()) return n.name;
  return n.outputs.empty() ? n.op_type : n.outputs[0];
}

std::string dtypes_of(const std::vector<const ir::ValueInfo*>& ins) {
  std::string s;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (i) s += ", ";
    s += ins[i] ? ins[i]->describe() : "absent";
  }
  return s;
}

// The input signature of a node's concrete descs: the key for its programs.
std::string signature(const gl::KernelContext& ctx) {
  std::ostringstream os;
  for (auto& in : ctx.inputs) {
    if (!in) { os << "-;"; continue; }
    os << static_cast<int>(in->dtype) << shape_str(in->shape) << (in->half_exact ? "h;" : ";");
  }
  // Kernels bake output shapes too; ops whose output size depends on values
  // (Range, NonZero, TopK, Resize...) must not reuse a program of another size.
  os << "->";
  for (auto& out : ctx.outputs) os << static_cast<int>(out.dtype) << shape_str(out.shape) << ";";
  for (size_t i = 0; i < ctx.constants.size(); ++i) {
    const Tensor* c = ctx.constants[i];
    // Constant values a kernel may bake (shapes, clip bounds) are small; big
    // constants (weights) are read through samplers and do not change.
    if (c && c->size() <= 16 && c->dtype() != DataType::kString) {
      os << "c" << i << "=";
      for (int64_t k = 0; k < c->size(); ++k) os << c->get_as_double(k) << ",";
    }
  }
  return os.str();
}

}  // namespace

// A float32 tensor as the float16 its output is declared to be.
static Tensor rounded_to_half(const Tensor& t) {
  if (t.dtype() != DataType::kFloat32) return t;
  Tensor half(DataType::kFloat16, t.shape());
  for (int64_t i = 0; i < half.size(); ++i) half.data<float>()[i] = round_to_half(t.data<float>()[i]);
  return half;
}

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

Result<gl::Executor*> shared_executor() {
  static Result<std::unique_ptr<gl::Executor>> executor = gl::create_executor();
  if (!executor.ok()) return executor.status();
  return executor.value().get();
}

struct Session::Slot {
  std::optional<Tensor> cpu;
  gl::GpuTensorPtr gpu;
  std::optional<Value> other;  // a sequence or an empty optional (never on the GPU)
  gl::TensorDesc desc() const {
    if (gpu) return gpu->desc();
    return gl::TensorDesc{cpu->dtype(), cpu->shape()};
  }
};

struct Session::NodeState {
  bool gpu = false;
  std::vector<const GpuCandidate*> candidates;
  const CpuCandidate* cpu = nullptr;
  const ValueRow* value = nullptr;  // sequence / optional / control-flow kernel
  std::string program_signature;  // the signature `passes` were built for
  std::vector<gl::ProgramInfo> passes;
  gl::PassCache pass_cache;       // outputs of `passes` that read only constants
  std::string fallback_reason;    // last run-time decline, if any

  // New passes for node `n` of `g`: a pass reading only the model's
  // constants (directly or through earlier such passes) is marked for the
  // executor to draw once and keep; the node's own outputs never are.
  void set_passes(std::vector<gl::ProgramInfo> p, std::string signature, const ir::Graph& g, const ir::Node& n) {
    passes = std::move(p);
    program_signature = std::move(signature);
    pass_cache.resize(passes.size());
    for (size_t k = 0; k < passes.size(); ++k) {
      bool constant = passes[k].node_output < 0 && !passes[k].inputs.empty();
      for (const gl::ProgramInput& pi : passes[k].inputs) {
        if (pi.source >= 0) {
          const size_t i = static_cast<size_t>(pi.source);
          constant = constant && i < n.inputs.size() && !n.inputs[i].empty() && g.is_constant(n.inputs[i]);
        } else {
          const size_t j = static_cast<size_t>(-(pi.source + 1));
          constant = constant && j < k && pass_cache.constant[j];
        }
      }
      pass_cache.constant[k] = constant;
    }
  }
};

namespace {

// The activation fuse_activations put on `n`, as the shader's output store
// applies it, on every pass that writes output 0.
void attach_fused_activation(const ir::Node& n, std::vector<gl::ProgramInfo>& passes) {
  const FusedActivation act = fused_activation_of(n);
  if (act.kind == FusedActivation::kNone) return;
  for (auto& p : passes) {
    if (p.node_output != 0) continue;
    p.activation = gl::fused_activation_glsl(act, "glint_v");
    p.activation4 = gl::fused_activation_glsl(act, "glint_v4", /*vec4=*/true);
  }
}

}  // namespace

Session::~Session() {
  if (!profile_ || profile_ms_.empty()) return;
  // The slowest nodes, summed over every run of this session.
  std::vector<std::pair<double, size_t>> by_time;
  double total = 0;
  for (auto& [idx, ms] : profile_ms_) {
    by_time.push_back({ms, idx});
    total += ms;
  }
  std::sort(by_time.rbegin(), by_time.rend());
  std::fprintf(stderr, "GLINT_PROFILE: %.1f ms in %zu nodes (all runs)\n", total, by_time.size());
  for (size_t i = 0; i < by_time.size() && i < 25; ++i) {
    const size_t idx = by_time[i].second;
    const NodeState& st = *states_[idx];
    std::fprintf(stderr, "  %8.1f ms %5.1f%%  %-4s %s\n", by_time[i].first, 100.0 * by_time[i].first / total,
                 st.gpu ? "gpu" : "cpu", graph_.nodes[idx].describe().c_str());
  }
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
  } catch (const std::length_error&) {
    return Status(StatusCode::kInvalidArgument, "out of memory: the model asks for a tensor larger than memory");
  }
}

Result<std::unique_ptr<Session>> Session::create(const void* data, size_t size,
                                                 const SessionOptions& options) {
  return guard_allocations([&] { return create_unguarded(data, size, options); });
}

Result<std::unique_ptr<Session>> Session::create_unguarded(const void* data, size_t size,
                                                           const SessionOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  GLINT_ASSIGN_OR_RETURN(ir::Graph g, onnx_loader::load_model(data, size));
  std::unique_ptr<Session> s(new Session());
  s->timings_.load_ms = ms_since(t0);
  GLINT_RETURN_IF_ERROR(s->init(std::move(g), options));
  return s;
}

Result<std::unique_ptr<Session>> Session::create_from_file(const std::string& path,
                                                           const SessionOptions& options) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, onnx_loader::read_file(path));
  auto s = create(bytes.data(), bytes.size(), options);
  if (!s.ok()) return s.status().with_context(path);
  return s;
}

Status Session::init(ir::Graph graph, const SessionOptions& options) {
  if (const char* p = std::getenv("GLINT_PROFILE")) profile_ = *p && *p != '0';
  options_ = options;
  graph_ = std::move(graph);
  for (auto& name : graph_.inputs) {
    const ir::ValueInfo* vi = graph_.info(name);
    inputs_.push_back({name, vi ? *vi : ir::ValueInfo{}});
  }
  auto t0 = std::chrono::steady_clock::now();
  passes::OptimizeOptions popts;
  popts.fold = options.fold_constants;
  popts.fuse_activations = optimization_enabled("fuse");  // applied in run_cpu_node / attach_fused_activation
  popts.keep_nodes = options.force_cpu;  // a node forced onto the CPU keeps its identity
  GLINT_RETURN_IF_ERROR(passes::optimize(graph_, popts));
  timings_.optimize_ms = ms_since(t0);
  for (auto& name : graph_.outputs) {
    const ir::ValueInfo* vi = graph_.info(name);
    outputs_.push_back({name, vi ? *vi : ir::ValueInfo{}});
  }
  // After the outputs' declared dtypes are recorded: they are rounded to half
  // when they leave, whatever precision computed them.
  GLINT_RETURN_IF_ERROR(passes::compute_float16_in_float32(graph_, &float16_as_float32_));
  GLINT_ASSIGN_OR_RETURN(order_, ir::topological_order(graph_));
  for (auto& n : graph_.nodes)
    for (auto& o : n.outputs)
      if (!o.empty()) produced_.insert(o);
  for (size_t pos = 0; pos < order_.size(); ++pos) {
    const ir::Node& n = graph_.nodes[order_[pos]];
    for (auto& in : n.inputs) if (!in.empty()) last_use_[in] = pos;
    for (auto& in : n.implicit_inputs) last_use_[in] = pos;
  }
  if (options_.backend != BackendMode::kCpu) {
    GLINT_ASSIGN_OR_RETURN(gpu_, shared_executor());
  }
  GLINT_RETURN_IF_ERROR(place_nodes());
  t0 = std::chrono::steady_clock::now();
  GLINT_RETURN_IF_ERROR(compile_static());
  timings_.compile_ms = ms_since(t0);
  return Status::Ok();
}

Status Session::place_nodes() {
  states_.resize(graph_.nodes.size());
  placements_.clear();
  for (size_t idx : order_) {
    const ir::Node& n = graph_.nodes[idx];
    auto st = std::make_unique<NodeState>();
    st->cpu = find_cpu_kernel(n);
    st->candidates = find_gpu_kernels(n);
    st->value = find_value_kernel(n);
    std::vector<const ir::ValueInfo*> ins;
    for (auto& in : n.inputs) ins.push_back(in.empty() ? nullptr : graph_.info(in));
    if (!st->cpu && st->candidates.empty() && !st->value) {
      std::string what = op_known(n.op_type, n.domain)
                             ? "no kernel supports this op at opset " + std::to_string(n.opset)
                             : "op '" + n.op_type + "'" +
                                   (n.domain.empty() ? "" : " of domain '" + n.domain + "'") +
                                   " is not implemented";
      return unsupported(n.describe() + ": " + what + " (inputs: " + dtypes_of(ins) + ")");
    }
    NodePlacement p;
    p.node = node_label(n);
    p.op = n.op_type;
    bool forced = options_.force_cpu.count(n.name) ||
                  (!n.outputs.empty() && options_.force_cpu.count(n.outputs[0]));
    if (st->value && !st->cpu && st->candidates.empty()) {
      // Sequences, optionals and subgraphs live on the CPU.
      if (options_.backend == BackendMode::kGpu)
        return unsupported(n.describe() + " is a sequence/optional/control-flow op, which runs on the CPU, "
                           "and the backend is gpu-only");
      p.gpu = false;
      p.kernel = st->value->name;
      p.reason = "sequence, optional or control-flow op (CPU)";
    } else if (options_.backend == BackendMode::kCpu || forced) {
      if (!st->cpu)
        return unsupported(n.describe() + ": has no CPU kernel, but " +
                           (forced ? std::string("it was forced onto the CPU")
                                   : std::string("the backend is cpu")));
      p.gpu = false;
      p.kernel = st->cpu->name;
      p.reason = forced ? "forced onto the CPU" : "cpu backend";
    } else {
      std::string why = st->candidates.empty() ? "no GPU kernel for " + n.op_type : "";
      bool gpu_ok = false;
      // With fully known input shapes the candidates can be asked now;
      // otherwise the choice is made (and cached) at the first run.
      bool known = true;
      gl::KernelContext ctx;
      ctx.node = &n;
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        if (n.inputs[i].empty()) { ctx.inputs.push_back(std::nullopt); ctx.constants.push_back(nullptr); continue; }
        const ir::ValueInfo* vi = graph_.info(n.inputs[i]);
        if (!vi || !vi->fully_known()) { known = false; break; }
        ctx.inputs.push_back(gl::TensorDesc{vi->dtype, vi->concrete()});
        auto it = graph_.initializers.find(n.inputs[i]);
        ctx.constants.push_back(it == graph_.initializers.end() ? nullptr : &it->second);
      }
      for (size_t i = 0; known && i < n.outputs.size(); ++i) {
        const ir::ValueInfo* vi = n.has_output(i) ? graph_.info(n.outputs[i]) : nullptr;
        if (n.has_output(i) && (!vi || !vi->fully_known())) known = false;
        ctx.outputs.push_back(vi ? gl::TensorDesc{vi->dtype, vi->concrete()} : gl::TensorDesc{});
      }
      for (auto* c : st->candidates) {
        if (!known) { gpu_ok = true; p.kernel = c->name; break; }
        std::string reason;
        if (c->supports == nullptr || c->supports(ctx, &reason)) { gpu_ok = true; p.kernel = c->name; break; }
        if (why.empty()) why = std::string(c->name) + ": " + reason;
      }
      if (gpu_ok) {
        p.gpu = true;
      } else if (options_.backend == BackendMode::kGpu) {
        return unsupported(n.describe() + " cannot run on the GPU (" + why + "; inputs: " + dtypes_of(ins) +
                           ") and the backend is gpu-only");
      } else if (!st->cpu) {
        return unsupported(n.describe() + ": its GPU kernel declines it (" + why +
                           ") and there is no CPU kernel (inputs: " + dtypes_of(ins) + ")");
      } else {
        p.gpu = false;
        p.kernel = st->cpu->name;
        p.reason = why;
      }
    }
    st->gpu = p.gpu;
    states_[idx] = std::move(st);
    placements_.push_back(std::move(p));
  }
  return Status::Ok();
}

// Builds and compiles the programs of every GPU node whose shapes are known
// at creation, so the first run does not pay for shader compiles.
Status Session::compile_static() {
  if (gpu_ == nullptr) return Status::Ok();
  // Weights that are exact halves (a float16 model's, widened or not) may
  // live on the GPU as packed halves: half the fetches, same values.
  for (auto& [name, t] : graph_.initializers)
    if (gl::held_as_half_weights(t)) half_exact_.insert(name);
  for (size_t idx : order_) {
    NodeState& st = *states_[idx];
    if (!st.gpu) continue;
    const ir::Node& n = graph_.nodes[idx];
    gl::KernelContext ctx;
    ctx.node = &n;
    bool known = true;
    std::vector<const ir::ValueInfo*> ins;
    for (auto& in : n.inputs) {
      const ir::ValueInfo* vi = in.empty() ? nullptr : graph_.info(in);
      if (!in.empty() && (!vi || !vi->fully_known())) known = false;
      ins.push_back(vi);
      ctx.inputs.push_back(vi ? std::optional<gl::TensorDesc>(
                                    gl::TensorDesc{vi->dtype, vi->concrete(), half_exact_.count(in) > 0})
                              : std::nullopt);
      auto it = in.empty() ? graph_.initializers.end() : graph_.initializers.find(in);
      ctx.constants.push_back(it == graph_.initializers.end() ? nullptr : &it->second);
    }
    for (size_t i = 0; known && i < n.outputs.size(); ++i) {
      const ir::ValueInfo* vi = n.has_output(i) ? graph_.info(n.outputs[i]) : nullptr;
      if (n.has_output(i) && (!vi || !vi->fully_known())) known = false;
      ctx.outputs.push_back(vi ? gl::TensorDesc{vi->dtype, vi->concrete()} : gl::TensorDesc{});
    }
    if (!known) continue;
    for (auto* c : st.candidates) {
      std::string reason;
      if (c->supports && !c->supports(ctx, &reason)) continue;
      auto passes = c->build(ctx);
      if (!passes.ok()) return passes.status().with_context(n.describe());
      attach_fused_activation(n, passes.value());
      Status s = gpu_->prepare(passes.value(), ctx.inputs);
      if (!s.ok()) return s.with_context(n.describe());
      st.set_passes(std::move(passes).value(), signature(ctx), graph_, n);
      break;
    }
  }
  // Weights go up now, in the layout their kernels read: the first run then
  // costs what every run costs, and the texture pool starts every run from
  // the same state. (Small or integer constants are often baked into the
  // shaders instead; they go up on first use, if ever.)
  for (size_t idx : order_) {
    if (!states_[idx]->gpu) continue;
    for (auto& in : graph_.nodes[idx].inputs) {
      auto it = in.empty() ? graph_.initializers.end() : graph_.initializers.find(in);
      if (it == graph_.initializers.end() || gpu_constants_.count(in)) continue;
      const Tensor& t = it->second;
      if (!is_float(t.dtype()) || t.dtype() == DataType::kFloat64 || t.size() <= 16) continue;
      auto up = gpu_->upload(t, half_exact_.count(in) > 0);
      if (up.ok()) gpu_constants_[in] = up.value();
    }
  }
  // The texture pool may keep what this graph needs, and no more.
  const int64_t budget = memory_budget();
  const int64_t current = gpu_->memory_budget();
  if (current <= 0 || current == std::numeric_limits<int64_t>::max() || current < budget) {
    gpu_->set_memory_budget(budget);
  }
  return Status::Ok();
}

int64_t Session::memory_budget() const {
  if (gpu_ == nullptr) return 0;
  const gl::LayoutLimits max = gpu_->layout_limits();
  auto bytes = [&](const std::string& name) -> int64_t {
    const ir::ValueInfo* vi = graph_.info(name);
    if (!vi || vi->kind != ir::TypeKind::kTensor || !vi->fully_known()) return 0;
    auto l = gl::choose_layout(gl::TensorDesc{vi->dtype, vi->concrete()}, max);
    return l.ok() ? l->byte_size() : 0;
  };
  int64_t weights = 0;
  for (auto& [name, t] : graph_.initializers) {
    auto l = gl::choose_layout(gl::TensorDesc{t.dtype(), t.shape(), half_exact_.count(name) > 0}, max);
    weights += l.ok() ? l->byte_size() : 0;
  }
  // Each value is live from the step that writes it to its last reader: one
  // sweep over the steps with the live sizes in a multiset (the two largest
  // at its end).
  std::vector<std::vector<int64_t>> dying(order_.size() + 1);  // bytes freed after each step
  std::multiset<int64_t> live;
  int64_t activations = 0;
  for (size_t pos = 0; pos < order_.size(); ++pos) {
    for (auto& o : graph_.nodes[order_[pos]].outputs) {
      if (o.empty()) continue;
      auto last = last_use_.find(o);
      const int64_t b = bytes(o);
      live.insert(b);
      dying[last == last_use_.end() ? order_.size() : last->second].push_back(b);
    }
    auto top = live.rbegin();
    const int64_t first = top == live.rend() ? 0 : *top++;
    const int64_t second = top == live.rend() ? 0 : *top;
    activations = std::max(activations, first + second);
    for (int64_t b : dying[pos]) live.erase(live.find(b));
  }
  // The bound the tests hold the pool to (test_gpu_memory.cc), with room
  // for textures a best fit shares between tensors of different sizes.
  return (weights + activations) * 3 / 2;
}

std::optional<gl::MemoryStats> Session::gpu_memory() const {
  if (gpu_ == nullptr) return std::nullopt;
  return gpu_->memory();
}

std::string Session::renderer() const { return gpu_ ? gpu_->caps().renderer : "cpu"; }

Status Session::check_feed(const IoInfo& io, const Tensor& t) const {
  const ir::ValueInfo& want = io.info;
  if (want.dtype != DataType::kUndefined && t.dtype() != want.dtype)
    return invalid_argument("input '" + io.name + "': expected dtype " + dtype_name(want.dtype) + ", got " +
                            dtype_name(t.dtype()));
  if (!want.has_shape) return Status::Ok();
  bool ok = want.dims.size() == t.shape().size();
  for (size_t i = 0; ok && i < want.dims.size(); ++i)
    if (want.dims[i].known() && want.dims[i].value != t.shape()[i]) ok = false;
  if (!ok)
    return invalid_argument("input '" + io.name + "': expected shape " + want.describe() + ", got " +
                            tensor_desc(t));
  if (t.dtype() != DataType::kString && t.byte_size() != static_cast<size_t>(t.size()) * storage_size(t.dtype()))
    return invalid_argument("input '" + io.name + "': data size does not match its shape " + shape_str(t.shape()));
  return Status::Ok();
}

Result<Tensor> Session::to_cpu(Slot& slot) {
  if (!slot.cpu) {
    GLINT_ASSIGN_OR_RETURN(Tensor t, gpu_->download(*slot.gpu));
    slot.cpu = std::move(t);
  }
  return *slot.cpu;
}

Result<Value> Session::to_value(Slot& slot) {
  if (slot.other) return *slot.other;
  GLINT_ASSIGN_OR_RETURN(Tensor t, to_cpu(slot));
  return Value::of(std::move(t));
}

Status Session::run_value_node(size_t idx, std::map<std::string, Slot>& slots) {
  const ir::Node& n = graph_.nodes[idx];
  const ValueRow* k = states_[idx]->value;
  std::vector<Value> held(n.inputs.size());
  std::vector<const Value*> ins(n.inputs.size(), nullptr);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) continue;
    GLINT_ASSIGN_OR_RETURN(held[i], to_value(slots.at(n.inputs[i])));
    ins[i] = &held[i];
  }
  // Subgraphs read outer values by name: hand them this node's implicit inputs.
  std::map<std::string, Value> scope;
  for (auto& name : n.implicit_inputs) {
    auto it = slots.find(name);
    if (it == slots.end()) continue;  // defined by an enclosing subgraph scope, not this graph
    GLINT_ASSIGN_OR_RETURN(scope[name], to_value(it->second));
  }
  auto runner = make_subgraph_runner([&scope](const std::string& name) -> const Value* {
    auto it = scope.find(name);
    return it == scope.end() ? nullptr : &it->second;
  });
  std::vector<Value> outs(n.outputs.size());
  Status s = k->run(n, ins, outs, *runner);
  if (!s.ok()) return s.message().find(n.describe()) == std::string::npos ? s.with_context(n.describe()) : s;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!n.has_output(i)) continue;
    Slot& slot = slots[n.outputs[i]];
    if (outs[i].is_tensor()) slot.cpu = std::move(outs[i].tensor);
    else slot.other = std::move(outs[i]);
  }
  return Status::Ok();
}

Result<gl::GpuTensorPtr> Session::to_gpu(const std::string& name, Slot& slot) {
  if (slot.gpu) return slot.gpu;
  bool constant = graph_.is_constant(name);
  if (constant) {
    auto it = gpu_constants_.find(name);
    if (it != gpu_constants_.end()) return slot.gpu = it->second;
  }
  GLINT_ASSIGN_OR_RETURN(slot.gpu, gpu_->upload(*slot.cpu, half_exact_.count(name) > 0));
  if (constant) gpu_constants_[name] = slot.gpu;  // weights are uploaded once per session
  return slot.gpu;
}

Status Session::run_cpu_node(size_t idx, std::map<std::string, Slot>& slots) {
  const ir::Node& n = graph_.nodes[idx];
  NodeState& st = *states_[idx];
  if (!st.cpu) return unsupported(n.describe() + ": no CPU kernel");
  // Inputs that live on the GPU are read back (and kept in their slot, so a
  // value read by several CPU nodes crosses the edge once).
  std::vector<Tensor> held(n.inputs.size());
  std::vector<const Tensor*> ins(n.inputs.size(), nullptr);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) continue;
    GLINT_ASSIGN_OR_RETURN(held[i], to_cpu(slots.at(n.inputs[i])));
    ins[i] = &held[i];
  }
  std::vector<Tensor> outs(n.outputs.size());
  Status s = st.cpu->run(n, ins, outs);
  if (!s.ok()) return s.message().find(n.describe()) == std::string::npos ? s.with_context(n.describe()) : s;
  const FusedActivation act = fused_activation_of(n);
  if (!outs.empty() && !st.cpu->applies(act, outs[0].dtype())) apply_fused_activation(act, outs[0]);
  for (size_t i = 0; i < outs.size(); ++i)
    if (n.has_output(i)) slots[n.outputs[i]].cpu = std::move(outs[i]);
  return Status::Ok();
}

Status Session::run_gpu_node(size_t idx, std::map<std::string, Slot>& slots, bool* fell_back) {
  const ir::Node& n = graph_.nodes[idx];
  NodeState& st = *states_[idx];
  *fell_back = false;
  gl::KernelContext ctx;
  ctx.node = &n;
  std::vector<ir::ValueInfo> in_infos(n.inputs.size());
  std::vector<const ir::ValueInfo*> in_ptrs(n.inputs.size(), nullptr);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) { ctx.inputs.push_back(std::nullopt); ctx.constants.push_back(nullptr); continue; }
    Slot& slot = slots.at(n.inputs[i]);
    gl::TensorDesc d = slot.desc();
    d.half_exact = half_exact_.count(n.inputs[i]) > 0;
    ctx.inputs.push_back(d);
    in_infos[i] = ir::ValueInfo::of(d.dtype, d.shape);
    in_ptrs[i] = &in_infos[i];
    ctx.constants.push_back(slot.cpu ? &*slot.cpu : nullptr);
  }
  InferFn infer = find_infer(n);
  if (infer == nullptr) {
    st.fallback_reason = "no shape function for " + n.op_type;
    *fell_back = true;
    return Status::Ok();
  }
  std::vector<ir::ValueInfo> out_infos(n.outputs.size());
  GLINT_RETURN_IF_ERROR(infer(n, in_ptrs, ctx.constants, out_infos));
  for (auto& vi : out_infos) ctx.outputs.push_back(gl::TensorDesc{vi.dtype, vi.concrete()});
  std::string sig = signature(ctx);
  if (st.passes.empty() || st.program_signature != sig) {
    st.set_passes({}, "", graph_, n);
    std::string why;
    for (auto* c : st.candidates) {
      std::string reason;
      if (c->supports && !c->supports(ctx, &reason)) {
        if (why.empty()) why = std::string(c->name) + ": " + reason;
        continue;
      }
      auto passes = c->build(ctx);
      if (!passes.ok()) return passes.status().with_context(n.describe());
      attach_fused_activation(n, passes.value());
      st.set_passes(std::move(passes).value(), sig, graph_, n);
      break;
    }
    if (st.passes.empty()) {
      st.fallback_reason = why;
      *fell_back = true;
      return Status::Ok();
    }
  }
  // A value the GPU cannot hold (an int64 beyond its exact range, say) sends
  // this node to its CPU kernel for this run, unless the backend is gpu-only.
  auto decline = [&](const Status& s) -> Status {
    if (s.code() != StatusCode::kUnsupported || options_.backend == BackendMode::kGpu || !st.cpu)
      return s.with_context(n.describe());
    st.fallback_reason = s.message();
    *fell_back = true;
    return Status::Ok();
  };
  std::vector<gl::GpuTensorPtr> ins(n.inputs.size());
  for (auto& pass : st.passes)
    for (auto& pi : pass.inputs)
      if (pi.source >= 0 && !ins[pi.source]) {
        if (static_cast<size_t>(pi.source) >= n.inputs.size() || n.inputs[pi.source].empty())
          return internal_error(n.describe() + ": program '" + pass.name + "' reads absent input " +
                                std::to_string(pi.source));
        auto uploaded = to_gpu(n.inputs[pi.source], slots.at(n.inputs[pi.source]));
        if (!uploaded.ok()) return decline(uploaded.status());
        ins[pi.source] = uploaded.value();
      }
  static const bool pass_cache = optimization_enabled("pass-cache");
  auto outs = gpu_->run(st.passes, ins, n.outputs.size(), pass_cache ? &st.pass_cache : nullptr);
  if (!outs.ok()) return decline(outs.status());
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (!n.has_output(i)) continue;
    if (!outs.value()[i]) return internal_error(n.describe() + ": GPU kernel did not write output " + std::to_string(i));
    slots[n.outputs[i]].gpu = outs.value()[i];
  }
  return Status::Ok();
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
  return guard_allocations([&] { return run_values_unguarded(feeds, fetches); });
}

Result<std::map<std::string, Value>> Session::run_values_unguarded(const std::map<std::string, Value>& feeds,
                                                                   const std::vector<std::string>& fetches) {
  std::map<std::string, Slot> slots;
  std::vector<std::string> wanted;
  GLINT_RETURN_IF_ERROR(execute(feeds, fetches, slots, wanted));
  std::map<std::string, Value> result;
  for (auto& w : wanted) {
    auto it = slots.find(w);
    if (it == slots.end()) return internal_error("output '" + w + "' was not computed");
    GLINT_ASSIGN_OR_RETURN(result[w], to_value(it->second));
    Value& v = result[w];
    if (v.is_tensor() && output_rounds_to_half(w)) v.tensor = rounded_to_half(v.tensor);
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
  return guard_allocations([&] { return run_async_unguarded(feeds, fetches); });
}

Result<std::unique_ptr<PendingRun>> Session::run_async_unguarded(const std::map<std::string, Tensor>& feeds,
                                                                 const std::vector<std::string>& fetches) {
  std::map<std::string, Value> values;
  for (auto& [name, t] : feeds) values[name] = Value::of(t);
  std::map<std::string, Slot> slots;
  std::vector<std::string> wanted;
  GLINT_RETURN_IF_ERROR(execute(values, fetches, slots, wanted));
  std::unique_ptr<PendingRun> pending(new PendingRun());
  for (auto& w : wanted) {
    auto it = slots.find(w);
    if (it == slots.end()) return internal_error("output '" + w + "' was not computed");
    Slot& slot = it->second;
    if (slot.other)
      return invalid_argument("output '" + w + "' is a " + slot.other->describe() + ", not a tensor (use run_values)");
    if (output_rounds_to_half(w)) pending->round_to_half_.insert(w);
    if (slot.cpu) {
      pending->done_[w] = pending->round_to_half_.count(w) ? rounded_to_half(*slot.cpu) : *slot.cpu;
    } else {
      GLINT_ASSIGN_OR_RETURN(auto d, gpu_->begin_download(*slot.gpu));
      pending->pending_.emplace_back(w, std::move(d));
    }
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

Status Session::execute(const std::map<std::string, Value>& feeds, const std::vector<std::string>& fetches,
                        std::map<std::string, Slot>& slots, std::vector<std::string>& wanted) {
  for (auto& [name, v] : feeds) {
    const IoInfo* io = nullptr;
    for (auto& candidate : inputs_)
      if (candidate.name == name) io = &candidate;
    if (io == nullptr) {
      std::string names;
      for (auto& i : inputs_) names += (names.empty() ? "'" : ", '") + i.name + "'";
      if (graph_.is_constant(name))
        return invalid_argument("'" + name + "' is a constant (initializer) of the model, not an input; inputs: " + names);
      return invalid_argument("unknown input '" + name + "'; the model's inputs are " + (names.empty() ? "none" : names));
    }
    bool want_tensor = io->info.kind == ir::TypeKind::kTensor;
    bool optional = io->info.kind == ir::TypeKind::kOptionalTensor || io->info.kind == ir::TypeKind::kOptionalSequence;
    if (v.is_tensor() && (want_tensor || io->info.kind == ir::TypeKind::kOptionalTensor)) {
      if (want_tensor) GLINT_RETURN_IF_ERROR(check_feed(*io, v.tensor));
      slots[name].cpu = float16_as_float32_ && v.tensor.dtype() == DataType::kFloat16
                            ? v.tensor.retagged(DataType::kFloat32)
                            : v.tensor;
    } else if (!want_tensor && (v.kind == Value::Kind::kSequence || (optional && v.kind == Value::Kind::kNone))) {
      slots[name].other = v;
    } else {
      return invalid_argument("input '" + name + "': expected " + io->info.describe() + ", got " + v.describe());
    }
  }
  for (auto& io : inputs_)
    if (!feeds.count(io.name))
      return invalid_argument("missing input '" + io.name + "' (" + io.info.describe() + ")");
  for (auto& [name, t] : graph_.initializers) slots[name].cpu = t;

  wanted = fetches.empty() ? graph_.outputs : fetches;
  for (auto& w : fetches)  // the graph's own outputs are known by construction
    if (!produced_.count(w) && !graph_.is_constant(w) && !feeds.count(w))
      return invalid_argument("unknown output '" + w + "'");
  std::set<std::string> keep(wanted.begin(), wanted.end());

  for (size_t pos = 0; pos < order_.size(); ++pos) {
    size_t idx = order_[pos];
    const ir::Node& n = graph_.nodes[idx];
    NodeState& st = *states_[idx];
    bool non_tensor_input = false;
    for (auto& in : n.inputs)
      if (!in.empty() && slots.at(in).other) non_tensor_input = true;
    if (st.value && (non_tensor_input || (!st.cpu && st.candidates.empty()))) {
      if (options_.backend == BackendMode::kGpu)
        return unsupported(n.describe() + " reads a sequence or optional, which lives on the CPU, and the "
                           "backend is gpu-only");
      GLINT_RETURN_IF_ERROR(run_value_node(idx, slots));
    } else {
      if (non_tensor_input)
        return invalid_argument(n.describe() + ": expects tensors, got a sequence or an empty optional");
      bool fell_back = false;
      const auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      if (st.gpu) GLINT_RETURN_IF_ERROR(run_gpu_node(idx, slots, &fell_back));
      if (!st.gpu || fell_back) {
        if (fell_back && options_.backend == BackendMode::kGpu)
          return unsupported(n.describe() + " cannot run on the GPU with these inputs (" + st.fallback_reason +
                             ") and the backend is gpu-only");
        GLINT_RETURN_IF_ERROR(run_cpu_node(idx, slots));
      }
      if (profile_) {
        if (gpu_) gpu_->finish();
        profile_ms_[idx] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      }
    }
    // Free what no later node reads, so textures return to the pool early.
    auto release = [&](const std::string& in) {
      if (in.empty() || keep.count(in) || graph_.is_constant(in)) return;
      auto it = last_use_.find(in);
      if (it != last_use_.end() && it->second == pos) slots.erase(in);
    };
    for (auto& in : n.inputs) release(in);
    for (auto& in : n.implicit_inputs) release(in);
  }
  return Status::Ok();
}

}  // namespace glint
