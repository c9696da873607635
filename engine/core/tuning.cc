#include "engine/core/tuning.h"

#include <cstdlib>
#include <set>
#include <sstream>

namespace glint {

const std::vector<OptimizationSwitch>& optimization_switches() {
  static const std::vector<OptimizationSwitch> table = {
      {"packed", &OptimizationFlags::packed, "channel-packed RGBA layouts"},
      {"fuse", &OptimizationFlags::fuse, "activation fusion"},
      {"planes", &OptimizationFlags::planes, "4 pixels x 8 channels per fragment"},
      {"pool-fit", &OptimizationFlags::pool_fit, "texture reuse by best fit"},
      {"texture-reads", &OptimizationFlags::texture_reads, "texture() at texel centres"},
      {"pass-cache", &OptimizationFlags::pass_cache, "constant passes drawn once"},
      {"packed-matmul", &OptimizationFlags::packed_matmul, "MatMul operands four to a texel"},
      {"shape-uniforms", &OptimizationFlags::shape_uniforms, "programs shared across sizes"},
      {"half-weights", &OptimizationFlags::half_weights, "exact-half weights eight to a texel (off by default)"},
      {"winograd", &OptimizationFlags::winograd, "3x3 stride-1 convs as Winograd F(2x2,3x3) on the CPU backend"},
      {"flat-pooled-convs", &OptimizationFlags::flat_pooled_convs,
       "GPU: a 1x1 conv that only global pools read runs over its pixels as one row"},
      {"matmul-adds", &OptimizationFlags::matmul_adds, "a MatMul's bias and residual Adds in its epilogue"},
      {"native-division", &OptimizationFlags::native_division,
       "GLSL's own division on devices that round it correctly (CPU rasterizers)"},
  };
  return table;
}

namespace {
std::set<std::string> names_in(const std::string& list) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}
}  // namespace

OptimizationFlags parse_optimization_flags(const std::string& disable, const std::string& enable) {
  const std::set<std::string> off = names_in(disable), on = names_in(enable);
  OptimizationFlags flags;
  for (const OptimizationSwitch& s : optimization_switches()) {
    if (on.count(s.name)) flags.*s.flag = true;
    if (off.count(s.name)) flags.*s.flag = false;
  }
  return flags;
}

const OptimizationFlags& optimization_flags() {
  static const OptimizationFlags flags = [] {
    const char* disable = std::getenv("GLINT_DISABLE");
    const char* enable = std::getenv("GLINT_ENABLE");
    return parse_optimization_flags(disable ? disable : "", enable ? enable : "");
  }();
  return flags;
}

}  // namespace glint
