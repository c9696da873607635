// Declarations of every GPU kernel (supports + build); the rows that bind
// them to ops are in engine/runtime/registry_gpu.inc.
#pragma once
#include "engine/gl/kernels/kernel.h"

namespace glint::gl {
}  // namespace glint::gl
