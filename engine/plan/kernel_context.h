// The one place a GPU KernelContext is assembled and its candidates asked:
// at creation from the graph's declared value infos (build_plan), and at run
// time from the concrete tensors (the runner), so both ask the same question
// the same way.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/plan/plan.h"

namespace glint::plan {

// The context of `n` from the declared infos of `g`; nullopt when some
// input or output shape is not fully known before a run. Constant inputs
// carry their initializer; `half_exact` names the constants held as halves.
std::optional<gl::KernelContext> static_kernel_context(const ir::Graph& g, const ir::Node& n,
                                                       const std::set<std::string>& half_exact);

// Output descs for a context whose inputs are filled, from the node's shape
// function (inputs' constant values where known).
Status infer_outputs(const ir::Node& n, InferFn infer, gl::KernelContext& ctx);

// True when every present input and output of ctx fits one texture under
// `layout` (GPU tensors are not split across textures); else `why` names the
// tensor and its size. Checked before any candidate is asked, so a node
// whose tensors do not fit runs on its CPU kernel (or, gpu-only, fails
// naming itself) instead of failing the session's creation.
bool tensors_fit(const gl::KernelContext& ctx, const gl::LayoutPolicy& layout, std::string* why);

// What a context's passes are built for: input and output dtypes and shapes,
// and for each input the kernel looked at (`looked_at`, from
// KernelContext::constant while it chose and built them) its small value or
// its absence (a program may bake it into its source). An opaque key of
// bytes, compared for equality only.
std::string program_signature(const gl::KernelContext& ctx, const std::vector<bool>& looked_at);

// A GPU step whose sizes keep changing from run to run (the attention of a
// decoder whose KV cache grows a token a step), or a value its programs bake
// (the token id a Gather bakes), pays a compile for each new signature, a
// stall of milliseconds on a real GPU and tens on a software one, for work
// that is tiny. After kSizesBeforeCpu distinct signatures such a step runs
// on its CPU kernel whenever its signature is new: when `passes` (built for ctx) bake a size
// (not all ProgramInfo::shape_uniforms) and the node's work at ctx's shapes
// is at most kSmallStepFlops. Programs shared across sizes, and big nodes,
// stay on the GPU.
constexpr int kSizesBeforeCpu = 3;
constexpr double kSmallStepFlops = 1 << 22;
bool cheaper_on_cpu_than_compiled(const gl::KernelContext& ctx, const std::vector<gl::ProgramInfo>& passes);

// The first candidate whose `supports` accepts ctx (nullptr when none), and
// why each one asked before it declined.
struct CandidateChoice {
  const GpuCandidate* winner = nullptr;
  std::vector<Declined> declined;
  std::string first_reason() const;  // "name: reason" of the first decline, or ""
};
CandidateChoice choose_candidate(const std::vector<const GpuCandidate*>& candidates, const gl::KernelContext& ctx);

// The winner's passes, with the node's fused activation attached to every
// pass that writes output 0 (the shader's output store applies it).
Result<std::vector<gl::ProgramInfo>> build_passes(const GpuCandidate& c, const gl::KernelContext& ctx);

}  // namespace glint::plan
