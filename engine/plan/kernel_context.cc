#include "engine/plan/kernel_context.h"

#include <cstdint>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/plan/work.h"

namespace glint::plan {

std::optional<gl::KernelContext> static_kernel_context(const ir::Graph& g, const ir::Node& n,
                                                       const std::set<std::string>& half_exact) {
  gl::KernelContext ctx;
  ctx.node = &n;
  for (auto& in : n.inputs) {
    if (in.empty()) {
      ctx.inputs.push_back(std::nullopt);
      ctx.constants.push_back(nullptr);
      continue;
    }
    const ir::ValueInfo* vi = g.info(in);
    if (!vi || !vi->fully_known()) return std::nullopt;
    ctx.inputs.push_back(gl::TensorDesc{vi->dtype, vi->concrete(), half_exact.count(in) > 0});
    auto it = g.initializers.find(in);
    ctx.constants.push_back(it == g.initializers.end() ? nullptr : &it->second);
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const ir::ValueInfo* vi = n.has_output(i) ? g.info(n.outputs[i]) : nullptr;
    if (n.has_output(i) && (!vi || !vi->fully_known())) return std::nullopt;
    ctx.outputs.push_back(vi ? gl::TensorDesc{vi->dtype, vi->concrete()} : gl::TensorDesc{});
  }
  return ctx;
}

Status infer_outputs(const ir::Node& n, InferFn infer, gl::KernelContext& ctx) {
  std::vector<ir::ValueInfo> in_infos(ctx.inputs.size());
  std::vector<const ir::ValueInfo*> in_ptrs(ctx.inputs.size(), nullptr);
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i]) continue;
    in_infos[i] = ir::ValueInfo::of(ctx.inputs[i]->dtype, ctx.inputs[i]->shape);
    in_ptrs[i] = &in_infos[i];
  }
  std::vector<ir::ValueInfo> out_infos(n.outputs.size());
  GLINT_RETURN_IF_ERROR(infer(n, in_ptrs, ctx.constants, out_infos));
  ctx.outputs.clear();
  for (auto& vi : out_infos) ctx.outputs.push_back(gl::TensorDesc{vi.dtype, vi.concrete()});
  return Status::Ok();
}

bool tensors_fit(const gl::KernelContext& ctx, const gl::LayoutPolicy& layout, std::string* why) {
  auto fits = [&](const gl::TensorDesc& d, const std::string& what) {
    if (!gl::gpu_holds_dtype(d.dtype)) return true;  // the candidates judge dtypes themselves
    auto l = gl::choose_layout(d, layout);
    if (l.ok() || l.status().code() != StatusCode::kUnsupported) return true;
    if (why) *why = what + ": " + l.status().message();
    return false;
  };
  for (size_t i = 0; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i] && !fits(*ctx.inputs[i], "input " + std::to_string(i))) return false;
  for (size_t i = 0; i < ctx.outputs.size(); ++i)
    if ((!ctx.node || ctx.node->has_output(i)) && !fits(ctx.outputs[i], "output " + std::to_string(i))) return false;
  return true;
}

namespace {
// Appends the bytes of `v` to `key`.
template <class T>
void append_bytes(std::string& key, const T& v) {
  key.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void append_desc(std::string& key, const gl::TensorDesc& d) {
  append_bytes(key, static_cast<int32_t>(d.dtype));
  append_bytes(key, static_cast<int32_t>(d.shape.size()));
  key.append(reinterpret_cast<const char*>(d.shape.data()), d.shape.size() * sizeof(int64_t));
  key.push_back(d.half_exact ? 'h' : '.');
}
}  // namespace

// Raw bytes rather than text: every GPU step computes its signature on every
// run, and formatted (shapes and doubles through a stream) it cost a GPT
// decode step about half a millisecond in Chromium.
std::string program_signature(const gl::KernelContext& ctx, const std::vector<bool>& looked_at) {
  std::string key;
  key.reserve(256);
  for (auto& in : ctx.inputs) {
    if (!in) {
      key.push_back('-');
      continue;
    }
    key.push_back('i');
    append_desc(key, *in);
  }
  // Kernels bake output shapes too; ops whose output size depends on values
  // (Range, NonZero, TopK, Resize...) must not reuse a program of another size.
  for (auto& out : ctx.outputs) {
    key.push_back('o');
    append_desc(key, out);
  }
  for (size_t i = 0; i < looked_at.size() && i < ctx.constants.size(); ++i) {
    if (!looked_at[i]) continue;
    const Tensor* c = ctx.constants[i];
    key.push_back('c');
    append_bytes(key, static_cast<int32_t>(i));
    // Constant values a kernel may bake (shapes, clip bounds, a few gather
    // indices) are small; a big one is read through a sampler, as one not
    // on the CPU is (BERT's 128 token ids: known at a run, not at creation,
    // and the passes built at creation serve).
    if (!c || c->size() > 16 || c->dtype() == DataType::kString) {
      key.push_back('?');
      continue;
    }
    key.push_back('=');
    append_bytes(key, static_cast<int32_t>(c->size()));
    for (int64_t k = 0; k < c->size(); ++k) append_bytes(key, c->get_as_double(k));
  }
  return key;
}

bool cheaper_on_cpu_than_compiled(const gl::KernelContext& ctx, const std::vector<gl::ProgramInfo>& passes) {
  if (ctx.node == nullptr) return false;
  bool bakes_sizes = false;
  for (const gl::ProgramInfo& p : passes) bakes_sizes = bakes_sizes || !p.shape_uniforms;
  if (!bakes_sizes) return false;
  std::vector<std::optional<Shape>> ins, outs;
  for (const auto& in : ctx.inputs) ins.push_back(in ? std::optional<Shape>(in->shape) : std::nullopt);
  for (const auto& out : ctx.outputs) outs.push_back(out.shape);
  return estimate_flops(*ctx.node, ins, outs) <= kSmallStepFlops;
}

std::string CandidateChoice::first_reason() const {
  return declined.empty() ? std::string() : declined.front().candidate + ": " + declined.front().reason;
}

CandidateChoice choose_candidate(const std::vector<const GpuCandidate*>& candidates, const gl::KernelContext& ctx) {
  CandidateChoice choice;
  for (const GpuCandidate* c : candidates) {
    std::string reason;
    if (c->supports == nullptr || c->supports(ctx, &reason)) {
      choice.winner = c;
      break;
    }
    choice.declined.push_back({c->name, reason});
  }
  return choice;
}

Result<std::vector<gl::ProgramInfo>> build_passes(const GpuCandidate& c, const gl::KernelContext& ctx) {
  GLINT_ASSIGN_OR_RETURN(std::vector<gl::ProgramInfo> passes, c.build(ctx));
  const FusedActivation act = fused_activation_of(*ctx.node);
  if (act.kind == FusedActivation::kNone) return passes;
  for (auto& p : passes) {
    if (p.node_output != 0) continue;
    p.activation = gl::fused_activation_glsl(act, "glint_v");
    p.activation4 = gl::fused_activation_glsl(act, "glint_v4", /*vec4=*/true);
    for (std::string& s : gl::fused_activation_snippets(act)) p.snippets.push_back(std::move(s));
  }
  return passes;
}

}  // namespace glint::plan
