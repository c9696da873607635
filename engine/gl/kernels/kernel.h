// Checks most GPU kernels' `supports` share (the contract itself, ProgramInfo
// and KernelContext, is engine/ops/program.h: it sits below the GL layers).
#pragma once
#include <string>

#include "engine/ops/program.h"

namespace glint::gl {

// A helper most kernels use: true when every present input and output is
// float32/float16 (the dtypes the unpacked R32F layout holds exactly).
bool all_float(const KernelContext& ctx, std::string* why);

// True when every present input and output has a dtype the GPU holds (floats,
// bool, integers: see engine/gl/layout/texture_layout.h). Integer and bool
// values reach a body as exact floats (getX returns 3.0 for the int64 3), so
// kernels whose arithmetic is exact on integers accept them with this check.
bool all_gpu_dtypes(const KernelContext& ctx, std::string* why);

}  // namespace glint::gl
