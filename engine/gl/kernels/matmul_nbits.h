// The GPU kernel of com.microsoft MatMulNBits (matmul_nbits.cc), bound in
// engine/registry/op_table.cc.
#pragma once
#include <string>
#include <vector>

#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

bool matmul_nbits_supports(const KernelContext& ctx, std::string* why);
Result<std::vector<ProgramInfo>> matmul_nbits_build(const KernelContext& ctx);

}  // namespace glint::gl
