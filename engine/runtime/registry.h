// The kernel registry: one declarative table. A row is
// {op, domain, opset range, backend, candidates...}; for a node, the first
// candidate of the first matching row whose `supports` accepts it wins (so a
// specialised kernel, e.g. 1x1 conv, is listed before the general one).
// Shape inference functions are a sibling table keyed by op and domain.
//
// The rows live in registry_cpu.inc, registry_gpu.inc and registry_shapes.inc,
// which registry.cc includes into the tables, so each backend's rows can be
// read (and edited) on their own.
#pragma once
#include <string>
#include <vector>

#include "engine/core/fused_activation.h"
#include "engine/cpu/kernel.h"
#include "engine/gl/kernels/kernel.h"

namespace glint {

constexpr int kMaxOpset = 1000;  // "up to the latest" in a row's opset range

enum class Backend { kCpu, kGpu };

struct CpuCandidate {
  const char* name;
  cpu::CpuKernelFn run;
  // Which fused activations (fused_activation_of) the kernel applies itself,
  // e.g. in its GEMM epilogue, for an output of a dtype; the runtime applies
  // the others to output 0 after the kernel. nullptr: none.
  bool (*applies_fused_activation)(const FusedActivation& a, DataType out) = nullptr;
  bool applies(const FusedActivation& a, DataType out) const {
    return applies_fused_activation != nullptr && applies_fused_activation(a, out);
  }
};

struct GpuCandidate {
  const char* name;
  gl::GpuSupportsFn supports;  // nullptr: supports everything its row matches
  gl::GpuBuildFn build;
};

struct KernelRow {
  const char* op;
  const char* domain;  // "" = ai.onnx
  int since;
  int until;  // inclusive
  Backend backend;
  std::vector<CpuCandidate> cpu;  // for kCpu rows
  std::vector<GpuCandidate> gpu;  // for kGpu rows
};

struct ShapeRow {
  const char* op;
  const char* domain;
  InferFn infer;
};

const std::vector<KernelRow>& kernel_table();
const std::vector<ShapeRow>& shape_table();

// Lookups for a node at its resolved opset.
const CpuCandidate* find_cpu_kernel(const ir::Node& node);
std::vector<const GpuCandidate*> find_gpu_kernels(const ir::Node& node);
InferFn find_infer(const ir::Node& node);
// True when some row (any backend, any opset) names this op in this domain.
bool op_known(const std::string& op, const std::string& domain);

}  // namespace glint
