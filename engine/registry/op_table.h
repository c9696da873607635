// The op table: the one declarative list of what glint runs. A row is
//   {op, domain, opset range, shape function, CPU kernel, GPU candidates, value kernel}
// and says everything the stages above need about an op: passes read the
// shape function and the CPU kernel (shape inference, constant folding), the
// plan asks the GPU candidates in order (the first whose `supports` accepts
// a node wins, so a specialised kernel is listed before the general one, and
// `glint info` shows why the others declined), the runner calls the winner.
// Value kernels are the sequence, optional and control-flow ops, which work
// on whole values rather than tensors.
//
// The kernels themselves live in engine/cpu (CPU) and engine/gl/kernels (GPU
// programs, GL-free); their contracts in engine/ops. This folder is the one
// place that names them all, so it sits above both.
#pragma once
#include <string>
#include <vector>

#include "engine/ops/cpu_kernel.h"
#include "engine/ops/fused_activation.h"
#include "engine/ops/program.h"
#include "engine/ops/value_kernel.h"

namespace glint {

constexpr int kMaxOpset = 1000;  // "up to the latest" in an opset range

struct CpuCandidate {
  const char* name = nullptr;  // nullptr: the op has no CPU kernel
  cpu::CpuKernelFn run = nullptr;
  // Which fused activations (fused_activation_of) the kernel applies itself,
  // e.g. in its GEMM epilogue, for an output of a dtype; the runtime applies
  // the others to output 0 after the kernel. nullptr: none.
  bool (*applies_fused_activation)(const FusedActivation& a, DataType out) = nullptr;
  bool applies(const FusedActivation& a, DataType out) const {
    return applies_fused_activation != nullptr && applies_fused_activation(a, out);
  }
};

struct GpuCandidate {
  const char* name = nullptr;
  gl::GpuSupportsFn supports = nullptr;  // nullptr: supports every node its row matches
  gl::GpuBuildFn build = nullptr;
  // The opsets this candidate implements, within its row's (e.g. binary ops
  // on the GPU from 7, where legacy broadcast attributes end).
  int since = 1;
  int until = kMaxOpset;
};

struct ValueCandidate {
  const char* name = nullptr;  // nullptr: not a value op
  ValueKernelFn run = nullptr;
  // The kernel reads only its explicit inputs' data: what its bodies read
  // from outside, and return, it passes on unread (If), so the runtime may
  // hand those over in GPU memory (Value::device).
  bool passes_body_values_unread = false;
};

struct OpRow {
  const char* op;
  const char* domain;  // "" = ai.onnx
  int since;
  int until;  // inclusive
  InferFn shape;  // nullptr: no shape function (value ops)
  CpuCandidate cpu;
  std::vector<GpuCandidate> gpu;  // in the order they are asked
  ValueCandidate value;
};

const std::vector<OpRow>& op_table();

// The row for a node at its resolved opset; nullptr when none.
const OpRow* find_op(const ir::Node& node);
// Lookups for a node at its resolved opset (each nullptr / empty when none).
const CpuCandidate* find_cpu_kernel(const ir::Node& node);
std::vector<const GpuCandidate*> find_gpu_kernels(const ir::Node& node);
const ValueCandidate* find_value_kernel(const ir::Node& node);
InferFn find_infer(const ir::Node& node);
// True when some row (any opset) names this op in this domain.
bool op_known(const std::string& op, const std::string& domain);

}  // namespace glint
