#include "engine/runtime/registry.h"

#include "engine/cpu/kernels.h"
#include "engine/gl/kernels/kernels.h"

namespace glint {

namespace {
bool matches(const char* op, const char* domain, const ir::Node& node) {
  std::string d = node.domain == "ai.onnx" ? "" : node.domain;
  return node.op_type == op && d == domain;
}
}  // namespace

const std::vector<KernelRow>& kernel_table() {
  static const std::vector<KernelRow> table = {
#include "engine/runtime/registry_gpu.inc"
#include "engine/runtime/registry_cpu.inc"
  };
  return table;
}

const std::vector<ShapeRow>& shape_table() {
  static const std::vector<ShapeRow> table = {
#include "engine/runtime/registry_shapes.inc"
  };
  return table;
}

const CpuCandidate* find_cpu_kernel(const ir::Node& node) {
  for (auto& row : kernel_table()) {
    if (row.backend != Backend::kCpu || !matches(row.op, row.domain, node)) continue;
    if (node.opset < row.since || node.opset > row.until) continue;
    if (!row.cpu.empty()) return &row.cpu.front();
  }
  return nullptr;
}

std::vector<const GpuCandidate*> find_gpu_kernels(const ir::Node& node) {
  std::vector<const GpuCandidate*> out;
  for (auto& row : kernel_table()) {
    if (row.backend != Backend::kGpu || !matches(row.op, row.domain, node)) continue;
    if (node.opset < row.since || node.opset > row.until) continue;
    for (auto& c : row.gpu) out.push_back(&c);
  }
  return out;
}

InferFn find_infer(const ir::Node& node) {
  for (auto& row : shape_table())
    if (matches(row.op, row.domain, node)) return row.infer;
  return nullptr;
}

bool op_known(const std::string& op, const std::string& domain) {
  std::string d = domain == "ai.onnx" ? "" : domain;
  for (auto& row : kernel_table())
    if (op == row.op && d == row.domain) return true;
  return false;
}

}  // namespace glint
