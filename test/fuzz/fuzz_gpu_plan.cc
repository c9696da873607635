// libFuzzer target: the GPU half of session creation, without a GL context.
// The fuzz input is the model's bytes: parse and import (engine/onnx), the
// graph passes as a GPU session runs them, the plan for a described device
// (every GPU candidate's supports() and, where shapes are known, its
// build()), then the fragment shader of every pass composed over the
// layouts the executor would choose (engine/gl/codegen). All of that is
// GL-free, so it runs in the sanitized fuzz build, which has no GL; the CPU
// path has its own target (fuzz_model.cc). A hostile model may fail
// anywhere with a Status; a signal, a sanitizer error, a leak or a hang is
// a bug.
//
// The device: a phone-like one (4096 textures, four render targets: no
// planes layout, float bits in integer textures) or a desktop-like one
// (16384, eight render targets, float render targets), picked by the
// input's first byte, so that both layout families are composed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/gl/codegen/shader_composer.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/onnx/loader.h"
#include "engine/passes/passes.h"
#include "engine/plan/plan.h"

namespace {

using namespace glint;

// What a session's tensors may hold while it is created (fuzz_model.cc).
constexpr int64_t kMemoryCap = int64_t{256} << 20;

gl::LayoutPolicy device_policy(bool phone) {
  gl::LayoutPolicy p;
  p.max_texture_size = phone ? 4096 : 16384;
  p.max_draw_buffers = phone ? 4 : 8;
  p.float_bits = phone;
  return p;
}

// Composes every pass of one step as the executor does before drawing
// (gl/executor.cc): inputs from the node's inputs or earlier passes'
// outputs, layouts by choose_layout, planes only for vec4 bodies.
// Shaders composed (GLINT_FUZZ_VERBOSE=1 prints the count per input, to see
// that the seeds reach the composer).
int g_composed = 0;

void compose_step(const plan::Step& step, const gl::LayoutPolicy& policy) {
  const auto& passes = step.passes;
  for (size_t k = 0; k < passes.size(); ++k) {
    const gl::ProgramInfo& pass = passes[k];
    std::vector<gl::ComposerInput> inputs;
    for (const gl::ProgramInput& pi : pass.inputs) {
      auto src = gl::pass_source(pass, k, pi, step.passes_inputs.size(),
                                 [&](size_t i) { return step.passes_inputs[i].has_value(); });
      if (!src.ok()) return;
      const gl::TensorDesc* d =
          src.value().from_node ? &*step.passes_inputs[src.value().index] : &passes[src.value().index].output;
      auto layout = gl::choose_layout(*d, policy);
      if (!layout.ok()) return;
      inputs.push_back({pi.name, *d, layout.value(), true});
    }
    auto out_layout = gl::pass_output_layout(pass, policy);
    if (!out_layout.ok()) return;
    auto shader = gl::compose_fragment_shader(pass, inputs, out_layout.value(), {});
    if (shader.ok()) ++g_composed;  // an error is a fine answer
  }
}

void plan_for_gpu(const uint8_t* data, size_t size) {
  auto graph = onnx_loader::load_model(data, size);
  if (!graph.ok()) return;
  ir::Graph g = std::move(graph).value();
  passes::OptimizeOptions popts;  // a GPU session's (runtime/session.cc)
  popts.fuse_activations = true;
  popts.flatten_pooled_convs = true;
  if (!passes::optimize(g, popts).ok()) return;
  bool float16 = false;
  if (!passes::compute_float16_in_float32(g, &float16).ok()) return;
  const bool phone = size > 0 && (data[0] & 1);
  plan::Device device;
  device.layout = device_policy(phone);
  auto plan = plan::build_plan(g, plan::Policy{}, device);
  if (!plan.ok()) return;
  g_composed = 0;
  size_t gpu_steps = 0;
  for (const plan::Step& step : plan.value().steps) {
    if (step.placement != plan::Placement::kGpu) continue;
    ++gpu_steps;
    compose_step(step, *device.layout);
  }
  static const bool verbose = std::getenv("GLINT_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "gpu plan: %zu steps, %zu on the GPU, %d shaders composed\n",
                            plan.value().steps.size(), gpu_steps, g_composed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ScopedMemoryBudget charge(std::make_shared<MemoryBudget>(kMemoryCap));
  // As Session::create: a tensor past the cap is an error, not a finding.
  try {
    plan_for_gpu(data, size);
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  return 0;
}
